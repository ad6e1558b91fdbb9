"""Where a sweep runs: the Ray it uses, and the environment Ray Tune reads while it runs.

Tune reads a few settings from environment variables on the driver; they are set for the
duration of the sweep only and restored afterwards, so nothing leaks into the user's process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

DEFAULT_STORAGE = "runs"
# Ray saves experiment state every ~10 s by default; a driver killed before the first save
# restarts its trials from scratch on resume. Save more often (the state is small).
TUNE_ENV = {
    "TUNE_GLOBAL_CHECKPOINT_S": "2",
    # Our progress line and summary replace Tune's tables and banners.
    "RAY_AIR_NEW_OUTPUT": "0",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
}


@dataclass(frozen=True)
class RunOptions:
    """Where and how to run: everything that is not the sweep itself."""

    address: str | None = None  # None: RAY_ADDRESS if set, else an embedded local Ray
    storage: str = DEFAULT_STORAGE
    name: str | None = None  # run folder prefix; default: the spec's name
    progress_every_s: float | None = 10.0  # None: quiet
    verbose: bool = False  # show trial stdout/stderr and Ray's own logs
    autoscaling: bool = False  # the cluster grows on demand: don't reject what it lacks now


@contextmanager
def scoped_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables (those the user has not set) for a block, then restore."""
    added = {k: v for k, v in values.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


@contextmanager
def ray_session(options: RunOptions) -> Iterator[None]:
    """Use the Ray already initialised (tests, notebooks), connect to `address`, or start an
    embedded local Ray; shut down only what was started here."""
    import ray

    if ray.is_initialized():
        yield
        return
    ray.init(address=options.address, include_dashboard=False, log_to_driver=options.verbose,
             logging_level=logging.INFO if options.verbose else logging.WARNING)
    try:
        yield
    finally:
        ray.shutdown()
