"""Digits sweeps end to end on the session's real Ray: CLI, Python API, run folder, failures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import raysearch
from raysearch.cli import main
from tests.conftest import digits_spec

pytestmark = pytest.mark.usefixtures("ray_session")


def run_dir_of(storage: str) -> Path:
    (folder,) = Path(storage).iterdir()
    return folder


def test_cli_run_writes_the_run_folder(tmp_path, storage, capsys):
    spec = tmp_path / "digits.yaml"
    spec.write_text(yaml.safe_dump(digits_spec()))
    code = main(["run", str(spec), "--storage", storage, "--name", "cli",
                 "--set", "parameters.epochs.value=3", "--num-samples", "2", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    folder = run_dir_of(storage)
    assert folder.name.startswith("cli-")
    assert f"run folder: {folder}" in out and "best val_accuracy" in out
    assert "2 trials: 2 completed, 0 stopped early, 0 errored" in out

    resolved = yaml.safe_load((folder / "spec.yaml").read_text())
    assert resolved["run_cap"] == 2 and resolved["parameters"]["epochs"] == {"value": 3}
    assert raysearch.load_spec(resolved).resolved == resolved  # spec.yaml re-parses unchanged

    trials = pq.read_table(folder / "trials.parquet")
    assert trials.num_rows == 2
    schema = trials.schema
    assert schema.field("trial_id").type == pa.string()
    assert schema.field("status").type == pa.string()
    assert schema.field("config.lr").type == pa.float64()
    assert schema.field("config.num_layers").type == pa.int64()
    assert schema.field("config.hidden_size").type == pa.int64()
    for column in ("final.val_accuracy", "final.val_loss", "final.train_loss",
                   "best.val_accuracy", "best_iteration", "iterations", "wall_time_s",
                   "checkpoint", "error"):
        assert column in schema.names, column
    rows = trials.to_pylist()
    assert {r["status"] for r in rows} == {"completed"}
    assert {r["iterations"] for r in rows} == {3}
    assert all(Path(r["checkpoint"]).is_dir() for r in rows)

    history = pq.read_table(folder / "history.parquet")
    assert history.num_rows == 6  # 2 trials x 3 epochs
    for column, kind in (("trial_id", pa.string()), ("iteration", pa.int64()),
                         ("time_s", pa.float64()), ("val_accuracy", pa.float64()),
                         ("epoch", pa.int64()), ("config.lr", pa.float64())):
        assert history.schema.field(column).type == kind, column
    per_trial = {}
    for r in history.to_pylist():
        per_trial.setdefault(r["trial_id"], []).append(r["epoch"])
    assert all(epochs == [1, 2, 3] for epochs in per_trial.values())


def test_python_api_with_dict_and_result_object(storage):
    result = raysearch.run(digits_spec(run_cap=2), storage=storage, quiet=True)
    assert isinstance(result.trials, pa.Table) and isinstance(result.history, pa.Table)
    assert result.trials.num_rows == 2 and result.history.num_rows == 4
    best = result.best
    accuracies = result.history.column("val_accuracy").to_pylist()
    assert best.metrics["val_accuracy"] == max(accuracies)  # peak, not last epoch
    assert set(best.config) >= {"lr", "num_layers", "hidden_size", "batch_size", "epochs"}
    assert Path(best.checkpoint).is_dir()
    assert best.metrics["val_accuracy"] > 0.5  # digits learns in 2 epochs, chance is 0.1
    again = raysearch.load(result.path)  # from the folder alone
    assert again.best == best and again.trials.equals(result.trials)


@pytest.mark.parametrize("method", ["grid", "random"])
def test_max_concurrent_one_runs_trials_one_after_another(storage, method):
    """Each trial's first result comes after the previous trial's last (Ray Tune ignores
    `max_concurrent_trials` for the grid/random generator given as is: raysearch limits it)."""
    spec = digits_spec(method=method, run_cap=3, max_concurrent=1, parameters={
        **digits_spec()["parameters"], "lr": {"values": [0.01, 0.02, 0.05]},
        "num_layers": {"value": 1}, "hidden_size": {"value": 32}, "epochs": {"value": 30}})
    result = raysearch.run(spec, storage=storage, quiet=True)
    spans = {}
    for row in result.history.to_pylist():
        first, last = spans.get(row["trial_id"], (row["timestamp"], row["timestamp"]))
        spans[row["trial_id"]] = (min(first, row["timestamp"]), max(last, row["timestamp"]))
    ordered = sorted(spans.values())
    assert len(ordered) == 3
    assert all(a[1] < b[0] for a, b in zip(ordered, ordered[1:], strict=False)), ordered


USER_TRAINABLE = textwrap.dedent("""
    from ray import tune

    def quadratic(config):
        for step in range(config["steps"]):
            if config["x"] > 4:
                raise RuntimeError(f"x={config['x']} is out of range")
            tune.report({"loss": (config["x"] - 3) ** 2 + 1.0 / (step + 1)})
