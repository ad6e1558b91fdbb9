"""Ray Tune's search-space objects (`tune.uniform`, `tune.loguniform`, `tune.choice`,
`tune.randint`, `tune.grid_search`, ...) in a Python spec's `parameters` (or PBT's
`hyperparam_mutations`), written as the W&B-grammar definitions raysearch runs: a Ray Tune user
passes the `param_space` they have. The translation keeps Ray's sampling: `randint`'s upper
bound is exclusive, `qrandint`'s inclusive (as Ray documents them), log-scaled ones stay
log-scaled, quantised ones keep `q`. `spec.yaml` records the translated definitions.

A block that holds no Ray Tune object is left exactly as given (W&B's grammar, checked by
`space.parse_parameters`); in one that does, plain values are constants and plain dicts nested
blocks, as in a Ray Tune `param_space`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SAMPLE_MODULE = "ray.tune.search.sample"
GRID = "grid_search"


def is_tune_domain(value: Any) -> bool:
    """A Ray Tune search-space object (told by its class's module: Ray is not imported here)."""
    return type(value).__module__ == _SAMPLE_MODULE


def _is_grid(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {GRID}


def holds_tune_space(raw: Any) -> bool:
    """Whether a parameters block holds a Ray Tune object or `tune.grid_search` anywhere."""
    if is_tune_domain(raw) or _is_grid(raw):
        return True
    return isinstance(raw, Mapping) and any(holds_tune_space(v) for v in raw.values())


def from_tune_space(raw: Any, where: str = "parameters") -> tuple[Any, list[str]]:
    """`raw` with Ray Tune's objects written as W&B-grammar definitions, and the problems (one
    line each) with what cannot be; `raw` itself when it holds none."""
    if not isinstance(raw, Mapping) or not holds_tune_space(raw):
        return raw, []
    out: dict = {}
    problems: list[str] = []
    for name, value in raw.items():
        path = f"{where}.{name}"
        if is_tune_domain(value):
            definition, problem = tune_definition(path, value)
            out[name] = definition
            problems += [problem] if problem else []
        elif _is_grid(value):
            out[name] = {"values": list(value[GRID])}
        elif isinstance(value, Mapping) and holds_tune_space(value):  # a nested block
            nested, errs = from_tune_space(value, path)
            out[name] = {"parameters": nested}
            problems += errs
        elif isinstance(value, Mapping):  # a W&B-grammar definition beside Ray's objects
            out[name] = value
        else:  # a constant, as Ray Tune's param_space holds them
            out[name] = {"value": value}
    return out, problems


def tune_definition(path: str, domain: Any) -> tuple[dict, str | None]:
    """One Ray Tune object as a W&B-grammar definition (or why it cannot be one)."""
    kind = type(domain).__name__
    if kind == "Categorical":
        return {"values": list(domain.categories)}, None
    if kind not in ("Float", "Integer"):
        return {}, (f"{path}: tune.sample_from (a function of the config) cannot be searched by "
                    "a searcher; give a distribution (tune.uniform, tune.choice, ...) or "
                    "compute the value in the training function")
    sampler = domain.get_sampler()
    q = getattr(sampler, "q", None)
    base = getattr(sampler, "sampler", sampler)  # under Quantized, the sampler it rounds
    scale = type(base).__name__
    if scale == "_Normal":
        definition = {"distribution": "q_normal" if q else "normal", "mu": base.mean,
                      "sigma": base.sd}
        return (definition | {"q": q} if q else definition), None
    low, high = domain.lower, domain.upper
    if kind == "Integer" and (q is None or q == 1):
        high -= 1  # Ray's randint and lograndint exclude `upper` (and q=1 does too)
        if scale == "_LogUniform":
            return {"distribution": "q_log_uniform_values", "min": low, "max": high, "q": 1}, None
        return {"distribution": "int_uniform", "min": low, "max": high}, None
    log = scale == "_LogUniform"
    if q:
        return {"distribution": "q_log_uniform_values" if log else "q_uniform", "min": low,
                "max": high, "q": q}, None
    return {"distribution": "log_uniform_values" if log else "uniform", "min": low,
            "max": high}, None


def translate_spec(raw: Mapping) -> tuple[Mapping, list[str]]:
    """A spec with the Ray Tune objects of its `parameters` and its scheduler's
    `hyperparam_mutations` (as Ray's PBT takes them) translated (a copy of the top level)."""
    problems: list[str] = []
    out = dict(raw)
    if holds_tune_space(raw.get("parameters")):
        out["parameters"], errs = from_tune_space(raw["parameters"])
        problems += errs
    scheduler = raw.get("scheduler")
    if isinstance(scheduler, Mapping) and holds_tune_space(scheduler.get("hyperparam_mutations")):
        mutations, errs = from_tune_space(scheduler["hyperparam_mutations"],
                                          "scheduler.hyperparam_mutations")
        out["scheduler"] = {**scheduler, "hyperparam_mutations": mutations}
        problems += errs
    return out, problems
