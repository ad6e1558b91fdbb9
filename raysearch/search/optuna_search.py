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
