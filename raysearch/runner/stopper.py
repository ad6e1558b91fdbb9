"""The sweep's Stopper: it sees every raw result before the scheduler does, so it records how a
trial ended (its own `done`, or the function returned) before Tune marks scheduler decisions
with the same `done` flag; and it stops the whole sweep at `metric.target`.

What it learns travels with the result itself (Tune passes the same dict on to the callbacks
and keeps it as the trial's last result), under keys the recorder keeps out of the metrics.
"""

from __future__ import annotations

from ray.tune import Stopper

from raysearch.results import CUT_BY_TARGET, ENDED_ITSELF
from raysearch.types import Metric


class SweepStopper(Stopper):
    def __init__(self, metric: Metric | None):
        self.metric = metric
        self.reached = False

    def __call__(self, trial_id: str, result: dict) -> bool:
        if result.get("done"):  # set by the trainable (or by Tune when the function returned)
            result[ENDED_ITSELF] = True
        if self.metric is None:
            return False
        target = self.metric.target
        value = result.get(self.metric.name)
        if target is not None and isinstance(value, int | float) and not isinstance(value, bool):
            self.reached = self.reached or value == target or self.metric.better(value, target)
        if self.reached and not result.get(ENDED_ITSELF):
            result[CUT_BY_TARGET] = True
        return self.reached

    def stop_all(self) -> bool:
        return self.reached
