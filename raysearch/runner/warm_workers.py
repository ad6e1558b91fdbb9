"""Trials start on warm workers: on an embedded Ray, the worker processes Ray starts with it
import what every trial imports (Ray Tune, raysearch's trial wrapper, the training function's
module and with it torch) while the driver is still preparing the sweep, and Tune's trial
actors are placed on those workers instead of new ones.

Two things keep trials off them otherwise. Ray's prestarted workers import only Ray, so the
first trial pays its own imports (~2 s for torch and Ray Tune). And Tune gives every trial actor
a runtime environment (`PL_DISABLE_FORK=1`, for PyTorch Lightning), which Ray serves only
with workers started for it (~2 s more). So Tune's copy is left out for the sweep and each
trial sets the variable itself; on an embedded Ray every worker also inherits it from its
start. Measured in BENCHMARKS.md §8. On a Ray raysearch did not start (a user's `ray.init()`,
a cluster) the same holds: trial actors take the workers Ray has (0.2-0.9 s sooner per run of a
scikit-learn drop-in fit on 2 cores, BENCHMARKS.md §7); nothing is imported in advance there.

What a worker imports in advance reads the environment before Ray sets a trial's part of it:
Ray sets `OMP_NUM_THREADS` to the trial's CPUs when the trial's actor starts, and torch,
imported earlier, would have sized its thread pool to every core of the machine (two trials on
two cores: four threads; a skorch search ran 3x slower). So the embedded Ray's workers have
that variable from their start (`worker_threads`), with the value Ray would set. Likewise Ray
sets `CUDA_VISIBLE_DEVICES` to a trial's GPUs when it starts, and a module that asks torch
about CUDA at its top (`torch.cuda.is_available()`) would fix the devices the process sees
before that: for a sweep with GPUs, only torch itself (which looks at CUDA when first used) is
imported in advance, the training function's own module in the trial.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager

from raysearch.types import Resources

PRELOAD_ENV = "RAY_preload_python_modules"  # read by the raylet: modules its workers import
EVERY_TRIAL_IMPORTS = ("ray.tune", "raysearch.runner.trainable")
# Tune's runtime environment for trial actors (ray.tune.execution.class_cache), written out:
# importing Tune to read it would cost the driver ~0.6 s before Ray starts. Should a Ray
# version differ, trial_actors_on_warm_workers sees it and leaves Tune's behaviour alone.
TUNE_ACTOR_ENV = {"PL_DISABLE_FORK": "1"}


def trial_modules(trainable: object, resources: Resources | None = None) -> list[str]:
    """What a trial imports before it trains: Tune, raysearch's wrapper, and the training
    function's own module when workers can import it by name (not a file, not `__main__`);
    with GPUs, torch instead of that module (see the module's docstring)."""
    from raysearch.registry import importable_module
    from raysearch.spec.targets import resolve_trainable

    module = importable_module(resolve_trainable(trainable).reference)
    if module and resources is not None and resources.gpu > 0:
        module = "torch"
    return [*EVERY_TRIAL_IMPORTS, *([module] if module else [])]


def worker_environment(modules: list[str]) -> dict[str, str]:
    """Environment variables for an embedded Ray's start (its workers inherit them), its
    workers to import `modules` (`trial_modules`) before they take work."""
    return {PRELOAD_ENV: ",".join(modules), **TUNE_ACTOR_ENV}


def worker_threads(resources: Resources) -> dict[str, str]:
    """`OMP_NUM_THREADS` for an embedded Ray's workers, as Ray sets it in a trial's worker (the
    trial's CPUs rounded down, at least 1): there before the modules imported in advance read
    it. A value the user set is kept (`scoped_environ`), as Ray keeps it."""
    return {"OMP_NUM_THREADS": str(max(math.floor(resources.cpu), 1))}


@contextmanager
def trial_actors_on_warm_workers() -> Iterator[None]:
    """For the block, Tune's trial actors get no runtime environment of their own, so that Ray
    places them on the workers it has (warmed, on an embedded Ray) instead of starting one for
    each; the variables Tune would set there, each trial sets itself (`in_trial_environment`).
    With a Ray version whose variables differ from those written out here, Tune's own way."""
    try:
        from ray.tune.execution import class_cache

        defaults = class_cache.DEFAULT_ENV_VARS
    except (ImportError, AttributeError):  # another Ray version: Tune's own behaviour
        yield
        return
    saved = dict(defaults)
    if saved != TUNE_ACTOR_ENV:  # already cleared by an outer block, or another Ray's
        yield
        return
    defaults.clear()
    try:
        yield
    finally:
        defaults.update(saved)


def in_trial_environment() -> None:
    """What Tune's runtime environment for a trial actor would have set (PyTorch Lightning's
    `PL_DISABLE_FORK`), set in the trial's process before the training function runs."""
    os.environ.update(TUNE_ACTOR_ENV)
