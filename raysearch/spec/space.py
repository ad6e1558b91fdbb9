"""The W&B parameter grammar: parse, validate and sample every distribution W&B Sweeps accepts.

A parsed search space is a tree: `{name: Param | {name: ...}}` (nested `parameters` blocks become
nested dicts, delivered to the training function as nested dicts). Sampling semantics live in one
place, `draw`, which Ray's random search uses through `ParamSampler` and the statistical tests check
directly; the searchers translate the same `Param`s to Hyperopt and Optuna spaces themselves.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from raysearch.errors import did_you_mean, one_of

# distribution -> (required keys, optional keys with W&B's defaults; W&B's default q is 1.0, a
# float, so a quantised draw without `q` is a float, as in W&B; `q: 1` written as an int gives
# ints)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "constant": (("value",), {}),
    "categorical": (("values",), {"probabilities": None}),
    "int_uniform": (("min", "max"), {}),
    "uniform": (("min", "max"), {}),
    "q_uniform": (("min", "max"), {"q": 1.0}),
    "log_uniform": (("min", "max"), {}),
    "log_uniform_values": (("min", "max"), {}),
    "q_log_uniform": (("min", "max"), {"q": 1.0}),
    "q_log_uniform_values": (("min", "max"), {"q": 1.0}),
    "inv_log_uniform": (("min", "max"), {}),
    "inv_log_uniform_values": (("min", "max"), {}),
    "normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "log_normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_log_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "beta": ((), {"a": 1.0, "b": 1.0}),
    "q_beta": ((), {"a": 1.0, "b": 1.0, "q": 1.0}),
}
# min/max given as exponents (natural log) rather than values
EXPONENT_BOUNDS = {"log_uniform", "q_log_uniform", "inv_log_uniform"}
# min/max must be > 0 because they are logged
POSITIVE_BOUNDS = {"log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values"}
NUMERIC_KEYS = ("min", "max", "q", "mu", "sigma", "a", "b")


@dataclass(frozen=True)
class Param:
    """One leaf of the search space, in W&B's terms, already validated."""

    path: str
    distribution: str
    value: Any = None
    values: tuple | None = None
    probabilities: tuple | None = None
    min: float | None = None
    max: float | None = None
    q: float | None = None
    mu: float | None = None
    sigma: float | None = None
    a: float | None = None
    b: float | None = None

    def grid_values(self) -> tuple | None:
        """What a grid runs through, as W&B's grid does: `values`; int_uniform min..max;
        q_uniform min, min+q, ... below max (numpy.arange's values). None: not enumerable."""
        if self.distribution == "categorical":
            return self.values
        if self.distribution == "int_uniform":
            return tuple(range(int(self.min), int(self.max) + 1))
        if self.distribution == "q_uniform":
            count = max(0, math.ceil((self.max - self.min) / self.q))
            return tuple(self.min + i * self.q for i in range(count))
        return None

    @property
    def is_int(self) -> bool:
        """Integer-valued: int_uniform, or a quantized distribution with an integer q."""
        return self.distribution == "int_uniform" or (
            self.distribution.startswith("q_") and isinstance(self.q, int)
        )

    def bounds(self) -> tuple[float | None, float | None]:
        """The range of values drawn, in value space (None where unbounded)."""
        d = self.distribution
        if d in EXPONENT_BOUNDS:
            lo, hi = math.exp(self.min), math.exp(self.max)
            return (1 / hi, 1 / lo) if d == "inv_log_uniform" else (lo, hi)
        if d in ("beta", "q_beta"):
            return 0.0, 1.0
        if d in ("log_normal", "q_log_normal"):
            return 0.0, None
        return self.min, self.max

    def describe(self) -> str:
        """`log_uniform_values [0.0001, 0.1]`: for `raysearch validate` and the report."""
        d = self.distribution
        if d == "constant":
            return f"constant {self.value!r}"
        if d == "categorical":
            probs = f" p={list(self.probabilities)}" if self.probabilities else ""
            return f"categorical {list(self.values)}{probs}"
        args = {k: getattr(self, k) for k in NUMERIC_KEYS if getattr(self, k) is not None}
        text = f"{d} " + ", ".join(f"{k}={v:g}" for k, v in args.items())
        if d in EXPONENT_BOUNDS:
            lo, hi = self.bounds()
            text += f"  (values {lo:.4g} .. {hi:.4g})"
        return text


