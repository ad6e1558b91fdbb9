"""`metric.target`: stop the whole sweep once any trial reaches it."""

from __future__ import annotations

from ray.tune import Stopper

from raysearch.types import Metric


class TargetStopper(Stopper):
    """Stops the whole sweep once any trial reports the metric at or beyond its target."""

    def __init__(self, metric: Metric):
        self.metric = metric
        self.reached = False

    def __call__(self, trial_id: str, result: dict) -> bool:
        value = result.get(self.metric.name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            target = self.metric.target
            self.reached = self.reached or value == target or self.metric.better(value, target)
        return self.reached

    def stop_all(self) -> bool:
        return self.reached
