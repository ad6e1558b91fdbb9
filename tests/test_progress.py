"""Progress a person reads: one line per ended trial in a log, a live display that fits the
terminal's width."""

from __future__ import annotations

import io
import re

import pytest
import yaml

from raysearch.cli import main
from raysearch.runner.progress import ProgressReporter, SweepSize
from raysearch.runner.recorder import SweepRecorder
from raysearch.types import Metric
from tests.conftest import digits_spec


@pytest.mark.usefixtures("ray_session")
def test_a_log_gets_one_line_per_ended_trial(tmp_path, storage, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(digits_spec(run_cap=3)))
    assert main(["run", str(spec), "--storage", storage]) == 0
    out = capsys.readouterr().out
    ended = re.findall(r"^raysearch: trial (\w+) completed after 2 iterations: val_accuracy "
                       r"[\d.]+ \(best at iteration \d\) \| .*lr=.* \| best so far val_accuracy",
                       out, re.M)
    assert len(set(ended)) == 3, out
    assert re.search(r"^raysearch: \[\d:\d\d:\d\d.*\] 3/3 trials done \| 0 running", out, re.M)


def test_the_live_display_fits_an_80_column_terminal_and_shows_an_eta(tmp_path):
    from rich.console import Console

    recorder = SweepRecorder(str(tmp_path), Metric("val_accuracy_with_a_long_name", "maximize"))
    for i, status in enumerate(["completed", "stopped", "running", "running"]):
        recorder.trials[f"abcdef_{i:05d}"] = {
            "trial_id": f"abcdef_{i:05d}", "status": status, "iterations": 2 + i,
            "best.val_accuracy_with_a_long_name": 0.8 + i / 100, "best_iteration": 2,
            "config.learning_rate": 0.001234 * (i + 1), "config.hidden_size": 64}
    reporter = ProgressReporter(recorder, SweepSize(trials=16, iterations=8), live=False)
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(reporter._render([]))
    lines = console.file.getvalue().splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines), lines
    assert "2/16 trials" in lines[0] and "ETA" in lines[0]
    assert lines[1].startswith("2 running, 0 pending, 1 stopped early, 0 errored | ")
    line = reporter.trial_line(recorder.trials["abcdef_00001"])
    assert line.startswith("trial abcdef_00001 stopped early after 3 iterations: "
                           "val_accuracy_with_a_long_name 0.81 (best at iteration 2)")
    one = {**recorder.trials["abcdef_00001"], "iterations": 1, "best_iteration": 1}
    assert reporter.trial_line(one).startswith("trial abcdef_00001 stopped early after 1 "
                                               "iteration: ")
