"""`raysearch runs`: the run folders of a storage, one line each, with how each sweep's latest
session ended (what can be resumed), its trials and its best value."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

import raysearch
from raysearch.cli import main
from tests.test_report import synthetic_run


def make_run(storage, name: str, summary: dict, trials: int = 3):
    """A run folder written by hand (test_report's synthetic run) with this summary.json."""
    folder = storage / name
    folder.mkdir(parents=True)
    result = synthetic_run(folder, trials)
    (folder / "summary.json").write_text(json.dumps(summary))
    return result


def test_runs_lists_each_folder_with_how_it_ended_oldest_first(tmp_path, capsys):
    storage = tmp_path / "runs"
    finished = make_run(storage, "b-finished", {"started": 2000.0, "finished": True,
                                                "wall_time_s": 12.0})
    make_run(storage, "a-interrupted", {"started": 3000.0, "finished": False,
                                        "interrupted_by": "SIGINT"})
    make_run(storage, "c-killed", {"started": 1000.0, "finished": False})
    (storage / "not-a-run").mkdir()
    (storage / "broken").mkdir()
    (storage / "broken" / "spec.yaml").write_text("name: [unclosed\n")

    runs = raysearch.list_runs(str(storage))
    assert [(r.name, r.state) for r in runs] == [
        ("broken", "unreadable"), ("c-killed", "running, or killed"),
        ("b-finished", "finished"), ("a-interrupted", "interrupted (SIGINT)")]
    done = runs[2]
    assert done.best_value == finished.best_value and done.metric == "value"
    assert sum(done.counts.values()) == pq.read_metadata(
        storage / "b-finished" / "trials.parquet").num_rows == 3
    assert [r.resumable for r in runs] == [False, True, False, True]

    assert main(["runs", str(storage)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["started", "(UTC)", "state"]
    row = next(line for line in lines if line.endswith("b-finished"))
    assert "1970-01-01 00:33:20  finished" in row and f"value {finished.best_value:.4g}" in row
    assert " 12 s " in row and "3/0/0" in row
    assert lines[-2].startswith(f"unreadable: {storage / 'broken' / 'spec.yaml'}: not "
                                "readable YAML")
    assert lines[-1] == ("continue an interrupted, failed, stopped or killed sweep with: "
                         "raysearch resume RUN_DIR")


def test_a_run_folder_whose_spec_yaml_is_damaged_is_one_line_for_every_command(tmp_path,
                                                                               capsys):
    """report, evaluate, export, resume and raysearch.load on a damaged spec.yaml: one line
    naming the file, exit 2 (it was YAML's traceback)."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "spec.yaml").write_text("name: [unclosed\n")
    for command in (["report", str(folder)], ["evaluate", str(folder)], ["resume", str(folder)],
                    ["export", str(folder), "--optuna", f"sqlite:///{tmp_path}/s.db"]):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert err.startswith(f"raysearch: error: {folder / 'spec.yaml'}: not readable YAML "
                              f"(expected ',' or ']', but got '<stream end>', line 2)"), err
        assert err.count("\n") == 1
    (folder / "spec.yaml").write_text("- a list\n")
    with pytest.raises(raysearch.SpecError, match="expected the sweep's spec"):
        raysearch.load(folder)


def test_runs_of_an_empty_or_missing_storage(tmp_path, capsys):
    assert main(["runs", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"raysearch: no run folders in {tmp_path}\n"
    assert main(["runs", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err == f"raysearch: error: {tmp_path / 'nope'}: no such folder\n"


def _claim(folder, pid: int, host: str | None = None) -> None:
    """A driver's claim on a run folder, as `results.driver.claim` writes it for `pid`."""
    import socket

    from raysearch.results.driver import DRIVER_FILE, _process_start

    path = folder / DRIVER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": host or socket.gethostname(), "pid": pid,
                                "process_start": _process_start(pid)}))


def test_a_running_sweep_is_told_from_a_killed_one_and_resume_refuses_it(tmp_path, capsys):
    """A sweep with no end written: `running` while the process that claimed its folder lives
    (resume refuses it, one line, before Ray), `killed` once that process is gone (resume
    goes ahead), unknown when it was driven from another host."""
    import subprocess
    import sys

    storage = tmp_path / "runs"
    unended = {"started": 1000.0, "finished": False}
    for name in ("live", "dead", "elsewhere"):
        make_run(storage, name, unended)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    gone = subprocess.Popen(["true"])
    gone.wait()  # ended and reaped (a killed driver)
    try:
        _claim(storage / "live", sleeper.pid)
        _claim(storage / "dead", gone.pid)
        _claim(storage / "elsewhere", sleeper.pid, host="another-host")
        states = {r.name: (r.state, r.resumable) for r in raysearch.list_runs(str(storage))}
        assert states == {"live": ("running", False), "dead": ("killed", True),
                          "elsewhere": ("running, or killed", True)}
        assert main(["resume", str(storage / "live")]) == 2
        err = capsys.readouterr().err
        assert err == (f"raysearch: error: {storage / 'live'}: its sweep is still running "
                       f"(pid {sleeper.pid} on this machine); stop it first (Ctrl-C there, or "
                       f"kill {sleeper.pid}), then resume\n")
    finally:
        sleeper.kill()
        sleeper.wait()
    states = {r.name: r.state for r in raysearch.list_runs(str(storage))}
    assert states["live"] == "killed"
