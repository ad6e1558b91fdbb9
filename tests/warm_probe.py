"""A training function that says where it ran (tests/test_warm_workers.py): its worker
process' start time, and what that process had imported before this module."""

from __future__ import annotations

import sys

IMPORTED_BEFORE_ME = sorted(m for m in ("ray.tune", "raysearch.runner.trainable")
                            if m in sys.modules)


def probe(config: dict) -> None:
    import json
    import os

    import psutil
    import ray
    from ray import tune

    tune.report({"process_started": psutil.Process().create_time(),
                 "preloaded": ",".join(IMPORTED_BEFORE_ME), "score": config["x"],
                 "runtime_env": json.dumps(ray.get_runtime_context().runtime_env),
                 "pl_disable_fork": os.environ.get("PL_DISABLE_FORK"),
                 "connect_retry_ms": os.environ.get(
                     "RAY_raylet_client_connect_timeout_milliseconds")})
