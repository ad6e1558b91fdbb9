"""What a person sees while a sweep runs: one status line, redrawn in place on a terminal or
printed every `every_s` seconds into a log. It reads the recorder; it records nothing."""

from __future__ import annotations

import sys
import time
from typing import Any

from ray.tune import Callback

from raysearch.results import COMPLETED, ERRORED, RUNNING, STOPPED
from raysearch.runner.recorder import SweepRecorder


class ProgressReporter(Callback):
    def __init__(self, recorder: SweepRecorder, every_s: float = 10.0):
        self.recorder = recorder
        self.every_s = every_s
        self._reset()

    def _reset(self) -> None:
        self._started = time.monotonic()
        self._last_print = 0.0
        self._live = sys.stdout.isatty()  # redraw one status line in place on a terminal

    def __getstate__(self) -> dict:
        return {"recorder": self.recorder, "every_s": self.every_s}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._reset()

    def setup(self, **info: Any) -> None:
        self._reset()

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict,
                        **info: Any) -> None:
        self._maybe_print(trials)

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        self._maybe_print(trials)

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        if self._live:
            print(flush=True)  # leave the redrawn status line in place

    def _maybe_print(self, trials: list) -> None:
        now = time.monotonic()
        if now - self._last_print < (1.0 if self._live else self.every_s):
            return
        self._last_print = now
        line = self.status_line(trials, now - self._started)
        if self._live:
            print(f"\r\x1b[K{line}", end="", flush=True)
        else:
            print(line, flush=True)

    def status_line(self, trials: list, elapsed: float) -> str:
        c = self.recorder.counts()
        pending = sum(1 for t in trials if t.status == "PENDING")
        best = self.recorder.best_value()
        name = self.recorder.metric.name
        best_text = f"best {name} {best:.4f}" if best is not None else "no result yet"
        return (f"[{elapsed:6.0f}s] {c[RUNNING]} running, {pending} pending, "
                f"{c[COMPLETED]} completed, {c[STOPPED]} stopped early, {c[ERRORED]} errored | "
                f"{best_text}")
