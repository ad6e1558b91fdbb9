"""What a search searches: scikit-learn's `param_grid` / `param_distributions` as candidates
sampled in the driver exactly as scikit-learn samples them (`ParameterGrid`,
`ParameterSampler`), or as a W&B-grammar space for raysearch's model-based searchers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from raysearch.sklearn.candidate import CANDIDATE
from raysearch.spec.tune_space import is_tune_domain, tune_definition

METHODS = ("grid", "random", "hyperopt", "bayes", "optuna")
_SIMPLE = (bool, int, float, str, type(None))


@dataclass(frozen=True)
class Plan:
    """How the sweep proposes candidates: `candidates` sampled here (the sweep's one parameter
    is their index), or `parameters` in the W&B grammar for the sweep's own searcher."""

    method: str
    parameters: dict
    run_cap: int
    candidates: list[dict] | None = None


def grid_plan(param_grid: Any) -> Plan:
    """Every combination, in scikit-learn's order."""
    from sklearn.model_selection import ParameterGrid

    candidates = list(ParameterGrid(param_grid))
    return Plan("grid", {CANDIDATE: {"values": list(range(len(candidates)))}}, len(candidates),
                candidates)


def random_plan(distributions: Any, n_iter: int, random_state: Any, method: str) -> Plan:
    """scikit-learn's own sampling when every distribution is scikit-learn's (lists, scipy
    distributions) and the method is random; else a W&B-grammar space for `method`."""
    from sklearn.model_selection import ParameterSampler

    spaces = distributions if isinstance(distributions, Sequence) else [distributions]
    wandb_style = any(isinstance(v, Mapping) or is_tune_domain(v) for space in spaces
                      if isinstance(space, Mapping) for v in space.values())
    if method == "random" and not wandb_style:
        candidates = list(ParameterSampler(distributions, n_iter, random_state=random_state))
        return Plan("grid", {CANDIDATE: {"values": list(range(len(candidates)))}},
                    len(candidates), candidates)
    if not isinstance(distributions, Mapping):
        raise ValueError(f"search_method={method!r} searches one space: give "
                         f"param_distributions as one dict, not a list of dicts")
    return Plan(method, {name: to_wandb(name, value) for name, value in distributions.items()},
                n_iter)


def to_wandb(name: str, value: Any) -> dict:
    """One distribution in the W&B grammar: a dict as it is, a list as its values, a Ray Tune
    search-space object (`tune.loguniform`, ...), the scipy distributions with a W&B
    equivalent (uniform, loguniform, randint)."""
    if isinstance(value, Mapping):
        return dict(value)
    if is_tune_domain(value):  # Ray Tune's, as tune-sklearn's TuneSearchCV takes them
        definition, problem = tune_definition(f"param_distributions[{name!r}]", value)
        if problem:
            raise ValueError(problem)
        return definition
    if isinstance(value, Sequence) and not isinstance(value, str):
        values = list(value)
        if not all(isinstance(v, _SIMPLE) for v in values):
            raise ValueError(f"param_distributions[{name!r}]: a model-based search_method "
                             f"takes lists of numbers, strings, booleans or None; use "
                             f"search_method='random' for lists of objects")
        return {"values": values}
    frozen = getattr(value, "dist", None)
    kind = getattr(frozen, "name", None)
    args = tuple(getattr(value, "args", ())) + tuple(getattr(value, "kwds", {}).values())
    if kind == "uniform":
        loc, scale = (list(args) + [0.0, 1.0][len(args):])[:2]
        return {"distribution": "uniform", "min": float(loc), "max": float(loc) + float(scale)}
    if kind in ("loguniform", "reciprocal") and len(args) >= 2:
        return {"distribution": "log_uniform_values", "min": float(args[0]),
                "max": float(args[1])}
    if kind == "randint" and len(args) >= 2:
        return {"distribution": "int_uniform", "min": int(args[0]), "max": int(args[1]) - 1}
    raise ValueError(f"param_distributions[{name!r}]: {value!r} has no equivalent in the "
                     f"W&B grammar that model-based searchers take; give a list, "
                     f"scipy.stats uniform / loguniform / randint, or a dict such as "
                     f"{{'distribution': 'log_uniform_values', 'min': 1e-4, 'max': 1e-1}}")
