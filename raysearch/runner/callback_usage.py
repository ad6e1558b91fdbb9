"""Ray Tune's usage record of a run's callbacks, without importing every integration Ray ships.

At every `Tuner.fit`, Ray Tune records for its usage statistics which callbacks the run has, by
class name (`ray.air._internal.usage.tag_callbacks`), and to learn the names of its built-in
loggers it imports each of their modules. Where mlflow is installed, Ray's MLflow module imports
it whole (GenAI, scipy, ...): ~0.8 CPU-seconds on the driver in the seconds before the first
result, which on a small machine delay it by about a second (BENCHMARKS.md §8), for a sweep
that does not track to MLflow at all. For the sweep, the record is made from the same names
written out, with nothing imported; the tag Ray records is the same. Should a Ray version
differ, its own function is left in place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# ray.air._internal.usage._count_callbacks: the built-in loggers it counts by their names
BUILT_IN_LOGGERS = ("WandbLoggerCallback", "MLflowLoggerCallback", "CometLoggerCallback",
                    "AimLoggerCallback")


def count_callbacks(callbacks: list[Any] | None) -> dict[str, int]:
    """What Ray counts: a built-in callback by its class name, any other as a custom logger
    or a custom callback."""
    from ray.tune import Callback
    from ray.tune.logger import LoggerCallback
    from ray.tune.utils.callback import DEFAULT_CALLBACK_CLASSES

    built_in = {*BUILT_IN_LOGGERS, *(cls.__name__ for cls in DEFAULT_CALLBACK_CLASSES)}
    counts: Counter[str] = Counter()
    for callback in callbacks or []:
        if not isinstance(callback, Callback):
            continue  # Tune rejects it later; Ray does not count it either
        name = type(callback).__name__
        if name not in built_in:
            name = "CustomLoggerCallback" if isinstance(callback, LoggerCallback) else "CustomCallback"
        counts[name] += 1
    return dict(counts)


@contextmanager
def callback_usage_without_imports() -> Iterator[None]:
    """For the block, Ray Tune counts a run's callbacks with `count_callbacks`."""
    try:
        from ray.air._internal import usage

        original = usage._count_callbacks
    except (ImportError, AttributeError):  # another Ray version: its own behaviour
        yield
        return
    usage._count_callbacks = count_callbacks
    try:
        yield
    finally:
        usage._count_callbacks = original
