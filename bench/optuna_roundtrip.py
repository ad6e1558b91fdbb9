"""What running an Optuna objective on Ray costs per call: `trial.suggest_float`,
`trial.report` and `trial.should_prune` timed inside the objective, and N trivial trials end to
end, through `raysearch.optuna.optimize` and through `study.optimize` in-process, side by side.

    python -m bench.optuna_roundtrip --trials 20 --calls 20 --out bench/results/optuna_roundtrip.json

Each call from a Ray trial is one round trip to the driver's study (worker -> mailbox actor ->
driver thread -> back); in-process it is a method call on the study. Ray starts once (2 CPUs).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.output import save


def make_objective(calls: int):
    """A trivial objective that times each of its own calls to the study."""
    def objective(trial) -> float:
        suggest, report, prune = [], [], []
        total = 0.0
        for i in range(calls):
            t0 = time.perf_counter()
            x = trial.suggest_float(f"x{i}", -1.0, 1.0)
            t1 = time.perf_counter()
            trial.report(x, i)
            t2 = time.perf_counter()
            trial.should_prune()
            t3 = time.perf_counter()
            suggest.append(t1 - t0)
            report.append(t2 - t1)
            prune.append(t3 - t2)
            total += x * x
        trial.set_user_attr("ms", {"suggest": 1000 * statistics.median(suggest),
                                   "report": 1000 * statistics.median(report),
                                   "should_prune": 1000 * statistics.median(prune)})
        return total

    return objective


def _study():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0),
                               pruner=optuna.pruners.NopPruner())


def _summary(study, wall: float) -> dict:
    per_trial = [t.user_attrs["ms"] for t in study.trials if "ms" in t.user_attrs]
    row = {"wall_s": round(wall, 3), "trials": len(study.trials),
           "ms_per_trial": round(1000 * wall / max(1, len(study.trials)), 2)}
    for call in ("suggest", "report", "should_prune"):
        row[f"{call}_ms_median"] = round(statistics.median(p[call] for p in per_trial), 3)
    return row


def measure(trials: int, calls: int, address: str | None = None) -> dict:
    import os

    import ray

    import raysearch

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    ray.init(address=address, num_cpus=None if address else 2, include_dashboard=False,
             log_to_driver=False)
    objective = make_objective(calls)
    with tempfile.TemporaryDirectory() as tmp:
        remote = _study()
        start = time.perf_counter()
        raysearch.optuna.optimize(remote, objective, n_trials=trials, storage=tmp, quiet=True)
        on_ray = _summary(remote, time.perf_counter() - start)
    local = _study()
    start = time.perf_counter()
    local.optimize(objective, n_trials=trials)
    in_process = _summary(local, time.perf_counter() - start)
    if not address:
        ray.shutdown()
    result = {"trials": trials, "calls_per_trial": calls, "cpus": 2,
              "raysearch_optuna": on_ray, "optuna_in_process": in_process}
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--calls", type=int, default=20, help="suggest+report+should_prune "
                                                              "calls per trial")
    parser.add_argument("--address", help="an existing Ray to use (tests)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    save(measure(args.trials, args.calls, args.address), args.out)


if __name__ == "__main__":
    main()
