"""One checker for every option schema: a spec block's dataclass fields and an extension's
keyword-only parameters are both turned into `Option`s and checked the same way (unknown keys
with did-you-mean, types, ranges), every problem collected, each naming its field.

Range rules live in a dataclass field's `metadata`, or for a factory's keyword-only parameter in
its annotation, `Annotated[int | None, {"min": 1}]`: `min` (>=), `gt` (>), `max` (<=),
`choices`, `nonempty`. So a value the extension would refuse once Ray is up (PBT's
`quantile_fraction: 0.9`) is a spec error before it.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from raysearch.errors import did_you_mean, one_of

REQUIRED = inspect.Parameter.empty
_TYPES = {int: (int,), float: (int, float), str: (str,), bool: (bool,), dict: (dict,),
          list: (list, tuple), tuple: (list, tuple), Mapping: (dict,)}


@dataclass(frozen=True)
class Option:
    name: str
    hint: Any = Any
    default: Any = REQUIRED
    rules: Mapping = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def dataclass_options(cls: type) -> dict[str, Option]:
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else REQUIRED)
        out[f.name] = Option(f.name, hints.get(f.name, Any), default, f.metadata)
    return out


def signature_options(function: Callable) -> dict[str, Option]:
    """A factory's keyword-only parameters: its options (range rules from `Annotated`)."""
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception:  # an annotation that does not evaluate: check names only
        hints = {}
    options = {}
    for p in inspect.signature(function).parameters.values():
        if p.kind is inspect.Parameter.KEYWORD_ONLY:
            hint, rules = _rules(hints.get(p.name, Any))
            options[p.name] = Option(p.name, hint, p.default, rules)
    return options


def _rules(hint: Any) -> tuple[Any, Mapping]:
    """(the type, its range rules): `Annotated[T, {...}, ...]` -> (T, the dicts merged)."""
    if typing.get_origin(hint) is not typing.Annotated:
        return hint, {}
    rules: dict = {}
    for extra in hint.__metadata__:
        if isinstance(extra, Mapping):
            rules.update(extra)
    return typing.get_args(hint)[0], rules


def given(raw: Mapping) -> dict:
    """The options a user set: a null means the default (as `check` reads it), so it is left
    out and the factory's own default applies."""
    return {k: v for k, v in raw.items() if v is not None}


def check(options: Mapping[str, Option], raw: Mapping, where: str, noun: str = "key"
          ) -> tuple[dict, list[str]]:
    """(the values with defaults filled in, every problem). Bad values fall back to defaults so
    later checks still run."""
    prefix = f"{where}." if where else ""
    problems = []
    for key in raw:
        if key not in options:
            problems.append(f"{prefix}{key}: unknown {noun}{did_you_mean(key, options)}; "
                            f"allowed: {one_of(options) or 'none'}")
    values = {}
    for name, option in options.items():
        if name not in raw or raw[name] is None and not option.required:
            if option.required:
                problems.append(f"{prefix}{name}: missing")
            values[name] = None if option.default is REQUIRED else option.default
            continue
        problem = check_value(option, raw[name])
        if problem:
            problems.append(f"{prefix}{name}: {problem}")
            values[name] = None if option.default is REQUIRED else option.default
        else:
            values[name] = raw[name]
    return values, problems


def check_value(option: Option, value: Any) -> str | None:
    """What is wrong with `value` for `option`, or None."""
    allowed = _plain_types(option.hint)
    if value is None:
        return None if allowed is None or type(None) in allowed or not option.required \
            else "a value is required"
    if allowed and not _is_instance(value, allowed):
        names = " or ".join(dict.fromkeys(t.__name__ for t in allowed if t is not type(None)))
        return f"expected {names}, got {value!r}"
    rules = option.rules
    if "choices" in rules and value not in rules["choices"]:
        return (f"expected one of {', '.join(map(str, rules['choices']))}, got {value!r}"
                f"{did_you_mean(value, rules['choices'])}")
    if rules.get("nonempty") and not value:
        return f"must not be empty, got {value!r}"
    return range_problem(rules, value)


def describe_range(rules: Mapping) -> str:
    """`>= 0 and <= 1`: the range rules as a user reads them."""
    signs = {"min": ">=", "gt": ">", "max": "<="}
    return " and ".join(f"{signs[k]} {v}" for k, v in rules.items() if k in signs)


def range_problem(rules: Mapping, value: Any) -> str | None:
    """What is wrong with a number for the range rules `min`, `gt`, `max`, or None."""
    if "min" in rules and value < rules["min"]:
        return f"expected a number >= {rules['min']}, got {value!r}"
    if "gt" in rules and value <= rules["gt"]:
        return f"expected a number > {rules['gt']}, got {value!r}"
    if "max" in rules and value > rules["max"]:
        return f"expected a number <= {rules['max']}, got {value!r}"
    return None


def parse_block(cls: type, raw: Any, where: str, noun: str = "key") -> tuple[Any, list[str]]:
    """A spec block (frozen dataclass) from a user's mapping; the defaults when it is absent."""
    options = dataclass_options(cls)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        example = ", ".join(f"{n}: {o.default!r}" for n, o in options.items()
                            if not o.required)
        return _default(cls), [f"{where}: expected a mapping such as {{{example}}}, got {raw!r}"]
    values, problems = check(options, raw, where, noun)
    if any(options[k].required and values[k] is None for k in options):
        return None, problems
    return cls(**values), problems


def _default(cls: type) -> Any:
    try:
        return cls()
    except TypeError:
        return None


def _plain_types(hint: Any) -> tuple[type, ...] | None:
    """The runtime types a hint admits (None in the tuple for Optional), or None if unchecked."""
    if hint is Any or hint is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        out: list[type] = []
        for arg in typing.get_args(hint):
            if arg is type(None):
                out.append(type(None))
                continue
            sub = _plain_types(arg)
            if sub is None:
                return None
            out.extend(sub)
        return tuple(dict.fromkeys(out))
    base = origin or hint
    if base is typing.Literal:
        return None
    return _TYPES.get(base)


def _is_instance(value: Any, allowed: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in allowed:
        return False
    return isinstance(value, allowed)
