"""Many small scikit-learn drop-in fits on one Ray the user started (BENCHMARKS.md §7).

    python -m bench.many_fits --repeat 4 --fits 8 --trees /tmp/before .   # side by side

Each repeat runs, per source tree, a fresh process that calls `ray.init(num_cpus=2)` itself
(as a notebook does before many fits: nested cross-validation, scikit-learn's
`check_estimator`) and then fits `raysearch.sklearn.GridSearchCV(LogisticRegression(), {"C":
[0.1, 1.0]}, cv=2)` on iris `--fits` times in a row, timing each `fit`. The trees' order
alternates per repeat. Reported per tree: the first fit, and the median of the later ones.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.order import side_by_side
from bench.output import save

CHILD = r"""
import json, sys, time, warnings
import ray
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from raysearch.sklearn import GridSearchCV
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
X, y = load_iris(return_X_y=True)
seconds = []
for _ in range(int(sys.argv[2])):
    start = time.time()
    GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, cv=2,
                 storage=sys.argv[1]).fit(X, y)
    seconds.append(time.time() - start)
print("FITS " + json.dumps(seconds), flush=True)
"""


def one(fits: int, tree: str | None = None) -> list[float]:
    """Seconds of each fit, in a fresh process on its own Ray."""
    with tempfile.TemporaryDirectory() as storage:
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        if tree is not None:
            env["PYTHONPATH"] = str(Path(tree).resolve())
        out = subprocess.run([sys.executable, "-c", CHILD, storage, str(fits)], env=env,
                             cwd=tree, capture_output=True, text=True, check=True).stdout
    (line,) = [x for x in out.splitlines() if x.startswith("FITS ")]
    return json.loads(line[len("FITS "):])


def summarise(runs: list[list[float]], name: str) -> dict:
    first = [run[0] for run in runs]
    later = [s for run in runs for s in run[1:]]
    summary = {"first_fit_s": statistics.median(first),
               "later_fit_s": statistics.median(later) if later else None,
               "later_min_s": min(later, default=None), "later_max_s": max(later, default=None)}
    print(f"{name}: first fit {summary['first_fit_s']:.2f} s; later fits "
          + (f"{summary['later_fit_s']:.2f} s ({summary['later_min_s']:.2f}-"
             f"{summary['later_max_s']:.2f})" if later else "none"))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--fits", type=int, default=8)
    parser.add_argument("--trees", nargs="+", default=["."], help="source trees side by side")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" /
                                              "many_fits.json"))
    args = parser.parse_args()
    runs: dict[str, list[list[float]]] = {tree: [] for tree in args.trees}
    for _, tree in side_by_side(range(args.repeat), args.trees):
        runs[tree].append(one(args.fits, tree))
    save({"repeat": args.repeat, "fits": args.fits, "trees": args.trees, "runs": runs,
          "summary": {tree: summarise(r, tree) for tree, r in runs.items()}}, Path(args.out))


if __name__ == "__main__":
    main()
