"""A training function that says where it ran (tests/test_warm_workers.py): its worker
process' start time, what that process had imported before this module, whether the worker
imported this module in advance (in its main thread: Tune runs a trial's function in a thread
of its own), and the threads torch, imported with it, uses in the trial."""

from __future__ import annotations

import os
import sys
import threading

import torch

IMPORTED_IN_ADVANCE = threading.current_thread() is threading.main_thread()

IMPORTED_BEFORE_ME = sorted(m for m in ("ray.tune", "raysearch.runner.trainable")
                            if m in sys.modules)


def probe(config: dict) -> None:
    import json

    import psutil
    import ray
    from ray import tune

    tune.report({"process_started": psutil.Process().create_time(),
                 "preloaded": ",".join(IMPORTED_BEFORE_ME), "score": config["x"],
                 "runtime_env": json.dumps(ray.get_runtime_context().runtime_env),
                 "pl_disable_fork": os.environ.get("PL_DISABLE_FORK"),
                 "imported_in_advance": IMPORTED_IN_ADVANCE,
                 "torch_threads": torch.get_num_threads(),
                 "connect_retry_ms": os.environ.get(
                     "RAY_raylet_client_connect_timeout_milliseconds")})
