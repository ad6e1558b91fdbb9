"""Scaling on one machine: trials per minute and CPU utilisation for max_concurrent 1 vs 2 on
2 cores, 4 at once on half a CPU each (fractional CPUs: several small trials per core), and the
same sweep on a 2-node local Ray cluster (1 CPU per node), to show whether the driver is the
bottleneck.

    python -m bench.scaling --trials 8 --epochs 2 --out bench/results/scaling.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import psutil

from bench.output import save


def sweep(max_concurrent: int, trials: int, epochs: int, storage: str, cpu: float = 1) -> dict:
    import raysearch

    spec = {"trainable": "fashion_mnist_mlp", "method": "random", "seed": 0,
            "metric": {"name": "val_accuracy", "goal": "maximize"},
            "parameters": {"lr": {"distribution": "log_uniform_values", "min": 3e-4, "max": 3e-3},
                           "num_layers": {"value": 2}, "hidden_size": {"value": 128},
                           "batch_size": {"value": 256}, "optimizer": {"value": "adam"},
                           "epochs": {"value": epochs}},
            "run_cap": trials, "max_concurrent": max_concurrent, "resources": {"cpu": cpu}}
    psutil.cpu_percent(interval=None)
    driver = psutil.Process()
    driver_cpu = driver.cpu_times()
    start = time.perf_counter()
    result = raysearch.run(spec, storage=storage, quiet=True)
    wall = time.perf_counter() - start
    used = driver.cpu_times()
    busy = psutil.cpu_percent(interval=None)
    trained = sum(r["time_s"] for r in _last_rows(result.history.to_pylist()))
    return {"max_concurrent": max_concurrent, "cpu_per_trial": cpu, "wall_s": round(wall, 1),
            "trials_per_min": round(60 * trials / wall, 2),
            "machine_cpu_percent": busy,
            "driver_cpu_s": round((used.user + used.system) - (driver_cpu.user + driver_cpu.system),
                                  1),
            "trial_training_s": round(trained, 1),
            "best_val_accuracy": round(result.best.metrics["val_accuracy"], 4)}


def _last_rows(history: list[dict]) -> list[dict]:
    last: dict[str, dict] = {}
    for row in history:
        if row["trial_id"] not in last or row["iteration"] > last[row["trial_id"]]["iteration"]:
            last[row["trial_id"]] = row
    return list(last.values())


def measure(trials: int, epochs: int) -> dict:
    import ray
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    out = {"cpu_count": psutil.cpu_count(), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        for mc, cpu in ((1, 1), (2, 1), (4, 0.5)):
            row = {"cluster": "1 node, 2 CPUs",
                   **sweep(mc, trials, epochs, f"{tmp}/local", cpu)}
            out["runs"].append(row)
            print(json.dumps(row), flush=True)
        ray.shutdown()
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        row = {"cluster": "2 nodes, 1 CPU each", **sweep(2, trials, epochs, f"{tmp}/cluster")}
        out["runs"].append(row)
        print(json.dumps(row), flush=True)
        ray.shutdown()
        cluster.shutdown()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = measure(args.trials, args.epochs)
    save(result, args.out)


if __name__ == "__main__":
    main()
