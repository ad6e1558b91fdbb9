"""Time to accuracy on Fashion-MNIST, side by side in one run on one machine:

- the tutorial's sequential grid (../shared/anchors/seed_grid.py: DataLoader, batch 64,
  per-sample transforms, 8 configs x 5 epochs), run as it is;
- Optuna TPE + MedianPruner on our training loop (two trials at a time, one thread each);
- raysearch: hyperopt + ASHA, bayes + ASHA, random + ASHA, and PBT (two trials at a time).

Every searched method gets the same space and the same wall-time budget. Reported: wall time to
reach the grid's best val_accuracy and 0.89, and the best val_accuracy within the budget.

    python -m bench.time_to_accuracy --budget 600 --out bench/results/time_to_accuracy.json \\
        --plot bench/time_to_accuracy.png
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.output import save

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ANCHOR = ROOT.parent / "shared" / "anchors" / "seed_grid.py"
TARGET = 0.89
SPACE = {
    "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
    "num_layers": {"values": [1, 2, 3]},
    "hidden_size": {"values": [64, 128, 256]},
    "batch_size": {"values": [64, 128, 256]},
    "optimizer": {"value": "adam"},
    "dropout": {"value": 0.0},
}
RAYSEARCH_METHODS = {
    "raysearch hyperopt+asha": {"method": "hyperopt", "searcher": {"n_initial_points": 4},
                                "scheduler": {"type": "asha", "grace_period": 1}},
    "raysearch bayes+asha": {"method": "bayes", "searcher": {"n_startup_trials": 4},
                             "scheduler": {"type": "asha", "grace_period": 1}},
    "raysearch random+asha": {"method": "random",
                              "scheduler": {"type": "asha", "grace_period": 1}},
    "raysearch pbt": {"method": "random", "run_cap": 8,
                      "scheduler": {"type": "pbt", "perturbation_interval": 1}},
}


def grid_anchor(epochs: int, data_root: Path, out: Path) -> list[tuple[float, float]]:
    """(seconds since start, val_accuracy) for every epoch of the tutorial's grid."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ANCHOR), str(data_root), str(out), str(epochs)],
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    result = json.loads(out.read_text())
    # the anchor's offsets start after its imports; shift them to our start (import time)
    shift = wall - result["total_wall_s"]
    return [(times[2] + shift, acc) for row in result["results"]
            for acc, times in zip(row["accs"], row["epoch_times"], strict=True)]


def optuna_tpe(budget: float, epochs: int, seed: int) -> list[tuple[float, float]]:
    import optuna
    import torch

    from trainables.classifiers import _fnn
    from trainables.data import fashion_mnist
    from trainables.loop import train_classifier

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    data = fashion_mnist(download=False)
    torch.set_num_threads(1)  # two trials at a time, one thread each, as the Ray runs
    events, lock = [], threading.Lock()

    class OptunaSession:
        checkpoints = False

        def __init__(self, trial):
            self.trial, self.last = trial, 0.0

        def restore(self):
            return None

        def trial_id(self):
            return None

        def report(self, metrics, state):
            with lock:
                events.append((time.perf_counter() - start, metrics["val_accuracy"]))
            self.last = metrics["val_accuracy"]
            self.trial.report(self.last, metrics["epoch"])
            if self.trial.should_prune():
                raise optuna.TrialPruned()

    def objective(trial):
        config = {"lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
                  "num_layers": trial.suggest_categorical("num_layers", [1, 2, 3]),
                  "hidden_size": trial.suggest_categorical("hidden_size", [64, 128, 256]),
                  "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256]),
                  "optimizer": "adam", "dropout": 0.0, "epochs": epochs}
        session = OptunaSession(trial)
        train_classifier(config, data, _fnn, session=session)
        return session.last

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=4))
    study.optimize(objective, timeout=budget, n_jobs=2)
    return events


def raysearch_run(settings: dict, budget: float, epochs: int, seed: int,
                  storage: str) -> list[tuple[float, float]]:
    import raysearch

    spec = {"trainable": "fashion_mnist_mlp", "metric": {"name": "val_accuracy",
                                                          "goal": "maximize"},
            "parameters": {**SPACE, "epochs": {"value": epochs}}, "run_cap": 100,
            "resources": {"cpu": 1}, "seed": seed, "time_budget_s": budget,
            "checkpoint": {"every": 1, "keep": 1}, **settings}
    result = raysearch.run(spec, storage=storage, quiet=True)
    start = result.summary["started"]
    return [(r["timestamp"] - start, r["val_accuracy"]) for r in result.history.to_pylist()]


def summarise(events: list[tuple[float, float]], grid_best: float, budget: float) -> dict:
    events = sorted(events)
    best, curve = 0.0, []
    for t, acc in events:
        if acc > best:
            best = acc
            curve.append((round(t, 2), round(acc, 4)))

    def first(threshold: float) -> float | None:
        return next((t for t, acc in curve if acc >= threshold), None)

    within = [acc for t, acc in events if t <= budget]
    return {"time_to_grid_best_s": first(grid_best), f"time_to_{TARGET}_s": first(TARGET),
            "best_in_budget": round(max(within), 4) if within else None, "curve": curve}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5))
    for name, row in results["methods"].items():
        curve = row["curve"]
        if curve:
            xs, ys = zip(*curve, strict=True)
            ax.step(list(xs) + [results["budget_s"]], list(ys) + [ys[-1]], where="post",
                    label=name, linewidth=2 if name.startswith("raysearch") else 1.5)
    ax.axhline(TARGET, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("wall time (s)")
    ax.set_ylabel("best val_accuracy so far")
    ax.set_ylim(0.80, 0.91)
    ax.set_title(f"Fashion-MNIST MLP, 2 CPU cores, {results['date']}")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600, help="seconds per searched method")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--methods", nargs="+",
                        default=["grid", "optuna", *RAYSEARCH_METHODS])
    parser.add_argument("--address", help="an existing Ray to use (tests)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()

    from bench.throughput import unpacked_fashion_mnist

    events: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if "grid" in args.methods:
            events["tutorial grid"] = grid_anchor(args.epochs, unpacked_fashion_mnist(tmp_path),
                                                  tmp_path / "grid.json")
        if "optuna" in args.methods:
            events["optuna tpe+median"] = optuna_tpe(args.budget, args.epochs, args.seed)
        ray_methods = [m for m in args.methods if m in RAYSEARCH_METHODS]
        if ray_methods:
            import os

            import ray

            os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
            ray.init(address=args.address, num_cpus=None if args.address else 2,
                     include_dashboard=False, log_to_driver=False)
            for name in ray_methods:
                events[name] = raysearch_run(RAYSEARCH_METHODS[name], args.budget, args.epochs,
                                             args.seed, str(tmp_path / "runs"))
            if not args.address:
                ray.shutdown()
    grid = events.get("tutorial grid")
    grid_best = max(acc for _, acc in grid) if grid else TARGET
    results = {"date": time.strftime("%Y-%m-%d"), "budget_s": args.budget,
               "epochs": args.epochs, "grid_best": grid_best,
               "grid_wall_s": round(max(t for t, _ in grid), 1) if grid else None,
               "methods": {name: summarise(ev, grid_best, args.budget if name != "tutorial grid"
                                           else float("inf")) for name, ev in events.items()}}
    for name, row in results["methods"].items():
        print(f"{name:28s} to grid best {row['time_to_grid_best_s']!s:>8} s  "
              f"to {TARGET} {row[f'time_to_{TARGET}_s']!s:>8} s  "
              f"best {row['best_in_budget']}", flush=True)
    save(results, args.out)
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