Space = dict  # name -> Param | Space


def parse_parameters(raw: Any, where: str = "parameters") -> tuple[Space, list[str]]:
    """Parse a W&B `parameters` block into a tree of Params, collecting every problem found."""
    if not isinstance(raw, Mapping) or not raw:
        return {}, [f"{where}: expected a mapping of parameter names to definitions, got {raw!r}"]
    space: Space = {}
    problems: list[str] = []
    for name, definition in raw.items():
        path = f"{where}.{name}"
        if isinstance(definition, Mapping) and "parameters" in definition:
            extra = sorted(set(definition) - {"parameters"})
            if extra:
                problems.append(f"{path}: a nested block holds only `parameters`, not {extra}")
            space[name], nested = parse_parameters(definition["parameters"], f"{path}.parameters")
            problems += nested
            continue
        param, errs = parse_param(path, definition)
        problems += errs
        if param is not None:
            space[name] = param
    return space, problems


WEIGHTED_CATEGORICAL = "categorical_w_probabilities"


def parse_param(path: str, raw: Any) -> tuple[Param | None, list[str]]:
    """Validate one parameter definition; W&B's inference rules fill an omitted `distribution`."""
    if not isinstance(raw, Mapping):
        hint = (f"; for a choice among them write {{values: {list(raw)!r}}}"
                if isinstance(raw, list | tuple) else
                f"; for a fixed value write {{value: {raw!r}}}" if isinstance(
                    raw, str | int | float | bool) or raw is None else "")
        return None, [f"{path}: expected a mapping such as {{values: [...]}} or "
                      f"{{distribution: uniform, min: 0, max: 1}}, got {raw!r}{hint}"]
    raw = dict(raw)
    dist = raw.pop("distribution", None) or _infer_distribution(raw)
    if dist == WEIGHTED_CATEGORICAL:  # W&B's name for a categorical with probabilities
        if "probabilities" not in raw:
            return None, [f"{path}: {WEIGHTED_CATEGORICAL} needs `probabilities`"]
        dist = "categorical"
    if dist is None:
        return None, [f"{path}: cannot tell the distribution; give `value`, `values`, "
                      f"`min`+`max`, or `distribution` (one of {one_of(DISTRIBUTIONS)})"]
    if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
        return None, [f"{path}: unknown distribution {dist!r}{did_you_mean(dist, DISTRIBUTIONS)}; "
                      f"known: {one_of(DISTRIBUTIONS)}"]
    required, optional = DISTRIBUTIONS[dist]
    problems = []
    for key in raw:
        if key not in required and key not in optional:
            allowed = ("distribution",) + required + tuple(optional)
            problems.append(f"{path}: unknown key {key!r} for {dist}"
                            f"{did_you_mean(key, allowed)}; allowed: {one_of(allowed)}")
    problems += [f"{path}: {dist} needs `{k}`" for k in required if k not in raw]
    if problems:
        return None, problems
    args = {**optional, **raw}
    for key in NUMERIC_KEYS:
        if key in args and args[key] is not None:
            number = _number(args[key])
            if number is None:
                problems.append(f"{path}: `{key}` must be a number, got {args[key]!r}")
            args[key] = number
    if problems:
        return None, problems
    if "values" in args:
        args["values"] = tuple(args["values"]) if isinstance(args["values"], list) else args["values"]
    if args.get("probabilities") is not None and isinstance(args["probabilities"], list):
        args["probabilities"] = tuple(_number(p) for p in args["probabilities"])
    param = Param(path=path, distribution=dist, **args)
    return param, _check(param)


def _infer_distribution(raw: Mapping) -> str | None:
    """W&B's rules: value -> constant, values -> categorical, int min/max -> int_uniform, else uniform."""
    if "value" in raw:
        return "constant"
    if "values" in raw:
        return "categorical"
    if "min" in raw and "max" in raw:
        ints = all(isinstance(raw[k], int) and not isinstance(raw[k], bool) for k in ("min", "max"))
        return "int_uniform" if ints else "uniform"
    return None


