"""Where the seconds before a sweep's first result go, counted from process start (issue #17).

    python -m bench.first_result --seeds 5 --out bench/results/first_result.json
    python -m bench.first_result --seeds 6 --trees /tmp/before .   # two versions side by side

Each seed runs a fresh process (`raysearch.run` of the shipped Fashion-MNIST MLP, 2 trials of
1 epoch, an embedded Ray on 2 CPUs, started by raysearch itself as `raysearch run` does) and
reports, from the moment the parent started it: imports done, sweep started (Ray up, the run
folder's `summary.json` written), first trial's first result recorded (`history.parquet`),
and that result's own training time (`time_s`): what is left is Ray's worker start, the
trial's imports and shipping the data. Then the end: `raysearch.run` returned (the sweep's
epilogue done: test-set evaluation, report, Ray shut down) and the process exited. With
`--trees`, each seed runs every given source tree (a checkout of another commit, e.g.
`git worktree add /tmp/before HEAD~1`) one after another, the order alternated per seed, and
the summary is per tree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.order import side_by_side
from bench.output import save

CHILD = r"""
import json, os, sys, time
t0 = float(os.environ["BENCH_T0"])
marks = {}
import raysearch  # noqa: E402
from raysearch.runner import pipeline  # noqa: E402,F401 - what `raysearch run` imports
marks["imported"] = time.time() - t0
result = raysearch.run({"trainable": "fashion_mnist_mlp", "method": "random", "run_cap": 2,
                        "seed": int(sys.argv[2]),
                        "parameters": {"lr": {"value": 0.001}, "num_layers": {"value": 1},
                                       "hidden_size": {"value": 128}, "optimizer": {"value": "adam"},
                                       "dropout": {"value": 0.0}, "batch_size": {"value": 256},
                                       "epochs": {"value": 1}}},
                       storage=sys.argv[1], quiet=True)
rows = sorted(result.history.to_pylist(), key=lambda r: r["timestamp"])
marks["sweep_started"] = result.summary["started"] - t0
marks["first_result"] = rows[0]["timestamp"] - t0
marks["first_result_training_s"] = rows[0]["time_s"]
marks["returned"] = time.time() - t0
print("MARKS " + json.dumps(marks), flush=True)
"""


def one(seed: int, tree: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as storage:
        env = {**os.environ, "BENCH_T0": repr(time.time())}
        env.pop("RAY_ADDRESS", None)
        if tree is not None:
            env["PYTHONPATH"] = str(Path(tree).resolve())
        out = subprocess.run([sys.executable, "-c", CHILD, storage, str(seed)], env=env,
                             cwd=tree, capture_output=True, text=True, check=True).stdout
        exited = time.time() - float(env["BENCH_T0"])
    (line,) = [x for x in out.splitlines() if x.startswith("MARKS ")]
    return {**json.loads(line[len("MARKS "):]), "exited": exited}


def summarise(runs: list[dict], prefix: str = "") -> dict:
    """Medians (min-max) of each mark, printed one per line."""
    summary = {k: {"median": statistics.median(r[k] for r in runs),
                   "min": min(r[k] for r in runs), "max": max(r[k] for r in runs)}
               for k in runs[0]}
    for k, v in summary.items():
        print(f"{prefix}{k:>26}: {v['median']:.2f} s (min {v['min']:.2f}, max {v['max']:.2f})")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trees", nargs="+", help="source trees to run side by side")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" /
                                              "first_result.json"))
    args = parser.parse_args()
    if not args.trees:
        runs = [one(seed) for seed in range(args.seeds)]
        save({"seeds": args.seeds, "runs": runs, "summary": summarise(runs)}, Path(args.out))
        return
    by_tree: dict[str, list[dict]] = {tree: [] for tree in args.trees}
    for seed, tree in side_by_side(range(args.seeds), args.trees):
        by_tree[tree].append(one(seed, tree))
    summaries = {tree: summarise(runs, f"{tree}: ") for tree, runs in by_tree.items()}
    save({"seeds": args.seeds, "trees": args.trees, "runs": by_tree, "summary": summaries},
         Path(args.out))


if __name__ == "__main__":
    main()
