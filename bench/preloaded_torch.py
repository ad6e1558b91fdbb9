"""A user's training function whose module imports torch, imported by an embedded Ray's warm
workers before the trial (issue #17; BENCHMARKS.md §8): the threads torch uses in the trials
and the sweep's wall time.

    python -m bench.preloaded_torch --seeds 3 --out bench/results/preloaded_torch.json
    python -m bench.preloaded_torch --seeds 3 --trees /tmp/before .   # side by side

Each seed runs a fresh process: `raysearch.run` of a small torch MLP on scikit-learn's digits
(4 trials of `--epochs` epochs, 2 at a time on an embedded Ray of 2 CPUs) defined in a module
on PYTHONPATH (as an installed package's would be: Ray's workers import it in advance), timed
from the process' start to the end of the sweep. With `--trees`, every seed runs each source
tree one after the other, the order alternated per seed (bench.order).
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

USER_MODULE = '''
import torch
from ray import tune
from sklearn.datasets import load_digits
from torch import nn

X, Y = load_digits(return_X_y=True)


def train(config):
    x, y = torch.tensor(X / 16.0, dtype=torch.float32), torch.tensor(Y)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    for _ in range(config["epochs"]):
        for i in range(0, len(x), 32):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x[i:i + 32]), y[i:i + 32]).backward()
            optimizer.step()
        accuracy = (model(x).argmax(1) == y).float().mean().item()
        tune.report({"accuracy": accuracy, "torch_threads": torch.get_num_threads()})
'''

CHILD = r"""
import json, sys, tempfile
import raysearch
result = raysearch.run({"trainable": "bench_user_module:train", "method": "random",
                        "run_cap": 4, "seed": int(sys.argv[1]),
                        "metric": {"name": "accuracy", "goal": "maximize"},
                        "parameters": {"lr": {"distribution": "log_uniform_values",
                                              "min": 1e-3, "max": 1e-2},
                                       "epochs": {"value": int(sys.argv[2])}}},
                       storage=tempfile.mkdtemp(), quiet=True)
rows = result.history.to_pylist()
print("RESULT " + json.dumps({"threads": sorted({r["torch_threads"] for r in rows}),
                              "results": len(rows)}))
"""


def one(seed: int, epochs: int, module_dir: str, tree: str) -> dict:
    root = Path(tree).resolve()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([module_dir, str(root)])}
    env.pop("RAY_ADDRESS", None)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(seed), str(epochs)], env=env,
                         cwd=root, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - start
    (line,) = [x for x in out.splitlines() if x.startswith("RESULT ")]
    return {"seed": seed, "wall_s": round(wall, 2), **json.loads(line[len("RESULT "):])}


def summarise(runs: list[dict], label: str) -> dict:
    walls = [r["wall_s"] for r in runs]
    threads = sorted({t for r in runs for t in r["threads"]})
    print(f"{label}: wall {statistics.median(walls):.1f} s (min {min(walls):.1f}, max "
          f"{max(walls):.1f}); torch threads in the trials {threads}", flush=True)
    return {"wall_s_median": statistics.median(walls), "wall_s_min_max": [min(walls), max(walls)],
            "torch_threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--trees", nargs="+", default=["."],
                        help="source trees to run side by side")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as module_dir:
        Path(module_dir, "bench_user_module.py").write_text(USER_MODULE)
        by_tree: dict[str, list[dict]] = {tree: [] for tree in args.trees}
        for seed, tree in side_by_side(range(args.seeds), args.trees):
            by_tree[tree].append(one(seed, args.epochs, module_dir, tree))
    summary = {tree: summarise(runs, tree) for tree, runs in by_tree.items()}
    save({"date": time.strftime("%Y-%m-%d"), "seeds": args.seeds, "epochs": args.epochs,
          "cpus": os.cpu_count(), "runs": by_tree, "summary": summary}, args.out)


if __name__ == "__main__":
    main()
