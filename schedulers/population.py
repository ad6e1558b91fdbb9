"""Population Based Training that leaves a trial's last iteration alone.

Tune's PBT acts on every `perturbation_interval`-th result, the last one included. A donor's
last result is reported before the trial has ended (a function trainable returns after it), so
the donor is still live, and a weak trial may clone its final checkpoint: the clone restores a
model with no epochs left, ends at once without a result, and is recorded as completed after
the iterations it ran itself (found under load in the scheduler contract test). Cloning at the
weak trial's own last iteration would likewise restore a donor it never trains. At the
trial's known length (a constant `epochs`) there is nothing left to exploit, so these results
only continue; the trial stays a donor with the checkpoint it saved at its previous
perturbation. Where the trial decides its own end (no `epochs`, e.g. Ray's `pbt_function`
example, which runs until PBT has found its schedule), PBT acts at every interval, as Tune's;
`max_t` then caps the trial's length (a function that never ends, or the population's last
live trial, which PBT can no longer exploit, ends there) and counts as that known length.
"""

from __future__ import annotations

from typing import Any

from ray.tune.schedulers import PopulationBasedTraining, TrialScheduler
from ray.tune.schedulers.pb2 import PB2


class _StopsExploitingAtTheEnd:
    """Mixed into a PBT scheduler: results at or past `last_iteration` only continue, and a
    trial is stopped at `max_t` iterations (None: no cap)."""

    def __init__(self, *args: Any, last_iteration: int | None = None, max_t: int | None = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        limits = [n for n in (last_iteration, max_t) if n is not None]
        self.last_iteration = min(limits) if limits else None
        self.max_t = max_t

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
        step = result.get(self._time_attr, 0)
        if self.max_t is not None and step >= self.max_t:
            return TrialScheduler.STOP
        if self.last_iteration is not None and step >= self.last_iteration:
            return TrialScheduler.CONTINUE
        return super().on_trial_result(tune_controller, trial, result)


class PBTToTheEnd(_StopsExploitingAtTheEnd, PopulationBasedTraining):
    """Tune's PopulationBasedTraining; no exploit at a trial's last iteration."""


class PB2ToTheEnd(_StopsExploitingAtTheEnd, PB2):
    """Tune's PB2; no exploit at a trial's last iteration."""
