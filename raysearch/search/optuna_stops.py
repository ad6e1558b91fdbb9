"""Ray Tune's OptunaSearch, told which trials a scheduler stopped early.

Ray's OptunaSearch tells Optuna every ended trial as COMPLETE with its last value, so a trial
that ASHA or the median rule stopped after one epoch enters the sampler's model as if its
epoch-1 accuracy were final: the model learns which configs start fast, not which end best.
Optuna's own pruners leave such a trial PRUNED instead, and its samplers treat it so: TPE ranks
it below every finished trial (the deeper a trial got, the better it ranks among the stopped
ones), the GP sampler leaves it out. This searcher does the same: a trial that ended before
`trial_length` iterations, without an error, is told PRUNED with its intermediate values.
Imported by the `bayes` and `optuna` factories only (it imports Ray Tune).
"""

from __future__ import annotations

from typing import Any

from optuna.trial import TrialState
from ray.tune.result import TRAINING_ITERATION
from ray.tune.search.optuna import OptunaSearch


class StopAwareOptunaSearch(OptunaSearch):
    """OptunaSearch that tells a trial stopped before `trial_length` iterations as PRUNED.
    `trial_length` None (the trial decides its own length): every ended trial is COMPLETE,
    as in Ray's OptunaSearch."""

    def __init__(self, *args: Any, trial_length: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trial_length = trial_length
        self._reported: dict[str, int] = {}  # trial -> the last step Optuna was told

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        super().on_trial_result(trial_id, result)
        if trial_id not in self._completed_trials and TRAINING_ITERATION in result:
            self._reported[trial_id] = result[TRAINING_ITERATION]

    def on_trial_complete(self, trial_id: str, result: dict | None = None,
                          error: bool = False) -> None:
        step = (result or {}).get(TRAINING_ITERATION)
        value = (result or {}).get(self.metric) if isinstance(self.metric, str) else None
        stopped_early = (not error and self.trial_length is not None and value is not None
                         and step is not None and step < self.trial_length
                         and trial_id in self._ot_trials
                         and trial_id not in self._completed_trials)
        if not stopped_early:
            self._reported.pop(trial_id, None)
            super().on_trial_complete(trial_id, result=result, error=error)
            return
        ot_trial = self._ot_trials[trial_id]
        # Tune passes the result that made the scheduler stop the trial to the searcher only
        # here, not to on_trial_result: record it, so Optuna knows how far the trial got
        if self._reported.pop(trial_id, None) != step:
            ot_trial.report(value, step)
        self._ot_study.tell(ot_trial, state=TrialState.PRUNED)
        self._completed_trials.add(trial_id)
