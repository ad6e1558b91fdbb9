"""The sweep's training function as Ray runs it: data attached through the object store
(`tune.with_parameters`), resources attached (`tune.with_resources`)."""

from __future__ import annotations

import inspect
import sys
from typing import Any

from raysearch.registry import USER_MODULE_PREFIX, load_target
from raysearch.spec import Sweep
from raysearch.spec.targets import resolve_trainable
from raysearch.types import ProgramSpec


def ray_trainable(sweep: Sweep) -> Any:
    from ray import cloudpickle, tune

    entry = resolve_trainable(sweep.trainable)
    function = entry.function
    module = sys.modules.get(function.__module__)
    if module is not None and module.__name__.startswith(USER_MODULE_PREFIX):
        cloudpickle.register_pickle_by_value(module)  # loaded from a file: workers can't import it
    accepted = inspect.signature(function).parameters
    extra: dict[str, Any] = {}
    # a registered trainable's data loader, else the one a front-end gave (its user's data)
    load_data = entry.facts.load_data or sweep.trainable_info.load_data
    if load_data is not None and "data" in accepted:
        extra["data"] = load_target(load_data)()
    if "checkpoint_every" in accepted:
        extra["checkpoint_every"] = sweep.checkpoint.every
    if "program" in accepted and sweep.program:  # a W&B sweep's script (raysearch.wandb)
        extra["program"] = ProgramSpec(sweep.program, sweep.command, sweep.metric_name,
                                       sweep.name)
    function = tune.with_parameters(function, **extra) if extra else function
    return tune.with_resources(function, {"cpu": sweep.resources.cpu,
                                          "gpu": sweep.resources.gpu})