def _number(value: Any) -> float | int | None:
    """YAML reads `1e-4` as a string; accept it as W&B does. Keep ints as ints (they type outputs)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _check(p: Param) -> list[str]:
    """Every W&B-invalid setting of a parsed parameter, each naming the parameter."""
    d, problems = p.distribution, []
    if d == "categorical":
        if not isinstance(p.values, tuple) or not p.values:
            return [f"{p.path}: `values` must be a non-empty list, got {p.values!r}"]
        if p.probabilities is not None:
            probs = p.probabilities
            if not isinstance(probs, tuple) or len(probs) != len(p.values):
                problems.append(f"{p.path}: `probabilities` needs one entry per value "
                                f"({len(p.values)}), got {probs!r}")
            elif any(x is None or x < 0 for x in probs):
                problems.append(f"{p.path}: `probabilities` must be numbers >= 0, got {list(probs)}")
            elif not math.isclose(sum(probs), 1.0, abs_tol=1e-6):
                problems.append(f"{p.path}: `probabilities` must sum to 1, got sum {sum(probs):g}")
    if p.min is not None and p.max is not None and p.min >= p.max:
        problems.append(f"{p.path}: min ({p.min:g}) must be less than max ({p.max:g})")
    if d == "int_uniform" and not all(isinstance(v, int) for v in (p.min, p.max)):
        problems.append(f"{p.path}: int_uniform needs integer min and max, got {p.min!r}, {p.max!r}")
    if d in POSITIVE_BOUNDS and p.min is not None and p.min <= 0:
        problems.append(f"{p.path}: {d} takes logarithms, so min must be > 0, got {p.min:g} "
                        f"(or use log_uniform with exponent bounds)")
    if p.q is not None and p.q <= 0:
        problems.append(f"{p.path}: q must be > 0, got {p.q:g}")
    if p.sigma is not None and p.sigma <= 0:
        problems.append(f"{p.path}: sigma must be > 0, got {p.sigma:g}")
    for key in ("a", "b"):
        if getattr(p, key) is not None and getattr(p, key) <= 0:
            problems.append(f"{p.path}: beta's `{key}` must be > 0, got {getattr(p, key):g}")
    return problems


def iter_params(space: Space) -> Iterator[Param]:
    """Every leaf Param of a (nested) space, depth first."""
    for node in space.values():
        if isinstance(node, Param):
            yield node
        else:
            yield from iter_params(node)


def map_space(space: Space, leaf) -> dict:
    """The same tree with each Param replaced by `leaf(param)`: the one way spaces are converted."""
    return {k: leaf(v) if isinstance(v, Param) else map_space(v, leaf) for k, v in space.items()}


def draw(p: Param, rng: Any, size: int) -> list:
    """`size` samples of `p` with W&B's semantics, from a numpy Generator/RandomState `rng`."""
    d = p.distribution
    if d == "constant":
        return [p.value] * size
    if d == "categorical":
        idx = rng.choice(len(p.values), size=size, p=p.probabilities)
        return [p.values[int(i)] for i in idx]
    if d == "int_uniform":
        return [int(x) for x in rng.integers(p.min, p.max + 1, size=size)]
    base = d[2:] if d.startswith("q_") else d
    if base == "uniform":
        x = rng.uniform(p.min, p.max, size)
    elif base in ("log_uniform_values", "inv_log_uniform_values"):
        x = np.exp(rng.uniform(math.log(p.min), math.log(p.max), size))
    elif base == "log_uniform":
        x = np.exp(rng.uniform(p.min, p.max, size))
    elif base == "inv_log_uniform":
        x = np.exp(-rng.uniform(p.min, p.max, size))
    elif base == "normal":
        x = rng.normal(p.mu, p.sigma, size)
    elif base == "log_normal":
        x = np.exp(rng.normal(p.mu, p.sigma, size))
    elif base == "beta":
        x = rng.beta(p.a, p.b, size)
    else:  # pragma: no cover - DISTRIBUTIONS and this table move together
        raise ValueError(f"{p.path}: no sampler for {d}")
    if d.startswith("q_"):
        x = np.round(x / p.q) * p.q
    return [int(round(v)) for v in x] if p.is_int else [float(v) for v in x]


def describe_space(space: Space) -> list[tuple[str, str]]:
    """(dotted name, description) rows, for `raysearch validate`."""
    return [(p.path.removeprefix("parameters.").replace(".parameters.", "."), p.describe())
            for p in iter_params(space)]


