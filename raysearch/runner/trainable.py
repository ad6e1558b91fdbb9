"""The sweep's training function as Ray runs it: data attached through the object store
(`tune.with_parameters`), resources attached (`tune.with_resources`).

A training function named by an importable reference ("module:function", every registered
trainable) travels by that name and is imported in the trial's worker only: the driver never
imports it (nor torch with it), which leaves the cores to Ray's start and the workers' own
imports before the first result (BENCHMARKS.md §8). The extras a function can take
(`spec.targets.TRIAL_EXTRAS`: `data`, `checkpoint_every`, `program`) are offered to every
trial and passed on to those its signature names.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

from raysearch.errors import SpecError
from raysearch.registry import TRAINABLES, USER_MODULE_PREFIX, importable_module, load_target
from raysearch.runner.warm_workers import in_trial_environment
from raysearch.spec import Sweep
from raysearch.spec.targets import resolve_trainable
from raysearch.types import ProgramSpec


def ray_trainable(sweep: Sweep) -> Any:
    """The Tune trainable for `sweep`: its training function with the extras it takes and
    the resources each trial asks for."""
    from ray import cloudpickle, tune

    entry = resolve_trainable(sweep.trainable)
    by_name = isinstance(entry.target, str) and importable_module(entry.target) is not None
    target: Callable | str = entry.target if by_name else entry.function
    if not by_name:
        module = sys.modules.get(getattr(target, "__module__", ""))
        if module is not None and module.__name__.startswith(USER_MODULE_PREFIX):
            cloudpickle.register_pickle_by_value(module)  # from a file: workers can't import it
    extra: dict[str, Any] = {"checkpoint_every": sweep.checkpoint.every}
    # a registered trainable's data loader, else the one a front-end gave (its user's data)
    load_data = entry.facts.load_data or sweep.trainable_info.load_data
    if load_data is not None:
        extra["data"] = load_target(load_data)()
    if sweep.program:  # a W&B sweep's script (raysearch.wandb)
        extra["program"] = ProgramSpec(sweep.program, sweep.command, sweep.metric_name,
                                       sweep.name)
    function = tune.with_parameters(_caller(target), **extra)
    return tune.with_resources(function, {"cpu": sweep.resources.cpu,
                                          "gpu": sweep.resources.gpu})


def check_data_given(sweep: Sweep) -> None:
    """A training function that requires `data` gets it from a registered trainable's loader
    or from the front-end that built the sweep in memory (the scikit-learn drop-in's
    `fit(X, y)`); without either every trial would fail on a missing argument, so it is a
    SpecError before Ray starts. A run folder does not hold such data: resuming a drop-in's
    folder is this case. A registered trainable is not imported for the check."""
    entry = resolve_trainable(sweep.trainable)
    if entry.facts.load_data or sweep.trainable_info.load_data or \
            TRAINABLES.entries().get(entry.name) is entry:
        return
    try:
        parameter = inspect.signature(entry.function).parameters.get("data")
    except (TypeError, ValueError):
        return
    if parameter is not None and parameter.default is inspect.Parameter.empty:
        raise SpecError(f"trainable: {entry.name} takes `data`, which this sweep has no way "
                        f"to give: raysearch passes it from a registered trainable's data "
                        f"loader or from the Python call that started the sweep (the "
                        f"scikit-learn drop-in's fit(X, y)), and a run folder does not hold "
                        f"it; run that call again, or give `data` a default")


def _caller(target: Callable | str) -> Callable:
    """A function Tune runs in the trial: `target` (imported there when named) called with the
    config and those extras its signature takes."""

    def trial(config: dict, **extra: Any) -> Any:
        in_trial_environment()
        function = load_target(target)
        accepted = inspect.signature(function).parameters
        return function(config, **{k: v for k, v in extra.items() if k in accepted})

    name = target.rpartition(":")[2] if isinstance(target, str) else \
        getattr(target, "__name__", "trainable")
    trial.__name__ = trial.__qualname__ = name.rpartition(".")[2]
    return trial
