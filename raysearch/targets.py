"""`trainable:` -> a training function: a registered name, "package.module:function", or
"path/to/file.py:function". Any plain Ray Tune function trainable works unchanged."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raysearch.errors import SpecError, did_you_mean, one_of


@dataclass(frozen=True)
class TrainableInfo:
    """A training function and what raysearch knows about it."""

    name: str
    function: Callable
    target: str  # how spec.yaml names it
    load_data: Callable[[], Any] | None = None  # run once on the driver, shared via object store
    metric: Any = None  # raysearch.spec.Metric: the default objective
    default_parameters: dict | None = None  # W&B grammar, used when a spec gives none
    description: str = ""
    metrics: tuple[str, ...] = ()
    # parameters PBT may change mid-training (None: any); the rest shape the model
    mutable: tuple[str, ...] | None = None


def registry() -> dict[str, TrainableInfo]:
    from trainables import REGISTRY

    return REGISTRY


def resolve_trainable(target: Any) -> TrainableInfo:
    """Find the training function `target` names; SpecError (one line) when it can't."""
    if callable(target):
        return TrainableInfo(name=getattr(target, "__name__", "trainable"), function=target,
                             target=f"{target.__module__}:{target.__qualname__}")
    if not isinstance(target, str) or not target:
        raise SpecError(f"trainable: expected a name or 'module:function', got {target!r}")
    if ":" not in target:
        known = registry()
        if target not in known:
            raise SpecError(f"trainable: unknown trainable {target!r}{did_you_mean(target, known)}"
                            f"; known: {one_of(known)}, or give 'module:function' or "
                            f"'path/to/file.py:function'")
        return known[target]
    module_name, _, attr = target.rpartition(":")
    module = _load_module(module_name, target)
    function = getattr(module, attr, None)
    if not callable(function):
        raise SpecError(f"trainable: {module_name} has no function {attr!r}"
                        f"{did_you_mean(attr, [n for n in dir(module) if not n.startswith('_')])}")
    return TrainableInfo(name=attr, function=function, target=target)


def _load_module(name: str, target: str) -> Any:
    if name.endswith(".py"):
        path = Path(name).expanduser().resolve()
        if not path.is_file():
            raise SpecError(f"trainable: {target!r}: no such file {path}")
        module_name = f"raysearch_user_{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise SpecError(f"trainable: importing {path} failed: {type(exc).__name__}: {exc}") \
                from None
        from ray import cloudpickle  # Ray's own copy is the one that pickles trainables

        cloudpickle.register_pickle_by_value(module)  # workers cannot import it by name
        return module
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise SpecError(f"trainable: cannot import module {name!r} ({exc}); is it on PYTHONPATH?") \
            from None
