"""`method: bohb`: a model-based search that uses every result, BOHB's way (Falkner et al.,
2018), with Optuna's TPE as the density model.

TPE or a GP over final values sees a trial an early-stopping scheduler cut at epoch 1 as if
its epoch-1 accuracy were final. Here every reported result counts at its own budget (the
iteration it was reported at); each new config comes from a TPE fitted to the results of the
largest budget that has at least `min_points` of them, so the model starts after the first
rung of a few trials and moves up the rungs as the survivors report. A fraction
`random_fraction` of configs is drawn at random, as BOHB does, so the model never starves.
Pair it with `asha` (or `hyperband`) for the stopping half of BOHB.
"""

from __future__ import annotations

import math
import random
from typing import Any

from ray.tune.search import Searcher

from raysearch.search.optuna_search import quiet_optuna
from raysearch.search.searchers import OptunaSpace
from raysearch.spec.space import Space
from raysearch.types import is_finite_number


def _unflatten(flat: dict) -> dict:
    """Optuna's "a/b" names back into the nested config the trainable reads."""
    out: dict = {}
    for name, value in flat.items():
        *parents, leaf = name.split("/")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


class BudgetTPE(Searcher):
    """A Ray Tune Searcher: TPE per budget, fitted on the largest budget with enough points."""

    def __init__(self, space: Space, metric: str, mode: str, seed: int | None,
                 min_points: int | None = None, random_fraction: float = 1 / 3):
        super().__init__(metric=metric, mode=mode)
        self._space = OptunaSpace(space)
        searched = [p for p in self._space.params if p.distribution != "constant"]
        self.min_points = min_points or len(searched) + 1
        self.random_fraction = random_fraction
        self._seed = seed
        self._rng = random.Random(seed)
        self._params: dict[str, dict] = {}  # trial id -> its params, by Optuna name
        self._at: dict[int, dict[str, float]] = {}  # budget -> trial id -> value there
        self._asked = 0

    # ---------------------------------------------------------------- Searcher

    def suggest(self, trial_id: str) -> dict | None:
        with quiet_optuna():  # a study per suggestion: Optuna would log each one's creation
            return self._suggest(trial_id)

    def _suggest(self, trial_id: str) -> dict:
        import optuna

        seed = self._rng.randrange(2**31)  # a stream per sweep seed, not seed + count
        self._asked += 1
        direction = "maximize" if self.mode == "max" else "minimize"
        study = optuna.create_study(direction=direction, sampler=_sampler(seed, self.min_points))
        budget = self.model_budget()
        if budget is not None and self._rng.random() >= self.random_fraction:
            distributions = self._distributions()
            for tid, value in self._at[budget].items():
                study.add_trial(optuna.trial.create_trial(
                    params=self._params[tid], distributions=distributions, value=value))
        trial = study.ask()
        constants = self._space(trial)
        self._params[trial_id] = dict(trial.params)
        return _unflatten({**trial.params, **constants})

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        value, budget = result.get(self.metric), result.get("training_iteration")
        if trial_id in self._params and budget is not None and is_finite_number(value):
            self._at.setdefault(int(budget), {})[trial_id] = float(value)

    def on_trial_complete(self, trial_id: str, result: dict | None = None,
                          error: bool = False) -> None:
        if result and not error:
            self.on_trial_result(trial_id, result)

    def save(self, checkpoint_path: str) -> None:
        import pickle

        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.__dict__, f)

    def restore(self, checkpoint_path: str) -> None:
        import pickle

        with open(checkpoint_path, "rb") as f:
            self.__dict__.update(pickle.load(f))

    # ---------------------------------------------------------------- what it models

    def model_budget(self) -> int | None:
        """The largest budget (iteration) with at least `min_points` results, else None."""
        enough = [b for b, values in self._at.items() if len(values) >= self.min_points]
        return max(enough) if enough else None

    def _distributions(self) -> dict:
        import optuna

        probe = optuna.create_study().ask()
        self._space(probe)
        return probe.distributions


def _sampler(seed: int, min_points: int) -> Any:
    """Multivariate TPE fitted to the top quarter. Optuna 4.9 deprecated `gamma` (a warning,
    silenced here); should a later Optuna drop it, its default is used."""
    import warnings

    import optuna

    options = {"seed": seed, "n_startup_trials": min_points, "multivariate": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return optuna.samplers.TPESampler(**options, gamma=_top_quarter)
        except TypeError:
            return optuna.samplers.TPESampler(**options)


def _top_quarter(n: int) -> int:
    """The "good" results TPE's model is fitted to: the top quarter (hyperopt's gamma; BOHB
    takes the top 15%), at most 25 (Optuna's cap)."""
    return min(math.ceil(0.25 * n), 25)
