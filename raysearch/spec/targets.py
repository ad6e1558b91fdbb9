"""`trainable:` -> a training function: a registered name, "package.module:function", or
"path/to/file.py:function". Any plain Ray Tune function trainable works unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from raysearch.errors import SpecError, did_you_mean
from raysearch.registry import TRAINABLES, Entry, load_target
from raysearch.types import TrainableInfo

# what raysearch passes a training function besides the config, by keyword, when its signature
# names it (runner.trainable): the data its loader made, checkpoint.every, a W&B program
TRIAL_EXTRAS = ("data", "checkpoint_every", "program")


def resolve_trainable(target: Any, where: str = "trainable") -> Entry[TrainableInfo]:
    """The registry entry `target` names, or an entry for a user's function; SpecError (one
    line, naming `where`) when it can't be found."""
    if callable(target):
        _check_takes_config(target, where)
        return Entry(getattr(target, "__name__", "trainable"), target, TrainableInfo(),
                     "trainable")
    if not isinstance(target, str) or not target:
        raise SpecError(f"{where}: expected a name or 'module:function', got {target!r}")
    if ":" not in target:
        if target not in TRAINABLES:
            raise SpecError(TRAINABLES.unknown(target, "trainable") +
                            ", or give 'module:function' or 'path/to/file.py:function'")
        return TRAINABLES.get(target)
    module, _, attribute = target.rpartition(":")
    if ("/" in module or "\\" in module) and not module.endswith(".py"):  # a path
        raise SpecError(f"{where}: {target!r}: {module} is not a Python file; give "
                        f"'path/to/file.py:function' or 'package.module:function'")
    if module.endswith(".py"):
        path = Path(module).expanduser().resolve()
        if not path.is_file():
            raise SpecError(f"{where}: {target!r}: no such file {path}")
        target = f"{path}:{attribute}"
    function = _load(target, module, attribute, where)
    if not callable(function):
        return _not_callable(module, attribute, where)
    _check_takes_config(function, where)
    return Entry(attribute, target, TrainableInfo(), "trainable")


def _check_takes_config(function: Callable, where: str) -> None:
    """Ray Tune calls a function trainable with one argument, the trial's config: one that
    cannot take it would fail in every trial, so it fails validation instead. A class (a
    `tune.Trainable`) or a callable whose signature Python cannot read is Tune's to judge."""
    import inspect

    if inspect.isclass(function):
        return
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    extras = {name: None for name in TRIAL_EXTRAS if name in signature.parameters}
    try:
        signature.bind({}, **extras)
    except TypeError:
        name = getattr(function, "__name__", "the function")
        raise SpecError(f"{where}: {name}{signature} cannot take the trial's config: Ray Tune "
                        f"calls a training function with one argument, e.g. "
                        f"def {name}(config): ... config['lr'] ...") from None


def _load(target: str, module: str, attribute: str, where: str) -> Callable | None:
    try:
        return load_target(target)
    except AttributeError:
        return None
    except ImportError as exc:
        raise SpecError(f"{where}: cannot import module {module!r} ({exc}); is it on "
                        f"PYTHONPATH?") from None
    except SpecError:
        raise
    except Exception as exc:  # the user's module raised while importing
        raise SpecError(f"{where}: importing {module} failed: {type(exc).__name__}: {exc}") \
            from None


def _not_callable(module: str, attribute: str, where: str) -> Entry:
    import sys

    loaded = sys.modules.get(module) or next(
        (m for m in sys.modules.values() if getattr(m, "__file__", None) == module), None)
    names = [n for n in dir(loaded) if not n.startswith("_")] if loaded else []
    raise SpecError(f"{where}: {module} has no function {attribute!r}"
                    f"{did_you_mean(attribute, names)}")
