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


def _row(status: str, iterations: int, seconds: float) -> dict:
    return {"status": status, "iterations": iterations, "wall_time_s": seconds}


def test_the_eta_counts_the_last_trials_running_alone():
    from raysearch.runner.progress import seconds_left

    size = SweepSize(trials=4, iterations=8)
    # Three ended (two stopped early after 2 iterations), one survivor at iteration 4 of 8,
    # 5 s an iteration: it needs 20 s more, alone, though most of the work is done.
    rows = [_row("completed", 8, 40.0), _row("stopped", 2, 10.0), _row("stopped", 2, 10.0),
            _row("running", 4, 20.0)]
    assert seconds_left(rows, size, slots=2) == pytest.approx(20.0)
    # A slower configuration (10 s an iteration) goes at its own pace, not the sweep's.
    rows[-1] = _row("running", 4, 40.0)
    assert seconds_left(rows, size, slots=2) == pytest.approx(40.0)
    # Early stopping measured: trials still to start are expected to run as far as the ended
    # ones did on average (4 iterations here), the work shared by the slots.
    rows = [_row("completed", 8, 40.0), _row("stopped", 2, 10.0), _row("stopped", 2, 10.0)]
    size = SweepSize(trials=11, iterations=8)
    assert seconds_left(rows, size, slots=2) == pytest.approx(8 * 4 * 5.0 / 2)
    assert seconds_left([_row("pending", 0, 0.0)], size, slots=2) is None


def test_the_eta_without_a_known_trial_length_goes_by_the_trials_that_ended():
    from raysearch.runner.progress import seconds_left

    size = SweepSize(trials=5)
    assert seconds_left([_row("running", 3, 6.0)], size, slots=2) is None
    rows = [_row("completed", 3, 10.0), _row("errored", 1, 2.0), _row("running", 2, 1.0)]
    # 6 s a trial on average; the running one has 5 s left, two more to start.
    assert seconds_left(rows, size, slots=2) == pytest.approx((5 + 2 * 6) / 2)


def test_the_live_eta_is_that_of_the_trials_not_of_the_elapsed_time(tmp_path):
    """A resumed sweep's clock starts again, its trials' times do not: the ETA goes by the
    trials' own times (one left at iteration 4 of 8, 5 s an iteration: 20 s), where the work
    done over the seconds since start-up said almost nothing was left."""
    recorder = SweepRecorder(str(tmp_path), Metric("loss", "minimize"))
    for i, row in enumerate([_row("completed", 8, 40.0), _row("stopped", 2, 10.0),
                             _row("stopped", 2, 10.0), _row("running", 4, 20.0)]):
        recorder.trials[f"t{i}"] = {"trial_id": f"t{i}", **row}
    reporter = ProgressReporter(recorder, SweepSize(trials=4, iterations=8), live=False)
    done, total, eta = reporter._done_total_eta()
    assert (done, total) == (28, 32)
    assert 19 <= eta <= 20
