"""A skorch search as its users run it, side by side: scikit-learn's RandomizedSearchCV
(n_jobs=2), raysearch's drop-in without early stopping, and with early stopping (ASHA).

    python -m bench.sklearn_search --seeds 0 1 2 --out bench/results/sklearn_search.json

The search: a skorch NeuralNetClassifier (an MLP) on scikit-learn's digits, `n_iter`
candidates over learning rate, width and dropout, `epochs` epochs each, 3-fold CV. Each
(method, seed) runs in a fresh process, timed from spawn to exit (what a user waits for: imports
and Ray start included); the child reports the best CV accuracy and the epochs trained.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.output import save

METHODS = ("sklearn", "raysearch", "raysearch+asha")


def child(method: str, seed: int, n_iter: int, epochs: int) -> dict:
    import numpy as np
    import torch
    from scipy.stats import loguniform
    from sklearn import model_selection
    from sklearn.datasets import load_digits
    from skorch import NeuralNetClassifier
    from torch import nn

    import raysearch.sklearn

    class MLP(nn.Module):
        def __init__(self, hidden: int = 64, dropout: float = 0.0) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout),
                                     nn.Linear(hidden, 10))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X, y = (X / 16.0).astype(np.float32), y.astype(np.int64)
    net = NeuralNetClassifier(MLP, max_epochs=epochs, lr=0.01, optimizer=torch.optim.Adam,
                              criterion=nn.CrossEntropyLoss, train_split=None, verbose=0)
    space = {"lr": loguniform(1e-4, 1e-1), "module__hidden": [16, 64, 256],
             "module__dropout": [0.0, 0.2, 0.5]}
    common = dict(n_iter=n_iter, cv=3, random_state=seed, scoring="accuracy")
    if method == "sklearn":
        search = model_selection.RandomizedSearchCV(net, space, n_jobs=2, **common)
    else:
        extra = {"early_stopping": "asha", "max_iters": epochs} if method.endswith("asha") \
            else {}
        search = raysearch.sklearn.RandomizedSearchCV(net, space, storage="/tmp/bench-runs",
                                                      **common, **extra)
    search.fit(X, y)
    iterations = search.cv_results_.get("n_iterations")
    return {"best_score": float(search.best_score_),
            "epochs_trained": int(sum(iterations) * 3) if iterations is not None
            else n_iter * epochs * 3}


def measure(seeds: list[int], n_iter: int, epochs: int) -> dict:
    runs = []
    for seed in seeds:
        for method in METHODS:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "bench.sklearn_search", "--child",
                                   method, "--seeds", str(seed), "--n-iter", str(n_iter),
                                   "--epochs", str(epochs)], capture_output=True, text=True)
            wall = time.perf_counter() - start
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                raise RuntimeError(f"{method} seed {seed} failed: {proc.stderr[-2000:]}")
            row = {"method": method, "seed": seed, "wall_s": round(wall, 2),
                   **json.loads(lines[-1].removeprefix("RESULT "))}
            print(json.dumps(row), flush=True)
            runs.append(row)
    summary = {}
    for method in METHODS:
        rows = [r for r in runs if r["method"] == method]
        summary[method] = {
            "wall_s_median": statistics.median(r["wall_s"] for r in rows),
            "wall_s_min_max": [min(r["wall_s"] for r in rows), max(r["wall_s"] for r in rows)],
            "best_score_median": statistics.median(r["best_score"] for r in rows),
            "epochs_trained_median": statistics.median(r["epochs_trained"] for r in rows)}
    return {"n_iter": n_iter, "epochs": epochs, "cv": 3, "seeds": seeds, "runs": runs,
            "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-iter", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.seeds[0], args.n_iter,
                                           args.epochs)), flush=True)
        return
    save(measure(args.seeds, args.n_iter, args.epochs), args.out)


if __name__ == "__main__":
    main()
