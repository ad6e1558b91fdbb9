"""What a person sees while a sweep runs. It reads the recorder; it records nothing.

On a terminal: a live two-line display (rich) redrawn in place and cut to the terminal's width:
a bar with trials done of N, elapsed time and an ETA when the sweep's size is known (run_cap x
iterations per trial, or its time budget); then running / pending / stopped early / errored and
the best value so far with its trial. Above it, and alone in a log (not a terminal), one line
per finished, stopped or errored trial with its result, as Optuna prints them.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from ray.tune import Callback

from raysearch.results import (
    BEST_PREFIX,
    COMPLETED,
    CONFIG_PREFIX,
    ERRORED,
    PENDING,
    RUNNING,
    STOPPED,
    UNFINISHED,
)
from raysearch.runner.recorder import SweepRecorder

ENDED = {COMPLETED: "completed", STOPPED: "stopped early", ERRORED: "errored",
         UNFINISHED: "cut short when the sweep stopped"}
REFRESH_S = 0.5


@dataclass(frozen=True)
class SweepSize:
    """What is known in advance of how long the sweep is."""

    trials: int  # -1: not known (trials run until a timeout or a stop)
    iterations: int | None = None  # per trial, when the spec fixes it
    time_budget_s: float | None = None


class ProgressReporter(Callback):
    def __init__(self, recorder: SweepRecorder, size: SweepSize, every_s: float = 10.0,
                 live: bool | None = None):
        self.recorder, self.size, self.every_s = recorder, size, every_s
        self.live_wanted = live
        self._reset()

    def _reset(self) -> None:
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._announced: set[str] = set()
        self._live: Any = None
        self._slots = 1  # the most trials seen running at once

    def __getstate__(self) -> dict:
        return {k: getattr(self, k) for k in ("recorder", "size", "every_s", "live_wanted")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._reset()

    # -------------------------------------------------------------- Tune hooks

    def setup(self, **info: Any) -> None:
        self._reset()
        self._announced = {t for t, r in self.recorder.trials.items() if r["status"] in ENDED}
        if self.live_wanted if self.live_wanted is not None else sys.stdout.isatty():
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._render([]), console=Console(), auto_refresh=False,
                              transient=False)
            self._live.start()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._announce(trial.trial_id)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._announce(trial.trial_id)

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        self._draw(trials)

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        for trial_id in self.recorder.trials:
            self._announce(trial_id)
        self._draw(trials, force=True)
        if self._live is not None:
            self._live.stop()
            self._live = None

    # -------------------------------------------------------------- output

    def _announce(self, trial_id: str) -> None:
        row = self.recorder.trials.get(trial_id) or {}
        if row.get("status") not in ENDED or trial_id in self._announced:
            return
        self._announced.add(trial_id)
        self._print(self.trial_line(row))

    def trial_line(self, row: dict) -> str:
        metric = self.recorder.metric.name if self.recorder.metric else None
        text = f"trial {row['trial_id']} {ENDED[row['status']]}"
        if row.get("iterations"):
            n = row["iterations"]
            text += f" after {n} iteration{'' if n == 1 else 's'}"
        value = row.get(BEST_PREFIX + metric) if metric else None
        if row["status"] == ERRORED:
            text += f": {row.get('error') or 'unknown error'}"
        elif value is not None:
            text += f": {metric} {value:.4g} (best at iteration {row.get('best_iteration')})"
        config = ", ".join(f"{k.removeprefix(CONFIG_PREFIX)}={_short(v)}" for k, v in row.items()
                           if k.startswith(CONFIG_PREFIX))
        best = self._best()
        return f"{text} | {config}" + (f" | best so far {best}" if best else "")

    def _print(self, line: str) -> None:
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            print(f"raysearch: {line}", flush=True)

    def _draw(self, trials: list, force: bool = False) -> None:
        now = time.monotonic()
        if self._live is not None:
            if force or now - self._last_draw >= REFRESH_S:
                self._last_draw = now
                self._live.update(self._render(trials), refresh=True)
        elif force or now - self._last_draw >= self.every_s:
            self._last_draw = now
            print(f"raysearch: {self.status_line(trials)}", flush=True)

    def _render(self, trials: list) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        done, total, eta = self._done_total_eta()
        head = Table.grid(padding=(0, 1))
        head.add_column(width=24)
        head.add_column(no_wrap=True, overflow="ellipsis")
        clock = f"{_clock(time.monotonic() - self._started)} elapsed"
        if eta is not None:
            clock += f", ETA {_clock(eta)}"
        head.add_row(ProgressBar(total=max(total, 1e-9), completed=done, width=24),
                     Text(f"{self._of_trials()} trials  {clock}"))
        status = Text(self._counts_text(trials) + " | " + (self._best() or "no result yet"),
                      no_wrap=True, overflow="ellipsis")
        return Group(head, status)

    def status_line(self, trials: list) -> str:
        _, _, eta = self._done_total_eta()
        clock = _clock(time.monotonic() - self._started) + \
            (f", ETA {_clock(eta)}" if eta is not None else "")
        return (f"[{clock}] {self._of_trials()} trials done | "
                f"{self._counts_text(trials)} | {self._best() or 'no result yet'}")

    def _of_trials(self) -> str:
        known = self.size.trials > 0
        return f"{self._trials_done()}/{self.size.trials}" if known else str(self._trials_done())

    def _counts_text(self, trials: list) -> str:
        c = self.recorder.counts()
        pending = sum(1 for t in trials if t.status == "PENDING")
        return (f"{c[RUNNING]} running, {pending} pending, {c[STOPPED]} stopped early, "
                f"{c[ERRORED]} errored")

    def _trials_done(self) -> int:
        return sum(1 for r in self.recorder.trials.values() if r["status"] in ENDED)

    def _done_total_eta(self) -> tuple[float, float, float | None]:
        """Work done and in all (iterations when the trial length is known, else trials), for
        the bar, and the estimated seconds left (`seconds_left`)."""
        elapsed = time.monotonic() - self._started
        rows = list(self.recorder.trials.values())
        self._slots = max(self._slots, sum(1 for r in rows if r["status"] == RUNNING))
        if self.size.trials <= 0:
            done = float(self._trials_done())
            left = None if self.size.time_budget_s is None else \
                max(0.0, self.size.time_budget_s - elapsed)
            return done, done, left
        if self.size.iterations:
            per = self.size.iterations
            done = sum(per if r["status"] in ENDED else min(r.get("iterations") or 0, per)
                       for r in rows)
            total = float(per * self.size.trials)
        else:
            done, total = float(self._trials_done()), float(self.size.trials)
        eta = seconds_left(rows, self.size, self._slots)
        if self.size.time_budget_s is not None:
            left = max(0.0, self.size.time_budget_s - elapsed)
            eta = left if eta is None else min(eta, left)
        return float(done), total, eta

    def _best(self) -> str | None:
        best = self.recorder.best()
        if best is None:
            return None
        trial_id, value = best
        return f"{self.recorder.metric.name} {value:.4g} ({trial_id})"


def seconds_left(rows: list[dict], size: SweepSize, slots: int) -> float | None:
    """The sweep's remaining seconds, from what its trials measured: the seconds an iteration
    (or a trial) takes, each running trial's own pace, how far the trials that ended went
    (early stopping ends most short of their length), and how many run at once. The tail
    counts: a sweep with one trial left runs no faster than that trial. None until there is anything to go by.

    A row is a trial's record (`status`, `iterations`, `wall_time_s`, its own training time,
    which survives a resume where the elapsed time since the driver started does not)."""
    started = [r for r in rows if r["status"] != PENDING]
    ended = [r for r in started if r["status"] in ENDED]
    not_started = max(size.trials - len(started), 0)
    if size.iterations:
        trained = sum(r.get("iterations") or 0 for r in started)
        if not trained:
            return None
        per_iteration = sum(r.get("wall_time_s") or 0.0 for r in started) / trained
        length = (sum(r.get("iterations") or 0 for r in ended) / len(ended) if ended
                  else size.iterations)
        running = [max(size.iterations - (r.get("iterations") or 0), 0) * _pace(r, per_iteration)
                   for r in started if r["status"] == RUNNING]
        fresh = length * per_iteration
    else:
        if not ended:
            return None
        fresh = sum(r.get("wall_time_s") or 0.0 for r in ended) / len(ended)
        running = [max(fresh - (r.get("wall_time_s") or 0.0), 0.0)
                   for r in started if r["status"] == RUNNING]
    work = sum(running) + not_started * fresh
    return max(max(running, default=0.0), work / max(slots, 1),
               fresh if not_started else 0.0)


def _pace(row: dict, default: float) -> float:
    """A running trial's own seconds per iteration (configurations differ several-fold: a
    wide net on small batches is slow), or the sweep's before its first result."""
    iterations = row.get("iterations") or 0
    return (row.get("wall_time_s") or 0.0) / iterations if iterations else default


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
