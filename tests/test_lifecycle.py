"""A sweep's life as a user lives it: where it runs, Ctrl-C / SIGTERM and resume, the Python
result object, the name and version."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

import raysearch
from raysearch.cli import main
from raysearch.results import TrialTraceback, read_rows
from raysearch.runner.failures import quiet_ray_logs
from tests.conftest import ROOT, digits_spec, run_probe
from tests.test_resume import max_iteration, wait_for

EPOCHS = 120


def long_spec(tmp_path: Path, name: str = "long") -> Path:
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(yaml.safe_dump(digits_spec(
        name=name, run_cap=2, checkpoint={"every": 5, "keep": 1},
        parameters={**digits_spec()["parameters"], "epochs": {"value": EPOCHS}})))
    return spec


def driver(argv: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "raysearch", *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


@pytest.mark.slow
@pytest.mark.parametrize("sig,code,moved", [(signal.SIGINT, 130, False),
                                            (signal.SIGTERM, 143, True)])
def test_signal_stops_cleanly_and_resume_finishes(ray_session, tmp_path, sig, code, moved,
                                                  capsys):
    """Interrupted, then resumed with --quiet: in place, or after the run folder moved (copied
    off a cluster, say). The resumed session records into the folder it was given (Tune's
    pickled callbacks wrote the tables back at the old path) and stays quiet (they showed the
    first session's progress)."""
    storage = tmp_path / "runs"
    address = ray_session.get_runtime_context().gcs_address
    proc = driver(["run", str(long_spec(tmp_path)), "--storage", str(storage),
                   "--address", address])  # with progress: the resume below is --quiet
    wait_for(lambda: max_iteration(storage) >= 10, 120, "some epochs to be recorded")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    (run_dir,) = storage.iterdir()
    assert proc.returncode == code, err
    assert f"interrupted ({sig.name}); continue with: raysearch resume {run_dir}" in err
    assert "Traceback" not in err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["finished"] is False and summary["interrupted_by"] == sig.name
    before = read_rows(str(run_dir), "history.parquet")
    assert before and max(r["iteration"] for r in before) < EPOCHS  # really interrupted
    statuses = {r["status"] for r in read_rows(str(run_dir), "trials.parquet")}
    assert statuses & {"running", "pending"}, statuses  # unfinished, not "completed"

    if moved:
        (tmp_path / "elsewhere").mkdir()
        run_dir = Path(shutil.move(run_dir, tmp_path / "elsewhere" / run_dir.name))
    assert main(["resume", str(run_dir), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "2 trials: 2 completed" in out and "trials done" not in out, out
    assert not moved or not list(storage.iterdir())  # nothing written at the old path
    after = read_rows(str(run_dir), "history.parquet")
    assert {(r["trial_id"], r["iteration"]) for r in before} <= \
        {(r["trial_id"], r["iteration"]) for r in after}  # nothing recorded was lost
    for trial in {r["trial_id"] for r in after}:
        rows = [r for r in after if r["trial_id"] == trial]
        assert sorted(r["iteration"] for r in rows) == list(range(1, EPOCHS + 1))
    assert json.loads((run_dir / "summary.json").read_text())["finished"] is True


def test_an_address_that_does_not_answer_fails_fast_and_leaves_nothing(tmp_path):
    storage = tmp_path / "runs"
    proc = driver(["run", str(long_spec(tmp_path)), "--storage", str(storage),
                   "--address", "127.0.0.1:1"])
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert err.strip().splitlines() == [
        "raysearch: error: --address 127.0.0.1:1: no Ray cluster answers there (Connection "
        "refused); check the address, start one with `ray start --head`, or drop it to run on "
        "an embedded local Ray"]
    assert not storage.exists() or not list(storage.iterdir())


@pytest.mark.slow
def test_without_an_address_a_private_ray_starts_even_when_one_runs(ray_session, tmp_path):
    """The test session's Ray is running on this machine; `raysearch run` must not join it."""
    storage = tmp_path / "runs"
    spec = tmp_path / "quick.yaml"
    spec.write_text(yaml.safe_dump(digits_spec(run_cap=1)))
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.run([sys.executable, "-m", "raysearch", "run", str(spec), "--storage",
                           str(storage), "--quiet"], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = storage.iterdir()
    (trial,) = pq.read_table(run_dir / "trials.parquet").to_pylist()
    assert trial["node"] and trial["node"] != ray_session.get_runtime_context().get_node_id()


EPILOGUE_PROBE = r"""
import json, sys, threading
import psutil, ray
import raysearch, raysearch.report
from tests.conftest import digits_spec, ray_objects_in_cycles

events, cycles, kept = [], [], []

def watched(name, function):
    def call(*args, **kwargs):
        events.append([name, "start", threading.current_thread().name])
        try:
            return function(*args, **kwargs)
        finally:
            events.append([name, "end", threading.current_thread().name])
    return call

from raysearch.runner.session import RaySession
RaySession.close_early = watched("close_early", RaySession.close_early)
ray.shutdown = watched("ray.shutdown", ray.shutdown)
shutdown = ray.shutdown

def checked(*args, **kwargs):
    cycles.append(ray_objects_in_cycles(kept))
    return shutdown(*args, **kwargs)

ray.shutdown = checked
raysearch.report.write_report = watched("report", raysearch.report.write_report)
for name in ("first", "second"):
    result = raysearch.run(digits_spec(name=name, run_cap=1), storage=sys.argv[1], quiet=True)
    events.append(["returned", ray.is_initialized(), "test" in result.summary,
                   [p.name() for p in psutil.Process().children(recursive=True)]])
print("PROBE " + json.dumps(events))
print("CYCLES " + json.dumps(cycles))
"""


@pytest.mark.slow
def test_the_epilogue_runs_while_the_embedded_ray_shuts_down_and_run_returns_without_it(
        tmp_path):
    """The test-set evaluation and the report need no Ray: the driver hands Ray's shutdown to a
    thread of its own before them; `raysearch.run` returns once Ray is gone (nothing of it
    left), so a second sweep in the same process starts its own; no Ray object waits in a
    reference cycle when the shutdown starts (freed then, in any thread, it would end the
    process). Only what the code orders is asserted (which of the two threads finishes first
    is the machine's)."""
    printed = run_probe(EPILOGUE_PROBE, str(tmp_path))
    raw = printed["PROBE"]
    events = [tuple(e[:2]) if e[0] != "returned" else tuple(e) for e in raw]
    for sweep in (events[:7], events[7:]):
        assert sorted(sweep[:6]) == [("close_early", "end"), ("close_early", "start"),
                                     ("ray.shutdown", "end"), ("ray.shutdown", "start"),
                                     ("report", "end"), ("report", "start")], events
        assert sweep.index(("close_early", "end")) < sweep.index(("report", "start")), events
        assert sweep[6] == ("returned", False, True, []), events
    assert printed["CYCLES"] == [[], []]  # nothing of Ray's left to free
    threads = {e[0]: e[2] for e in raw if e[0] != "returned"}
    assert threads == {"close_early": "MainThread", "report": "MainThread",
                       "ray.shutdown": "raysearch-ray-shutdown"}


def test_a_full_disk_in_a_background_thread_adds_no_traceback_to_the_sweeps_one_line(
        monkeypatch):
    """tensorboardX flushes its event files in a thread of its own: on a full disk, the sweep
    stops with one line and that thread's traceback must not follow it (CI's chaos run printed
    one). Any other error in a thread shows as Python shows it; --verbose and the time after
    the sweep are left alone."""
    shown = []
    monkeypatch.setattr(threading, "excepthook",
                        lambda args: shown.append(type(args.exc_value).__name__))

    def in_a_thread(exc: BaseException) -> None:
        def fail() -> None:
            raise exc
        thread = threading.Thread(target=fail)
        thread.start()
        thread.join()

    full = OSError(errno.ENOSPC, "No space left on device")
    with quiet_ray_logs(verbose=False):
        in_a_thread(full)
        in_a_thread(ValueError("a bug"))
        in_a_thread(OSError(errno.EACCES, "Permission denied"))
    assert shown == ["ValueError", "PermissionError"]
    in_a_thread(full)
    with quiet_ray_logs(verbose=True):
        in_a_thread(full)
    assert shown == ["ValueError", "PermissionError", "OSError", "OSError"]


@pytest.mark.usefixtures("ray_session")
def test_python_result_object_and_summary(storage, capsys):
    result = raysearch.run(digits_spec(run_cap=2), storage=storage, name="renamed")
    out = capsys.readouterr().out
    assert "sweep renamed: 2 trials: 2 completed" in out  # run() prints the summary
    assert Path(result.path).name.startswith("renamed-") and result.spec["name"] == "renamed"
    assert result.best_value == result.best.metrics["val_accuracy"]
    assert repr(result).startswith("SweepResult('renamed', 2 trials: 2 completed, best ")
    frame = result.trials_dataframe()
    assert list(frame["best.val_accuracy"]) == sorted(frame["best.val_accuracy"], reverse=True)
    assert "<title>raysearch: renamed</title>" in (Path(result.path) / "report.html").read_text()
    raysearch.run(digits_spec(run_cap=1), storage=storage, quiet=True)
    assert capsys.readouterr().out == ""


def test_version_and_single_error_prefix(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == \
        f"raysearch {raysearch.__version__}"
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("raysearch: error: the following arguments are required: spec")
    assert err.count("raysearch") == 2  # the prefix once, and the help hint


@pytest.mark.parametrize("spec, code", [("examples/digits.yaml", 0), ("pyproject.toml", 2)])
def test_the_command_exits_with_mains_code_its_objects_frozen_out_of_the_last_collection(
        spec, code):
    """`raysearch` (the installed command and `python -m raysearch`) is `main`, then a quick
    exit: atexit handlers still run, and what the process holds is frozen (gc.freeze) so that
    Python's finalisation does not walk it."""
    probe = ("import atexit, gc; atexit.register(lambda: print('FROZEN', gc.get_freeze_count()));"
             "import runpy; runpy.run_module('raysearch', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", probe, "validate", spec], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == code, proc.stderr
    (frozen,) = [int(line.split()[1]) for line in proc.stdout.splitlines()
                 if line.startswith("FROZEN")]
    assert frozen > 1000
    script = Path(sys.executable).with_name("raysearch")
    assert "from raysearch.cli import console" in script.read_text()


BAD_TRAINABLES = '''
from ray import tune

def no_metric(config):
    for i in range(2):
        tune.report({"loss": 1.0 / (i + 1), "epoch": i})

def text_metric(config):
    tune.report({"val_loss": "abc"})

def raises(config):
    raise ValueError(f"bad lr {config['lr']:.2f}")
'''


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("function,expected", [
    ("no_metric", r"raysearch: error: trial \w+ reported no val_loss; it reported: epoch, loss"),
    ("text_metric", r"raysearch: error: trial \w+ reported val_loss='abc', not a number"),
    ("raises", r"raysearch: error: trial \w+: ValueError: bad lr 0\.[12]\d"),
])
def test_a_trainable_that_fails_the_sweep_is_one_line_per_trial(function, expected, tmp_path,
                                                                 storage, capsys):
    import re

    module = tmp_path / "bad.py"
    module.write_text(BAD_TRAINABLES)
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({"method": "random", "run_cap": 2,
                                    "metric": {"name": "val_loss", "goal": "minimize"},
                                    "parameters": {"lr": {"min": 0.1, "max": 0.2}}}))
    assert main(["run", str(spec), "--trainable", f"{module}:{function}", "--storage", storage,
                 "--quiet"]) == 1
    out, err = capsys.readouterr()
    problems = [line for line in err.splitlines() if line.startswith("raysearch: error: ")]
    assert problems and all(re.fullmatch(expected, p.split(" (report")[0]) for p in problems), err
    assert "Traceback" not in err and "Traceback" not in out
    assert "sweep " in out  # the summary still tells what ran
    (run_dir,) = Path(storage).iterdir()
    assert json.loads((run_dir / "summary.json").read_text())["finished"] is (function != "no_metric")


@pytest.mark.usefixtures("ray_session")
def test_fail_fast_stops_at_the_first_failed_trial_and_resume_goes_on(tmp_path, storage,
                                                                       capsys):
    """One trial at a time over a grid whose second point raises: with fail_fast the sweep
    ends there (exit 1, the failure named), what ran is recorded, and the trial's own
    exception can be read back, of its own type, with its traceback. Once the cause is gone,
    resume retries the failed trial and runs the rest of the grid."""
    broken = tmp_path / "broken"
    broken.write_text("")
    module = tmp_path / "grid_fn.py"
    module.write_text(f"""
import os
from ray import tune

def raises_at_two(config):
    if config["x"] == 2 and os.path.exists({str(broken)!r}):
        raise KeyError("x=2 breaks")
    tune.report({{"loss": config["x"]}})
""")
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({
        "method": "grid", "fail_fast": True, "max_concurrent": 1,
        "trainable": f"{module}:raises_at_two", "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"values": [1, 2, 3, 4, 5]}}}))
    assert main(["run", str(spec), "--storage", storage, "--quiet"]) == 1
    out, err = capsys.readouterr()
    assert re.search(r"raysearch: error: trial \w+: KeyError: 'x=2 breaks' \(fail_fast stopped "
                     r"the sweep\)", err), err
    assert re.search(r"fail_fast: the sweep stopped when trial \w+ failed", out), out
    (run_dir,) = Path(storage).iterdir()
    result = raysearch.load(run_dir)
    by_x = {r["config.x"]: r for r in result.trials.to_pylist()}
    assert by_x[1]["status"] == "completed" and by_x[2]["status"] == "errored"
    assert not any(by_x.get(x, {}).get("status") == "completed" for x in (3, 4, 5)), by_x
    error = result.trial_error(by_x[2]["trial_id"])
    assert type(error) is KeyError and error.args == ("x=2 breaks",)
    assert isinstance(error.__cause__, TrialTraceback)
    assert 'raise KeyError("x=2 breaks")' in str(error.__cause__)
    assert result.trial_error(by_x[1]["trial_id"]) is None  # it raised nothing
    (listed,) = raysearch.list_runs(storage)
    assert listed.state == "stopped (fail_fast)" and listed.resumable
    assert "stopped by fail_fast at a failed trial" in (run_dir / "report.html").read_text()

    broken.unlink()  # the cause fixed: resume retries the trial and goes on with the grid
    assert main(["resume", str(run_dir), "--quiet"]) == 0
    result = raysearch.load(run_dir)
    after = {r["config.x"]: r for r in result.trials.to_pylist()}
    assert sorted(after) == [1, 2, 3, 4, 5], after
    assert all(r["status"] == "completed" for r in after.values()), after
    assert after[2]["trial_id"] == by_x[2]["trial_id"]  # the same trial, retried
    history = result.history.to_pylist()
    assert len([h for h in history if h["trial_id"] == by_x[1]["trial_id"]]) == 1  # kept
    assert raysearch.list_runs(storage)[0].state == "finished"
    # finished, none errored: nothing to resume, and the folder is left as it is (its wall
    # time was counted again, Ray started for nothing)
    summary = (run_dir / "summary.json").read_bytes()
    capsys.readouterr()
    assert main(["resume", str(run_dir), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "the sweep finished (5 trials, none errored): nothing to resume" in err, err
    assert "sweep " in out and (run_dir / "summary.json").read_bytes() == summary


MAIN_SCRIPT = """
import sys
import raysearch
from trainables.classifiers import digits_mlp

def train(config):  # lives in __main__: no importable name
    digits_mlp(config, checkpoint_every=5)

raysearch.run(trainable=train, metric="val_accuracy", goal="maximize", run_cap=2,
              parameters={"lr": {"value": 0.01}, "num_layers": {"values": [1, 2]},
                          "hidden_size": {"value": 32}, "batch_size": {"value": 64},
                          "epochs": {"value": EPOCHS}},
              storage=sys.argv[1], address=sys.argv[2], quiet=True)
""".replace("EPOCHS", str(EPOCHS))


@pytest.mark.slow
def test_a_sweep_of_a_function_in_main_resumes_from_the_cli(ray_session, tmp_path, capsys):
    script, storage = tmp_path / "notebook.py", tmp_path / "runs"
    script.write_text(MAIN_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(storage),
                             ray_session.get_runtime_context().gcs_address], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: max_iteration(storage) >= 10, 120, "some epochs to be recorded")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert "SweepInterrupted" in err, err[-2000:]  # raised to the script's caller
    (run_dir,) = storage.iterdir()
    assert yaml.safe_load((run_dir / "spec.yaml").read_text())["trainable"] == "__main__:train"
    assert main(["resume", str(run_dir), "--quiet"]) == 0
    assert "2 trials: 2 completed" in capsys.readouterr().out
