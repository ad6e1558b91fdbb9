"""Ray Tune's OptunaSearch for a spec's space (methods `bayes` and `optuna`), without two
messages that mislead in a sweep.

- Optuna logs "A new study created in memory with name: optuna" when Tune sets the searcher
  up: the study is the searcher's own, not one the user made or can open, and the line breaks
  raysearch's output. Optuna's logging is kept at WARNING while the study is created, then set
  back to what the user had (`quiet_optuna`; `bohb`'s studies likewise).
- Tune times the define-by-run space function around each suggestion and warns when it took
  over a second: "Ensure that actual computation, training takes place inside Tune's train
  functions". raysearch's space function (`searchers.OptunaSpace`) only declares the
  parameters; the time is the sampler's, and Optuna's GP sampler (`bayes`) imports torch and
  SciPy on the driver at its first model-based suggestion (~2 s, once). The advice does not
  apply, so the warning is left out for this space function only.

And one gap: a trial the searcher was told had failed and that `raysearch resume` (or
`fail_fast`'s resume) retries sent Tune's searcher a warning with the whole result dict at
every result ("Received additional result for trial ..., but it already finished"), and its
outcome was lost to the model. Optuna cannot reopen a finished trial, so a retried trial that
completes is added to the study as a new finished trial with its parameters
(`SpecOptunaSearch.on_trial_complete`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ray.tune.search.optuna import OptunaSearch

SPACE_TIMING_WARNING = "Define-by-run function passed in the `space` argument took"


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """For the block, Optuna logs warnings and errors only (a searcher's own studies); then
    the level the user had."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(level, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


class SpecOptunaSearch(OptunaSearch):
    """OptunaSearch over a spec's space (see the module's docstring)."""

    def _setup_study(self, mode: Any) -> None:
        with quiet_optuna():
            super()._setup_study(mode)

    def _suggest_from_define_by_run_func(self, func: Callable, ot_trial: Any) -> dict:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=SPACE_TIMING_WARNING)
            return super()._suggest_from_define_by_run_func(func, ot_trial)

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if trial_id in self._completed_trials:  # a failed trial retried: told once complete
            return
        super().on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None,
                          error: bool = False) -> None:
        if trial_id not in self._completed_trials:
            super().on_trial_complete(trial_id, result, error)
        elif result and not error:
            self._tell_retried(trial_id, result)

    def _tell_retried(self, trial_id: str, result: dict) -> None:
        """A trial the study holds as failed, retried and now complete: a new finished trial
        with its parameters and values (the model learns from it)."""
        import optuna

        metrics = self.metric if isinstance(self.metric, list) else [self.metric]
        values = [result.get(metric) for metric in metrics]
        asked = self._ot_trials.get(trial_id)
        if asked is None or any(v is None for v in values):
            return
        self._ot_study.add_trial(optuna.trial.create_trial(
            params=asked.params, distributions=asked.distributions, values=values))