""")


def test_user_function_from_a_file_via_keyword_api(tmp_path, storage):
    module = tmp_path / "my_train.py"
    module.write_text(USER_TRAINABLE)
    result = raysearch.run(
        trainable=f"{module}:quadratic", metric="loss", goal="minimize", method="grid",
        parameters={"x": {"values": [1, 2, 3]}, "steps": {"value": 2}},
        storage=storage, quiet=True)
    assert result.counts["completed"] == 3
    assert result.best.config["x"] == 3
    assert result.best.metrics["loss"] == pytest.approx(0.5)


def quadratic_grid_spec(tmp_path: Path, xs: list[int]) -> Path:
    """A spec file sweeping the file-based user function over `xs` (x > 4 raises)."""
    module = tmp_path / "my_train.py"
    module.write_text(USER_TRAINABLE)
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({
        "trainable": f"{module}:quadratic", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"values": xs}, "steps": {"value": 1}}}))
    return spec


def test_crashing_trials_do_not_kill_the_sweep(tmp_path, storage, capsys):
    spec = quadratic_grid_spec(tmp_path, [2, 5, 6])
    assert main(["run", str(spec), "--storage", storage, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "1 completed, 0 stopped early, 2 errored" in out
    assert "x=5 is out of range" in out
    trials = {r["config.x"]: r for r in raysearch.load(str(run_dir_of(storage))).trials.to_pylist()}
    assert trials[5]["status"] == "errored" and "x=5 is out of range" in trials[5]["error"]
    assert trials[2]["status"] == "completed" and trials[2]["error"] is None


def test_every_trial_erroring_exits_1(tmp_path, storage, capsys):
    spec = quadratic_grid_spec(tmp_path, [5, 6])
    assert main(["run", str(spec), "--storage", storage, "--quiet"]) == 1
    assert "0 completed, 0 stopped early, 2 errored" in capsys.readouterr().out


def test_unplaceable_resources_fail_before_the_sweep(tmp_path, storage, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(digits_spec(resources={"cpu": 64})))
    assert main(["run", str(spec), "--storage", storage]) == 2
    err = capsys.readouterr().err
    assert "resources.cpu: each trial asks for 64 CPU, but the Ray cluster has 2" in err


def test_storage_as_a_uri(tmp_path):
    """--storage takes pyarrow filesystem URIs; file:// stands in for s3:// and gs:// here."""
    result = raysearch.run(digits_spec(run_cap=2), storage=f"file://{tmp_path}/uri-runs",
                           quiet=True)
    assert result.path.startswith(f"file://{tmp_path}/uri-runs/")
    (folder,) = (tmp_path / "uri-runs").iterdir()
    assert {"spec.yaml", "trials.parquet", "history.parquet", "report.html"} <= \
        {p.name for p in folder.iterdir()}
    again = raysearch.load(result.path)
    assert again.trials.num_rows == 2 and again.best == result.best
