"""`method` -> Ray Tune search algorithm, seeded, over the W&B-grammar space.

Each factory returns `(search_alg, param_space)` for `tune.Tuner`. Random and grid search run on
Ray's BasicVariantGenerator with our W&B samplers; hyperopt, bayes and optuna get native spaces
built here from the same `Param`s, so nothing is lost in Ray's lossy automatic conversion (it
drops quantization on log scales, for instance). Each registration carries its facts (what it
cannot express, whether it weights categoricals, enumerates a grid, is model-based). Ray is
imported inside the factories only, so a spec validates without loading Ray.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from raysearch.registry import SEARCHERS
from raysearch.spec.space import DISTRIBUTIONS, Param, Space, iter_params, map_space

# Distribution families, for the facts each searcher declares about what it cannot express.
_NORMAL_FAMILY = frozenset({"normal", "q_normal", "log_normal", "q_log_normal"})
_BETA = frozenset({"beta", "q_beta"})
_Q_LOG = frozenset({"q_log_uniform", "q_log_uniform_values"})
_NOT_ENUMERABLE = frozenset(DISTRIBUTIONS) - {"constant", "categorical", "int_uniform",
                                              "q_uniform"}  # Param.grid_values


# ---------------------------------------------------------------- grid and random (Ray's own)


@SEARCHERS.register("grid", cannot_express=_NOT_ENUMERABLE, weights_categoricals=False,
                    enumerates_grid=True, model_based=False)
def grid(space: Space, metric: str, mode: str, seed: int | None) -> tuple[Any, dict]:
    """Every combination, once (the cartesian product), in a stable order; int_uniform and
    q_uniform enumerated as W&B's grid enumerates them."""
    from ray import tune
    from ray.tune.search.basic_variant import BasicVariantGenerator

    def leaf(p: Param) -> Any:
        return p.value if p.distribution == "constant" else \
            tune.grid_search(list(p.grid_values()))

    return BasicVariantGenerator(random_state=seed), map_space(space, leaf)


@SEARCHERS.register("random", model_based=False)
def random(space: Space, metric: str, mode: str, seed: int | None) -> tuple[Any, dict]:
    """Independent draws with W&B's exact semantics (probabilities, log/inverse-log, beta...)."""
    from ray.tune.search.basic_variant import BasicVariantGenerator

    from raysearch.search.domains import domain_for

    return BasicVariantGenerator(random_state=seed), map_space(space, domain_for)


# ---------------------------------------------------------------- hyperopt TPE


@SEARCHERS.register("hyperopt", cannot_express=_BETA)
def hyperopt(space: Space, metric: str, mode: str, seed: int | None, *,
             n_initial_points: Annotated[int, {"min": 0}] = 5,
             gamma: Annotated[float, {"gt": 0, "max": 1}] = 0.25) -> tuple[Any, dict]:
    """Hyperopt's TPE. `n_initial_points` random trials come before TPE takes over (Ray's
    default of 20 would make a 20-trial sweep pure random search)."""
    from ray.tune.search.hyperopt import HyperOptSearch

    searcher = HyperOptSearch(
        space=map_space(space, _hyperopt_leaf), metric=metric, mode=mode,
        n_initial_points=n_initial_points, random_state_seed=seed, gamma=gamma)
    return searcher, {}


def _hyperopt_leaf(p: Param) -> Any:
    from hyperopt import hp
    from hyperopt.pyll import scope

    d, label = p.distribution, p.path
    if d == "constant":
        return p.value
    if d == "categorical":
        if p.probabilities is not None:
            return hp.pchoice(label, list(zip(p.probabilities, p.values, strict=True)))
        return hp.choice(label, list(p.values))
    if d == "int_uniform":
        return hp.randint(label, p.min, p.max + 1)
    lo_hi = {  # distribution -> hyperopt (low, high) in its own parameterisation
        "uniform": (p.min, p.max), "q_uniform": (p.min, p.max),
        "log_uniform": (p.min, p.max), "q_log_uniform": (p.min, p.max),
    }
    if d in ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values"):
        lo_hi[d] = (math.log(p.min), math.log(p.max))
    if d == "inv_log_uniform":
        lo_hi[d] = (-p.max, -p.min)
    expr = {
        "uniform": lambda: hp.uniform(label, *lo_hi[d]),
        "q_uniform": lambda: hp.quniform(label, *lo_hi[d], p.q),
        "log_uniform": lambda: hp.loguniform(label, *lo_hi[d]),
        "log_uniform_values": lambda: hp.loguniform(label, *lo_hi[d]),
        "inv_log_uniform": lambda: hp.loguniform(label, *lo_hi[d]),
        "inv_log_uniform_values": lambda: hp.loguniform(label, *lo_hi[d]),
        "q_log_uniform": lambda: hp.qloguniform(label, *lo_hi[d], p.q),
        "q_log_uniform_values": lambda: hp.qloguniform(label, *lo_hi[d], p.q),
        "normal": lambda: hp.normal(label, p.mu, p.sigma),
        "q_normal": lambda: hp.qnormal(label, p.mu, p.sigma, p.q),
        "log_normal": lambda: hp.lognormal(label, p.mu, p.sigma),
        "q_log_normal": lambda: hp.qlognormal(label, p.mu, p.sigma, p.q),
    }[d]()
    return scope.int(expr) if p.is_int else expr


