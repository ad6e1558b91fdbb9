"""Name -> factory registries for every extension point (searchers, schedulers).

A factory is a plain function: positional context first, then keyword-only options with defaults.
Its signature is the option schema: an unknown or misspelled option, or a value of the wrong type,
is a spec error before Ray starts (Ray's own factories silently drop unknown keys).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from raysearch.errors import did_you_mean, one_of

_CHECKABLE = {int: (int,), float: (int, float), str: (str,), bool: (bool,), dict: (dict,),
              list: (list, tuple)}


@dataclass
class Registry:
    """Factories of one kind ("searcher", "scheduler"), looked up by name."""

    kind: str
    factories: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def register(self, name: str) -> Callable:
        def decorate(factory: Callable) -> Callable:
            self.factories[name] = factory
            return factory

        return decorate

    def names(self) -> list[str]:
        return sorted(self.factories)

    def options(self, name: str) -> dict[str, inspect.Parameter]:
        """The keyword-only options a factory takes, with defaults and annotations."""
        params = inspect.signature(self.factories[name]).parameters.values()
        return {p.name: p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}

    def check(self, name: Any, options: Mapping[str, Any], where: str) -> list[str]:
        """Every problem with `name` and its `options`, each naming the field."""
        if name not in self.factories:
            return [f"{where}: unknown {self.kind} {name!r}{did_you_mean(name, self.factories)}; "
                    f"known: {one_of(self.factories)}"]
        known = self.options(name)
        problems = []
        factory = self.factories[name]
        for key, value in options.items():
            if key not in known:
                problems.append(f"{where}.{key}: unknown option for {self.kind} {name!r}"
                                f"{did_you_mean(key, known)}; allowed: {one_of(known) or 'none'}")
                continue
            expected = _plain_types(_annotation(factory, known[key]))
            if value is not None and expected and not _is_instance(value, expected):
                names = " or ".join(t.__name__ for t in expected)
                problems.append(f"{where}.{key}: expected {names}, got {value!r}")
        return problems

    def build(self, name: str, *context: Any, **options: Any) -> Any:
        return self.factories[name](*context, **options)


def _annotation(factory: Callable, param: inspect.Parameter) -> Any:
    """The evaluated annotation of one option (these modules use postponed annotations)."""
    ann = param.annotation
    if isinstance(ann, str):
        try:
            ann = eval(ann, factory.__globals__)  # noqa: S307 - our own factories' annotations
        except Exception:
            return None
    return ann


def _plain_types(hint: Any) -> tuple[type, ...]:
    """(int,), (int, float) ... for annotations we can check; () for anything richer."""
    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _union_type()) else ()
    candidates = [a for a in args if a is not type(None)] if args else [hint]
    out: list[type] = []
    for c in candidates:
        c = typing.get_origin(c) or c
        if c not in _CHECKABLE:
            return ()
        out.extend(_CHECKABLE[c])
    return tuple(dict.fromkeys(out))


def _is_instance(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _union_type() -> Any:
    import types

    return types.UnionType
