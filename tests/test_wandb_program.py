"""A W&B sweep file with `program:` and its training script run unchanged: each trial runs the
script with W&B's command line, `import wandb` is raysearch's offline stand-in, and every
`wandb.log` reaches Ray Tune (issue #13, part 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

import raysearch
from raysearch.cli import main
from raysearch.spec.wandb import DEFAULT_COMMAND, command_line
from raysearch.wandb.program import STANDIN
from tests.conftest import ROOT

PROJECT = ROOT / "tests" / "wandb_project"
BATCHES = 11  # 1400 training samples in batches of 128: wandb.log calls per epoch


def spec_file(tmp_path, **overrides) -> str:
    """The project's sweep file, with overrides, written beside a copy of nothing: `program`
    made absolute (a relative one is taken from the spec's folder)."""
    spec = yaml.safe_load((PROJECT / "sweep.yaml").read_text())
    spec.update({"program": str(PROJECT / "train.py"), **overrides})
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def test_the_sweep_file_and_script_run_unchanged(ray_session, storage, capsys):
    address = ray_session.get_runtime_context().gcs_address
    assert main(["run", str(PROJECT / "sweep.yaml"), "--storage", storage, "--address", address,
                 "--quiet"]) == 0
    its_metrics = next(line for line in capsys.readouterr().out.splitlines()
                       if line.startswith("its metrics: "))
    assert "_step" not in its_metrics and "val_accuracy=" in its_metrics  # W&B's own keys out
    (run_dir,) = os.listdir(storage)
    result = raysearch.load(os.path.join(storage, run_dir))
    trials = result.trials.to_pylist()
    assert len(trials) == 3 and {t["status"] for t in trials} <= {"completed", "stopped"}
    history = result.history.to_pylist()
    for trial in trials:
        assert 0.001 <= trial["config.learning_rate"] <= 0.1
        assert trial["config.optimizer"] in ("adam", "sgd")
        rows = sorted((r for r in history if r["trial_id"] == trial["trial_id"]),
                      key=lambda r: r["iteration"])
        # one result per epoch (each time val_loss was logged), the batch logs riding along
        assert [r["epoch"] for r in rows] == list(range(len(rows)))
        assert len(rows) == (3 if trial["status"] == "completed" else len(rows)) >= 1
        assert [r["_step"] for r in rows] == [(BATCHES + 1) * i + BATCHES
                                              for i in range(len(rows))]
        assert all(r["batch_loss"] > 0 and 0 <= r["val_accuracy"] <= 1 for r in rows)
    spec = yaml.safe_load(open(os.path.join(result.path, "spec.yaml")))
    assert spec["program"] == str(PROJECT / "train.py")
    assert spec["command"] == list(DEFAULT_COMMAND)
    assert spec["trainable"] == "raysearch.wandb.program:run_program"
    # the run folder resumes like any other (nothing left to do here)
    assert main(["resume", result.path, "--address", address, "--quiet"]) == 0


def test_a_crashing_script_is_an_errored_trial_with_its_stderr(ray_session, tmp_path, capsys):
    spec = spec_file(tmp_path, parameters={"fail": {"value": "yes"}, "epochs": {"value": 1}},
                     run_cap=1)
    assert main(["run", spec, "--storage", str(tmp_path / "runs"), "--address",
                 ray_session.get_runtime_context().gcs_address, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "this configuration crashes on purpose" in err and "Traceback (most" not in \
        err.split("raysearch: error:")[0], err
    (run_dir,) = (tmp_path / "runs").iterdir()
    (trial,) = pq.read_table(run_dir / "trials.parquet").to_pylist()
    assert trial["status"] == "errored"
    assert "train.py exited with code 1" in trial["error"]
    assert "RuntimeError: this configuration crashes on purpose" in trial["error"]


def test_a_script_that_never_logs_the_metric_says_so_in_one_line(ray_session, tmp_path,
                                                                  capsys):
    spec = spec_file(tmp_path, program=str(PROJECT / "quiet.py"), run_cap=1,
                     parameters={"x": {"value": 1}})
    assert main(["run", spec, "--storage", str(tmp_path / "runs"), "--address",
                 ray_session.get_runtime_context().gcs_address, "--quiet"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and "reported no val_loss; it reported: _step, epoch, loss" in err[0]


def test_a_grid_without_a_metric_runs_every_config_and_records_every_log(ray_session, tmp_path,
                                                                         capsys):
    """W&B runs a grid (or random) sweep without a `metric`: nothing is ranked, each run's
    every `wandb.log` is kept. Here each log is one result; the summary and report say there
    is no metric; the run folder resumes."""
    spec = yaml.safe_load((PROJECT / "sweep.yaml").read_text())
    spec = {k: v for k, v in spec.items() if k not in ("metric", "early_terminate", "run_cap")}
    spec.update(method="grid", program=str(PROJECT / "train.py"), parameters={
        "optimizer": {"values": ["adam", "sgd"]}, "epochs": {"value": 1},
        "learning_rate": {"value": 0.05}})
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(spec))
    address = ray_session.get_runtime_context().gcs_address
    assert main(["run", str(tmp_path / "sweep.yaml"), "--storage", str(tmp_path / "runs"),
                 "--address", address, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "grid search, 2 trials, scheduler fifo, no metric" in out, out
    assert "no metric: every run is recorded, none is ranked" in out, out
    (run_dir,) = (tmp_path / "runs").iterdir()
    result = raysearch.load(str(run_dir))
    assert result.metric is None and result.best is None and not result.failed
    trials = result.trials.to_pylist()
    assert sorted(t["config.optimizer"] for t in trials) == ["adam", "sgd"]
    assert {t["status"] for t in trials} == {"completed"}
    for trial in trials:
        rows = sorted((r for r in result.history.to_pylist()
                       if r["trial_id"] == trial["trial_id"]), key=lambda r: r["iteration"])
        assert [r["_step"] for r in rows] == list(range(BATCHES + 1))  # every wandb.log
        assert rows[-1]["val_loss"] > 0 and all(r["batch_loss"] > 0 for r in rows[:-1])
    assert yaml.safe_load((run_dir / "spec.yaml").read_text())["metric"] is None
    assert "none (nothing ranked)" in (run_dir / "report.html").read_text()
    assert main(["resume", str(run_dir), "--address", address, "--quiet"]) == 0


def test_media_and_saved_files_land_in_the_trials_folder(ray_session, tmp_path, capsys):
    """wandb.Image / Table / Histogram are saved as W&B lays out a run's files, the logged
    value is their path; wandb.save and files written to wandb.run.dir land there too."""
    from PIL import Image

    spec = spec_file(tmp_path, program=str(PROJECT / "media.py"), run_cap=1,
                     metric={"name": "score", "goal": "maximize"},
                     parameters={"x": {"value": 7}})
    assert main(["run", spec, "--storage", str(tmp_path / "runs"), "--address",
                 ray_session.get_runtime_context().gcs_address, "--quiet"]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    result = raysearch.load(str(run_dir))
    (trial,) = result.trials.to_pylist()
    folder = run_dir / f"trial_{trial['trial_id']}"
    rows = sorted(result.history.to_pylist(), key=lambda r: r["iteration"])
    assert [r["score"] for r in rows] == [0.0, 1.0]
    for step, row in enumerate(rows):
        assert row["sample"].startswith(f"media/images/sample_{step}_") and \
            row["sample"].endswith(".png")
        pixels = Image.open(folder / row["sample"]).getpixel((3, 3))
        assert pixels == (40 * (step + 1),) * 3
        table = json.loads((folder / row["rows"]).read_text())
        assert table == {"columns": ["step", "value"], "data": [[step, step * 2.5]]}
        assert json.loads((folder / row["weights"]).read_text())["sequence"] == \
            [0.1, 0.2, 0.2, step]
    assert (folder / "model.txt").read_text() == "weights for x=7\n"
    assert (folder / "notes.txt").read_text() == "saved with wandb.save\n"
    assert (folder / "artifacts" / "checkpoint" / "notes.txt").read_text() == \
        "saved with wandb.save\n"
    (matrix,) = (folder / "media" / "table").glob("matrix_*.table.json")
    assert json.loads(matrix.read_text())["data"] == [
        ["Class_1", "Class_1", 1], ["Class_1", "Class_2", 0],
        ["Class_2", "Class_1", 1], ["Class_2", "Class_2", 1]]


@pytest.mark.parametrize("overrides, expected", [
    ({"program": "nope.py"}, "program: {folder}/nope.py: no such file"),
    ({"command": ["${env}", "${interpreter}", "${program}", "${argz}"]},
     "command: unknown macro ${argz} (did you mean \"${args}\"?)"),
    ({"command": "python train.py"}, "command: expected a list of strings"),
])
def test_bad_program_or_command_is_one_line_before_ray(overrides, expected, tmp_path, capsys):
    spec = yaml.safe_load((PROJECT / "sweep.yaml").read_text()) | {
        "program": str(PROJECT / "train.py")} | overrides
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(spec))
    assert main(["validate", str(tmp_path / "sweep.yaml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected.replace("{folder}", str(tmp_path)) in err[0], err


def test_validate_names_the_program_and_one_trials_command(capsys):
    assert main(["validate", str(PROJECT / "sweep.yaml")]) == 0
    out = capsys.readouterr().out
    assert f"program: {PROJECT / 'train.py'}" in out
    assert (f"one trial's command: /usr/bin/env python {PROJECT / 'train.py'} --epochs=3 "
            f"--learning_rate=0.001 --optimizer=adam") in out


def test_command_macros_expand_as_wandbs_agent_expands_them():
    """The expected lists are W&B's agent's own, from its test of create_sweep_command_args."""
    config = {"a": True, "b": False, "c": 1, "d": None}
    def line(*macros: str) -> list[str]:
        return command_line(tuple(macros), "train.py", config, "python", "/tmp/c.json")

    assert line("${args}") == ["--a=True", "--b=False", "--c=1", "--d=None"]
    assert line("${args_no_hyphens}") == ["a=True", "b=False", "c=1", "d=None"]
    assert line("${args_no_boolean_flags}") == ["--a", "--c=1", "--d=None"]
    assert line("${args_json}") == ['{"a": true, "b": false, "c": 1, "d": null}']
    assert line(*DEFAULT_COMMAND) == ["/usr/bin/env", "python", "train.py", "--a=True",
                                      "--b=False", "--c=1", "--d=None"]
    assert line("${args_json_file}", "--fixed") == ["/tmp/c.json", "--fixed"]


def test_the_standin_merges_config_commits_steps_and_sends_the_summary(tmp_path):
    """The stand-in alone, in a real subprocess, as a script sees it."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import wandb
        run = wandb.init(project="p", config={"lr": 0.5, "batch": 32})
        wandb.config.update({"lr": 0.9, "extra": 1})   # a swept key keeps the sweep's value
        assert (wandb.config.lr, wandb.config["batch"], wandb.config.extra) == (0.1, 32, 1)
        assert wandb.run is run and run.config is wandb.config
        wandb.log({"a": 1}, commit=False)              # same step
        wandb.log({"b": np.float32(2.0), "img": wandb.Image(None)})
        wandb.log({"c": 3}, step=5)                    # held until a later step or finish
        wandb.log({"d": 4}, step=6)
        run.summary["best"] = 7
        wandb.finish()
    """))
    read, write = os.pipe()
    env = {**os.environ, "PYTHONPATH": STANDIN, "RAYSEARCH_WANDB_FD": str(write),
           "RAYSEARCH_WANDB_CONFIG": json.dumps({"lr": 0.1})}
    proc = subprocess.run([sys.executable, str(script)], env=env, pass_fds=(write,),
                          capture_output=True, text=True, timeout=60)
    os.close(write)
    messages = [json.loads(line) for line in os.fdopen(read)]
    assert proc.returncode == 0, proc.stderr
    assert messages == [
        {"type": "log", "data": {"a": 1, "b": 2.0}, "step": 0},
        {"type": "log", "data": {"c": 3}, "step": 5},
        {"type": "log", "data": {"d": 4}, "step": 6},
        {"type": "summary", "data": {"a": 1, "b": 2.0, "c": 3, "d": 4, "best": 7}},
    ]


def _run_standin(tmp_path, source: str) -> subprocess.CompletedProcess:
    """A script run with the stand-in first on its path, as a trial runs it (no pipe: its
    logs go nowhere), its run folder `tmp_path / "run"`."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    (tmp_path / "run").mkdir()
    env = {**os.environ, "PYTHONPATH": STANDIN, "WANDB_DIR": str(tmp_path / "run")}
    return subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)


def test_wandb_plot_charts_are_kept_as_the_tables_they_draw(tmp_path):
    """wandb.plot's presets, logged as W&B's scripts log them: each lands as a table under
    media/table with its chart; the confusion matrix and the ROC curve hold what
    scikit-learn computes from the same labels."""
    from sklearn.metrics import confusion_matrix, roc_curve

    proc = _run_standin(tmp_path, """
        import numpy as np
        import wandb
        rng = np.random.default_rng(0)
        y = rng.integers(0, 3, 60)
        probas = rng.dirichlet(np.ones(3), 60)
        probas[np.arange(60), y] += 0.4
        np.save("y.npy", y), np.save("probas.npy", probas)
        table = wandb.Table(columns=["epoch", "loss"], data=[[0, 1.0], [1, 0.5]])
        with wandb.init() as run:
            wandb.log({"acc": 0.5,
                       "cm": wandb.plot.confusion_matrix(probs=probas, y_true=y,
                                                         class_names=["a", "b", "c"]),
                       "roc": wandb.plot.roc_curve(y, probas, labels=["a", "b", "c"]),
                       "pr": wandb.plot.pr_curve(y, probas, interp_size=11),
                       "loss_curve": wandb.plot.line(table, "epoch", "loss", title="Loss"),
                       "both": wandb.plot.line_series([0, 1], [[1, 2], [3, 4]],
                                                      keys=["u", "v"], xname="epoch")})
    """)
    assert proc.returncode == 0, proc.stderr
    media = tmp_path / "run" / "media" / "table"
    tables = {path.name.split("_0_")[0]: json.loads(path.read_text())
              for path in media.glob("*.table.json")}
    assert set(tables) == {"cm", "roc", "pr", "loss_curve", "both"}
    y, probas = np.load(tmp_path / "y.npy"), np.load(tmp_path / "probas.npy")
    expected = confusion_matrix(y, probas.argmax(1))
    names = ["a", "b", "c"]
    assert tables["cm"]["columns"] == ["Actual", "Predicted", "nPredictions"]
    assert tables["cm"]["data"] == [[names[i], names[j], int(expected[i, j])]
                                    for i in range(3) for j in range(3)]
    assert tables["cm"]["chart"]["preset"] == "wandb/confusion_matrix/v1"
    fpr, tpr, _ = roc_curve(y, probas[:, 1], pos_label=1)
    assert [row[1:] for row in tables["roc"]["data"] if row[0] == "b"] == \
        [[round(float(f), 3), round(float(t), 3)] for f, t in zip(fpr, tpr, strict=True)]
    pr = [row for row in tables["pr"]["data"] if row[0] == 0]
    assert [row[1] for row in pr] == [round(1 - i / 10, 3) for i in range(11)]
    assert all(0 <= row[2] <= 1 for row in pr) and pr[-1][2] == 1.0
    assert tables["loss_curve"]["data"] == [[0, 1.0], [1, 0.5]]
    assert tables["loss_curve"]["chart"] == {"preset": "wandb/line/v0", "title": "Loss",
                                             "fields": {"x": "epoch", "y": "loss",
                                                        "stroke": None}}
    assert tables["both"]["data"] == [[0, "u", 1], [1, "u", 2], [0, "v", 3], [1, "v", 4]]


def test_artifacts_are_kept_and_what_needs_wandbs_server_says_so(tmp_path):
    """A logged artifact's files are copied into the run's folder; what only W&B's server
    can answer (a named artifact, wandb.Api, wandb.restore) is one clear error, and so is a
    name the stand-in lacks; the run's W&B attributes scripts read are there."""
    proc = _run_standin(tmp_path, """
        import os
        import wandb
        os.makedirs("weights/sub")
        open("weights/model.pt", "w").write("w1")
        open("weights/sub/head.pt", "w").write("w2")
        run = wandb.init(project="p", entity="e", job_type="train")
        print(run.path, run.url, run.offline, run.job_type, len(wandb.util.generate_id()))
        artifact = wandb.Artifact("mnist model:best", type="model", metadata={"acc": 0.9})
        artifact.add_file("weights/model.pt")
        with artifact.new_file("notes.txt") as f:
            f.write("kept")
        run.log_artifact(artifact)
        wandb.log_model("weights", name="all-weights")
        wandb.termwarn("almost done")
        for attempt in (lambda: wandb.use_artifact("dataset:latest"), wandb.Api,
                        lambda: wandb.restore("model.h5"), lambda: wandb.plot3d,
                        lambda: run.link_model):
            try:
                attempt()
            except (wandb.Error, AttributeError) as error:
                print("ERROR", type(error).__name__, error)
        wandb.finish()
    """)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "e/p/raysearch None True train 8"
    errors = [line for line in out if line.startswith("ERROR")]
    assert len(errors) == 5 and all("offline" in line for line in errors), errors
    assert errors[0].startswith("ERROR Error use_artifact('dataset:latest'): artifacts on "
                                "W&B's server cannot be fetched")
    assert errors[3].startswith("ERROR AttributeError wandb.plot3d: not in raysearch's offline")
    assert "wandb: WARNING almost done" in proc.stderr
    kept = tmp_path / "run" / "artifacts"
    assert (kept / "mnist_model_best" / "model.pt").read_text() == "w1"
    assert (kept / "mnist_model_best" / "notes.txt").read_text() == "kept"
    assert json.loads((kept / "mnist_model_best" / "wandb_artifact.json").read_text())[
        "metadata"] == {"acc": 0.9}
    assert (kept / "all-weights" / "sub" / "head.pt").read_text() == "w2"


def test_the_notebook_path_runs_with_one_changed_line(ray_session, storage):
    """W&B's tutorial: `sweep_id = wandb.sweep(sweep_config)`, then
    `wandb.agent(sweep_id, train, count=3)`; only the import changed."""
    from tests.wandb_project import notebook

    sweep_id = notebook.wandb.sweep(notebook.sweep_config, project="pytorch-sweeps-demo")
    result = notebook.wandb.agent(sweep_id, notebook.train, count=3, storage=storage,
                                  quiet=True)
    trials = result.trials.to_pylist()
    assert len(trials) == 3 and all(t["status"] == "completed" for t in trials)
    assert {t["config.fc_layer_size"] for t in trials} <= {16, 32}
    history = result.history.to_pylist()
    for trial in trials:
        rows = sorted((r for r in history if r["trial_id"] == trial["trial_id"]),
                      key=lambda r: r["iteration"])
        assert [r["epoch"] for r in rows] == [0, 1] and all(r["loss"] > 0 for r in rows)
        assert all(r["batch loss"] > 0 for r in rows)
    assert result.spec["metric"] == {"name": "loss", "goal": "minimize"}
    # the notebook's own process state is untouched by the trials
    assert notebook.wandb.run is None


def test_agent_with_an_unknown_sweep_id_is_a_clear_error():
    import raysearch.wandb as wandb

    with pytest.raises(raysearch.SpecError, match="unknown sweep id 'nope'"):
        wandb.agent("nope", function=lambda: None)
