"""One registry mechanism for every extension point: searchers, schedulers, trainables,
trackers and the ways in.

An entry is a name, a target (a callable, or "module:attribute" imported only when used, so
listing and validating never load Ray or torch) and its facts: a frozen dataclass of what the
rest of raysearch needs to know about it (what a searcher cannot express, whether a scheduler
needs checkpoints, what a trainable lets PBT mutate...). Nothing outside an entry checks names.

A factory's keyword-only parameters are its option schema (checked by `raysearch.schema`): an
unknown or misspelled option, or a value of the wrong type, is a spec error before Ray starts.
Plug-in packages register themselves on import; a registry imports its plug-in modules the
first time it is asked for its entries.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from raysearch import schema
from raysearch.errors import SpecError, did_you_mean, one_of
from raysearch.types import SchedulerFacts, SearcherFacts, TrackerFacts, TrainableInfo

F = TypeVar("F")

USER_MODULE_PREFIX = "raysearch_user_"  # a file imported as a module: no name workers import


@dataclass(frozen=True)
class Entry(Generic[F]):
    """One registered extension: name, target and facts."""

    name: str
    target: Callable | str  # the callable, or "module:attribute"
    facts: F
    kind: str = ""

    @property
    def function(self) -> Callable:
        """The target itself (imported on first use when registered as a string)."""
        return load_target(self.target)

    @property
    def reference(self) -> str:
        """How a spec names this entry's target: "module:attribute"."""
        if isinstance(self.target, str):
            return self.target
        return f"{self.target.__module__}:{self.target.__qualname__}"

    def options(self) -> dict[str, schema.Option]:
        return schema.signature_options(self.function)

    def check(self, options: Mapping[str, Any], where: str) -> list[str]:
        """Every problem with `options` for this entry, each naming the field."""
        return schema.check(self.options(), options, where,
                            noun=f"option for {self.kind} {self.name!r}")[1]

    def build(self, *context: Any, **options: Any) -> Any:
        return self.function(*context, **options)


@dataclass
class Registry(Generic[F]):
    """Entries of one kind, looked up by name. `plugins` are modules imported (once) before
    the first lookup: they register the built-in entries."""

    kind: str
    facts_type: type
    plugins: tuple[str, ...] = ()
    _entries: dict[str, Entry] = field(default_factory=dict)
    _loaded: bool = False

    def register(self, name: str, target: Callable | str | None = None, **facts: Any) -> Any:
        """`REG.register("name", "module:fn", fact=...)`, or as a decorator without target."""
        def add(t: Callable | str) -> Callable | str:
            self._entries[name] = Entry(name, t, self.facts_type(**facts), self.kind)
            return t

        return add if target is None else add(target)

    def entries(self) -> dict[str, Entry]:
        if not self._loaded:
            self._loaded = True
            for module in self.plugins:
                importlib.import_module(module)
        return dict(sorted(self._entries.items()))

    def names(self) -> list[str]:
        return list(self.entries())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.entries()

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries().values())

    def get(self, name: Any, where: str | None = None) -> Entry:
        """The entry called `name`; a SpecError naming the field and the known names if none."""
        if name not in self:
            raise SpecError(self.unknown(name, where or self.kind))
        return self.entries()[name]

    def unknown(self, name: Any, where: str) -> str:
        entries = self.entries()
        return (f"{where}: unknown {self.kind} {name!r}{did_you_mean(name, entries)}; "
                f"known: {one_of(entries)}")

    def check(self, name: Any, options: Mapping[str, Any], where: str) -> list[str]:
        if name not in self:
            return [self.unknown(name, where)]
        return self.get(name).check(options, where)


def load_target(target: Callable | str) -> Any:
    """The callable itself, or "module:attribute" / "path/to/file.py:attribute" imported (a
    file once per process, as module `raysearch_user_<stem>`)."""
    if callable(target):
        return target
    module, _, attribute = target.rpartition(":")
    value = load_file(module) if module.endswith(".py") else importlib.import_module(module)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def importable_module(reference: str) -> str | None:
    """The module a worker imports `reference` ("module:attribute") from by name; None when it
    has no such name (a file's module, `__main__`) and travels by value."""
    module = reference.rpartition(":")[0]
    if not module or module.endswith(".py") or module == "__main__" or \
            module.startswith(USER_MODULE_PREFIX):
        return None
    return module


def load_file(path: str) -> Any:
    """Import a Python file by path, once."""
    import importlib.util
    import sys
    from pathlib import Path

    name = f"{USER_MODULE_PREFIX}{Path(path).stem}"
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == path:
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


# ------------------------------------------------------------------ the extension points

SEARCHERS: Registry[SearcherFacts] = Registry("method", SearcherFacts,
                                              ("raysearch.search.searchers",))
SCHEDULERS: Registry[SchedulerFacts] = Registry("scheduler", SchedulerFacts, ("schedulers",))
TRAINABLES: Registry[TrainableInfo] = Registry("trainable", TrainableInfo, ("trainables",))
TRACKERS: Registry[TrackerFacts] = Registry("tracker", TrackerFacts, ("raysearch.runner.tracking",))
