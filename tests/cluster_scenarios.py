"""Driver for the multi-node tests: a real 2-node Ray cluster on this machine
(`ray.cluster_utils.Cluster`: a head and a worker node, 1 CPU each, separate raylets), three
sweeps on it, the run folders' paths printed as JSON for tests/test_multinode.py to check.

Run by the test in a subprocess: a process can be connected to only one Ray, and the test
session's own Ray stays untouched.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import optuna
import ray
from ray.cluster_utils import Cluster

import raysearch
from raysearch.results import read_rows
from tests import optuna_objectives
from tests.conftest import digits_spec

SPACE = {"lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 2e-1},
         "num_layers": {"value": 1}, "hidden_size": {"value": 32}, "batch_size": {"value": 64}}


def crossed_exploits(history: list[dict]) -> list[dict]:
    """PBT exploits whose trial continued on one node from a checkpoint its donor wrote on
    another (the donor's row one epoch earlier, recorded before this one: a donor exploited
    later has newer rows at that epoch)."""
    def donor_node(row: dict) -> str | None:
        rows = [r for r in history if r["trial_id"] == row["restored_from"]
                and r["epoch"] == row["epoch"] - 1 and r["timestamp"] < row["timestamp"]]
        return max(rows, key=lambda r: r["timestamp"])["node"] if rows else None

    return [r for r in history if r.get("restored_from") not in (None, r["trial_id"])
            and donor_node(r) not in (None, r["node"])]


def main(storage: str) -> None:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address)
    out = {"head": cluster.head_node.node_id, "worker": worker.node_id}

    out["spread"] = raysearch.run(digits_spec(
        parameters={**SPACE, "epochs": {"value": 3}}, run_cap=4, name="spread"),
        storage=storage, quiet=True).path

    # an Optuna objective, unchanged: its trials spread over both nodes, the study on the head
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=0))
    out["optuna"] = raysearch.optuna.optimize(study, optuna_objectives.conditional, n_trials=4,
                                              max_concurrent=2, storage=storage, quiet=True).path
    out["optuna_trials"] = [[t.number, t.state.name, t.value] for t in study.trials]

    # Whether an exploit crosses nodes depends on where Ray placed the two trials at that
    # moment (1 of 12 exploits did in one run): up to three PBT sweeps, the first whose
    # exploits crossed is kept (the test asserts one did, and what the copy continued)
    for seed in (3, 4, 5):
        out["pbt"] = raysearch.run(digits_spec(
            parameters={**SPACE, "epochs": {"value": 12}}, run_cap=6, seed=seed, name="pbt",
            scheduler={"type": "pbt", "perturbation_interval": 2, "quantile_fraction": 0.5}),
            storage=storage, quiet=True).path
        if crossed_exploits(raysearch.load(out["pbt"]).history.to_pylist()):
            break

    # Remove the worker node while its trial runs; the trial must resume on the head.
    def remove_worker_when_busy() -> None:
        deadline = time.time() + 300
        while time.time() < deadline:
            for run_dir in Path(storage).glob("kill-*"):
                try:
                    rows = read_rows(str(run_dir), "history.parquet")
                except Exception:
                    continue
                if any(r.get("node") == worker.node_id and r["iteration"] >= 20 for r in rows):
                    cluster.remove_node(worker)
                    out["removed_at"] = time.time()
                    return
            time.sleep(0.2)

    killer = threading.Thread(target=remove_worker_when_busy, daemon=True)
    killer.start()
    out["kill"] = raysearch.run(digits_spec(
        parameters={**SPACE, "epochs": {"value": 150}}, run_cap=2, name="kill",
        checkpoint={"every": 5, "keep": 2}, max_failures=3),
        storage=storage, quiet=True).path
    killer.join(timeout=1)
    print("RESULT " + json.dumps(out), flush=True)
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