# ---------------------------------------------------------------- Optuna: GP (bayes) and TPE


class OptunaSpace:
    """Define-by-run space for OptunaSearch: typed suggestions plus constants (picklable)."""

    def __init__(self, space: Space):
        self.params = list(iter_params(space))

    def __call__(self, trial: Any) -> dict:
        constants = {}
        for p in self.params:
            name = p.path.removeprefix("parameters.").replace(".parameters.", "/")
            d = p.distribution
            if d == "constant":
                constants[name] = p.value
            elif d == "categorical":
                trial.suggest_categorical(name, list(p.values))
            elif p.is_int:
                lo, hi = p.bounds()
                step = 1 if d == "int_uniform" else int(p.q)
                trial.suggest_int(name, int(math.ceil(lo)), int(hi), step=step)
            else:
                lo, hi = p.bounds()
                log = "log" in d
                trial.suggest_float(name, lo, hi, log=log, step=None if log else p.q)
        return constants


def _optuna(space: Space, metric: str, mode: str, sampler: Any) -> tuple[Any, dict]:
    from raysearch.search.optuna_search import SpecOptunaSearch

    return SpecOptunaSearch(space=OptunaSpace(space), metric=metric, mode=mode,
                            sampler=sampler), {}


@SEARCHERS.register("bayes", cannot_express=_NORMAL_FAMILY | _BETA | _Q_LOG,
                    weights_categoricals=False)
def bayes(space: Space, metric: str, mode: str, seed: int | None, *,
          n_startup_trials: Annotated[int, {"min": 0}] = 5) -> tuple[Any, dict]:
    """Gaussian-process Bayesian optimisation: Optuna's GPSampler (mixed types, log scales)."""
    from optuna.samplers import GPSampler

    sampler = GPSampler(seed=seed, n_startup_trials=n_startup_trials,
                        warn_independent_sampling=False)
    return _optuna(space, metric, mode, sampler)


@SEARCHERS.register("optuna", cannot_express=_NORMAL_FAMILY | _BETA | _Q_LOG,
                    weights_categoricals=False)
def optuna_tpe(space: Space, metric: str, mode: str, seed: int | None, *,
               n_startup_trials: Annotated[int, {"min": 0}] = 5,
               multivariate: bool = True) -> tuple[Any, dict]:
    """Optuna's TPE sampler, for users moving from Optuna studies."""
    from optuna.samplers import TPESampler

    sampler = TPESampler(seed=seed, n_startup_trials=n_startup_trials, multivariate=multivariate)
    return _optuna(space, metric, mode, sampler)


@SEARCHERS.register("bohb", cannot_express=_NORMAL_FAMILY | _BETA | _Q_LOG,
                    weights_categoricals=False)
def bohb(space: Space, metric: str, mode: str, seed: int | None, *,
         min_points: Annotated[int | None, {"min": 1}] = None,
         random_fraction: Annotated[float, {"min": 0, "max": 1}] = 1 / 3) -> tuple[Any, dict]:
    """BOHB's model half (raysearch.search.multifidelity): TPE fitted per budget on every
    reported result, the largest budget with `min_points` results (default: searched
    parameters + 1); `random_fraction` (0 to 1) of configs drawn at random. Pair it with
    `scheduler: asha` or `hyperband`."""
    from raysearch.search.multifidelity import BudgetTPE

    return BudgetTPE(space, metric, mode, seed, min_points, random_fraction), {}


# ---------------------------------------------------------------- an Optuna study, define-by-run

SEARCHERS.register("optuna-study", "raysearch.optuna.searcher:optuna_study", model_based=True,
                   metric_at_end=True, front_end="raysearch.optuna.optimize(study, objective, ...)")
