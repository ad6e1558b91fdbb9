"""How long an embedded Ray takes to start as raysearch starts it, against Ray's own settings
(issue #17, BENCHMARKS.md §8).

    python -m bench.ray_start --repeat 10 --out bench/results/ray_start.json

Each run is a fresh process that times one of two starts: `raysearch.runner.session.ray_session`
as `raysearch run` enters it before a sweep (its background imports compete with Ray's own
processes for the cores), and `ray.init` alone with the same environment for the embedded Ray
(as on a machine with cores to spare). Each is run with raysearch's settings and with Ray's
defaults for what raysearch changes (`EMBEDDED_RAY_ENV`; a value set beforehand is kept, so
the child is given Ray's own), the four variants in turn, the order turned by one per repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.first_result import summarise
from bench.order import side_by_side
from bench.output import save

# Ray's own values of what raysearch sets for an embedded Ray (src/ray/common/ray_config_def.h)
RAY_DEFAULTS = {"RAY_raylet_client_connect_timeout_milliseconds": "1000",
                "RAY_raylet_client_num_connect_attempts": "10"}
CHILD = r"""
import json, logging, sys, time
from raysearch.runner.session import EMBEDDED_RAY_ENV, RunOptions, ray_session, scoped_environ
import ray
t0 = time.perf_counter()
if sys.argv[1] == "session":
    with ray_session(RunOptions(progress_every_s=None)):
        up = time.perf_counter() - t0
else:
    with scoped_environ(EMBEDDED_RAY_ENV):
        ray.init(address="local", include_dashboard=False, logging_level=logging.WARNING)
    up = time.perf_counter() - t0
    ray.shutdown()
print("START " + json.dumps({"ray_up_s": up}))
"""
VARIANTS = {"sweep start, raysearch": ("session", {}),
            "sweep start, Ray's defaults": ("session", RAY_DEFAULTS),
            "ray.init alone, raysearch": ("init", {}),
            "ray.init alone, Ray's defaults": ("init", RAY_DEFAULTS)}


def one(variant: str) -> dict:
    how, settings = VARIANTS[variant]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(settings)
    out = subprocess.run([sys.executable, "-c", CHILD, how], env=env, capture_output=True,
                         text=True, check=True).stdout
    (line,) = [x for x in out.splitlines() if x.startswith("START ")]
    return json.loads(line[len("START "):])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" /
                                              "ray_start.json"))
    args = parser.parse_args()
    variants = tuple(VARIANTS)
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    for _, variant in side_by_side(range(args.repeat), variants):
        runs[variant].append(one(variant))
    summary = {v: summarise(runs[v], f"{v}: ") for v in variants}
    save({"repeat": args.repeat, "runs": runs, "summary": summary}, Path(args.out))


if __name__ == "__main__":
    main()
