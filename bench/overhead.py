"""Per-trial overhead, side by side in one run: N trivial trials through raysearch (as shipped),
plain Ray Tune with its defaults, and Optuna's in-process loop.

    python -m bench.overhead --n 50 200 --out bench/results/overhead.json

Ray starts once (2 CPUs) and is shared by the two Ray-based runs; each figure is the wall time
of the sweep call itself, the median of `--repeat` sweeps per tool (alternating which goes
first), after an untimed warm-up sweep of each so that neither pays the imports and the
worker pool's start for the other. Targets (BENCHMARKS.md): raysearch >= 10x lower overhead than Tune's
defaults, within 5x of Optuna in-process.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.output import save

HERE = Path(__file__).resolve().parent


def run_raysearch(n: int, storage: str) -> float:
    import raysearch

    start = time.perf_counter()
    raysearch.run(trainable=f"{HERE / 'trivial.py'}:trivial", metric="score", goal="minimize",
                  parameters={"x": {"distribution": "uniform", "min": -1.0, "max": 1.0}},
                  run_cap=n, seed=0, storage=storage, quiet=True)
    return time.perf_counter() - start


def run_plain_tune(n: int, storage: str) -> float:
    from ray import tune

    from bench.trivial import trivial

    start = time.perf_counter()
    tune.Tuner(trivial, param_space={"x": tune.uniform(-1.0, 1.0)},
               tune_config=tune.TuneConfig(num_samples=n, metric="score", mode="min"),
               run_config=tune.RunConfig(storage_path=storage, verbose=0)).fit()
    return time.perf_counter() - start


def run_optuna(n: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)
        score = 0.0
        for step in range(3):
            score = (x - 0.3) ** 2 + 1.0 / (step + 1)
            trial.report(score, step)
        return score

    start = time.perf_counter()
    optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).optimize(objective, n)
    return time.perf_counter() - start


def measure(sizes: list[int], address: str | None = None, repeat: int = 3) -> dict:
    import os
    import statistics

    import ray

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    t0 = time.perf_counter()
    ray.init(address=address, num_cpus=None if address else 2, include_dashboard=False,
             log_to_driver=False)
    ray_start_s = time.perf_counter() - t0
    tools = {"raysearch": run_raysearch, "ray_tune_defaults": run_plain_tune}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # a warm-up sweep of each (untimed): the imports (Ray Tune, the report's plotting) and
        # Ray's worker pool are then warm for both, whichever runs first
        for tool, run in tools.items():
            run(2, f"{tmp}/warm-{tool}")
        for n in sizes:
            walls: dict[str, list[float]] = {tool: [] for tool in tools}
            for r in range(repeat):  # alternating which goes first
                for tool in list(tools)[::1 if r % 2 == 0 else -1]:
                    walls[tool].append(tools[tool](n, f"{tmp}/{tool}-{n}-{r}"))
            walls["optuna_in_process"] = [run_optuna(n) for _ in range(repeat)]
            row: dict = {"n": n, "repeat": repeat}
            for tool, runs in walls.items():
                wall = statistics.median(runs)
                row[tool] = {"wall_s": round(wall, 3), "ms_per_trial": round(1000 * wall / n, 2),
                             "trials_per_min": round(60 * n / wall, 1),
                             "walls_s": [round(w, 3) for w in runs]}
            row["tune_defaults_over_raysearch"] = round(
                row["ray_tune_defaults"]["wall_s"] / row["raysearch"]["wall_s"], 2)
            row["raysearch_over_optuna"] = round(
                row["raysearch"]["wall_s"] / row["optuna_in_process"]["wall_s"], 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if not address:
        ray.shutdown()
    return {"ray_start_s": round(ray_start_s, 2), "cpus": 2, "runs": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--address", help="an existing Ray to use (tests)")
    parser.add_argument("--repeat", type=int, default=3, help="timed sweeps per tool and N")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = measure(args.n, args.address, args.repeat)
    save(result, args.out)


if __name__ == "__main__":
    main()
