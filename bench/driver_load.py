"""Driver CPU per result on a simulated large sweep: bare Ray Tune against the same Tuner with
raysearch's recorder and progress (its tables, their backups of Tune's state, the progress
lines), side by side in one run.

    python -m bench.driver_load --trials 1000 --iterations 100 --checkpoint-every 10 \
        --repeat 2 --out bench/results/driver_load.json

Trials are trivial (a report per iteration, a small checkpoint every `--checkpoint-every`) on
`--cpus` logical CPUs, so the driver, not training, is the work. Each run is a fresh process
(its own Ray), the variants alternate, and the figure is the driver process's own CPU time
(user + system) during `Tuner.fit`, divided by the results it received. Both variants run
with raysearch's Tune settings (`runner.session.TUNE_ENV`) and the same Tuner options, so
the difference is what the recorder and progress add (target: under 10%). As that difference
is within the runs' noise, the callbacks' own CPU time is also measured in the driver thread
they run in, and set against the rest of the driver's.

It also times one table flush when R rows are already recorded: the old full rewrite of
`history.parquet` against the append of one segment (`raysearch.results.tables`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.output import save

VARIANTS = ("tune", "raysearch_callbacks")


def reporting(config: dict) -> None:
    """A trial that only reports (and checkpoints a few bytes every `checkpoint_every`)."""
    from ray import tune

    every = config["checkpoint_every"]
    for step in range(1, config["iterations"] + 1):
        metrics = {"score": (config["x"] - 0.3) ** 2 + 1.0 / step}
        if every and step % every == 0:
            with tempfile.TemporaryDirectory() as folder:
                Path(folder, "state.json").write_text(json.dumps({"step": step}))
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
        else:
            tune.report(metrics)


HOOKS = ("setup", "on_step_begin", "on_step_end", "on_trial_start", "on_trial_restore",
         "on_trial_save", "on_trial_result", "on_trial_complete", "on_trial_recover",
         "on_trial_error", "on_checkpoint", "on_experiment_end")


def timed(callback: object, spent: list[float]) -> object:
    """`callback` with each Tune hook adding the driver thread's CPU time it took to
    `spent[0]` (the callbacks run in the driver's main thread)."""
    def wrap(hook):  # noqa: ANN001, ANN202
        def run(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            start = time.thread_time()
            try:
                return hook(*args, **kwargs)
            finally:
                spent[0] += time.thread_time() - start
        return run

    for name in HOOKS:
        setattr(callback, name, wrap(getattr(callback, name)))
    return callback


def run_once(variant: str, trials: int, iterations: int, checkpoint_every: int, cpus: int,
             seed: int) -> dict:
    """One sweep in this process; returns the driver's CPU seconds and the results seen."""
    from raysearch.runner.session import TUNE_ENV

    os.environ.update(TUNE_ENV)
    import ray
    from ray import tune

    from raysearch.runner.pipeline import trial_dirname
    from raysearch.runner.progress import ProgressReporter, SweepSize
    from raysearch.runner.recorder import SweepRecorder
    from raysearch.types import Metric

    class Count(tune.Callback):
        results = 0

        def on_trial_result(self, **info: object) -> None:
            Count.results += 1

    ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    with tempfile.TemporaryDirectory() as storage:
        name = f"{variant}-{seed}"
        callbacks: list = [Count()]
        spent = [0.0]
        if variant == "raysearch_callbacks":
            recorder = SweepRecorder(os.path.join(storage, name), Metric("score", "minimize"),
                                     iterations)
            callbacks += [timed(recorder, spent), timed(
                ProgressReporter(recorder, SweepSize(trials, iterations), every_s=10.0,
                                 live=False), spent)]
        tuner = tune.Tuner(
            reporting,
            param_space={"x": tune.uniform(-1.0, 1.0), "iterations": iterations,
                         "checkpoint_every": checkpoint_every},
            tune_config=tune.TuneConfig(num_samples=trials, metric="score", mode="min",
                                        reuse_actors=True, trial_dirname_creator=trial_dirname,
                                        search_alg=tune.search.BasicVariantGenerator(
                                            random_state=seed)),
            run_config=tune.RunConfig(name=name, storage_path=storage, verbose=0,
                                      callbacks=callbacks,
                                      checkpoint_config=tune.CheckpointConfig(num_to_keep=2)))
        wall, cpu = time.perf_counter(), _cpu()
        tuner.fit()
        cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    ray.shutdown()
    return {"variant": variant, "seed": seed, "driver_cpu_s": cpu, "wall_s": wall,
            "results": Count.results,
            "driver_cpu_ms_per_result": 1000 * cpu / max(Count.results, 1),
            "callbacks_cpu_s": spent[0],
            "callbacks_share_of_driver_cpu": spent[0] / cpu}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def flush_cost(rows_recorded: list[int], new_rows: int = 40, repeat: int = 5) -> list[dict]:
    """Seconds for one flush with `rows` rows recorded: the old rewrite of the whole history
    against the append of the rows new since the last flush."""
    from raysearch.results import HISTORY_FILE, run_table, storage

    def row(i: int) -> dict:
        return {"trial_id": f"t{i // 100:05d}", "iteration": i % 100 + 1, "generation": 0,
                "time_s": i * 0.01, "timestamp": 1e9 + i, "node": "n", "score": 1.0 / (i + 1),
                "config.x": 0.5, "restored_from": None, "checkpoint": None}

    out = []
    for rows in rows_recorded:
        history = [row(i) for i in range(rows)]
        new = [row(rows + i) for i in range(new_rows)]
        with tempfile.TemporaryDirectory() as run_dir:
            rewrite, append = [], []
            for _ in range(repeat):
                start = time.perf_counter()
                storage.write_table(os.path.join(run_dir, "old.parquet"),
                                    storage.table_from_rows(history + new))
                rewrite.append(time.perf_counter() - start)
            table = run_table(run_dir, HISTORY_FILE)
            table.append(storage.table_from_rows(history))  # the file: as after a compaction
            table.max_segments = repeat + 1
            for _ in range(repeat):
                start = time.perf_counter()
                table.append(storage.table_from_rows(new))
                append.append(time.perf_counter() - start)
        out.append({"rows_recorded": rows, "new_rows": new_rows,
                    "rewrite_ms": 1000 * statistics.median(rewrite),
                    "append_ms": 1000 * statistics.median(append)})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--checkpoint-every", type=int, default=10)
    parser.add_argument("--cpus", type=int, default=16, help="logical CPUs given to Ray")
    parser.add_argument("--repeat", type=int, default=2, help="runs per variant")
    parser.add_argument("--flush-rows", type=int, nargs="*", default=[4_000, 40_000, 100_000])
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    sweep = (args.trials, args.iterations, args.checkpoint_every, args.cpus)
    if args.variant:  # a child: one run, its figures on the last line
        print(json.dumps(run_once(args.variant, *sweep, seed=args.seed)))
        return
    flush = flush_cost(args.flush_rows)
    runs: list[dict] = []
    for seed in range(args.repeat):
        for variant in VARIANTS:
            proc = subprocess.run(
                [sys.executable, "-m", "bench.driver_load", "--variant", variant,
                 "--seed", str(seed), "--trials", str(args.trials),
                 "--iterations", str(args.iterations),
                 "--checkpoint-every", str(args.checkpoint_every), "--cpus", str(args.cpus)],
                capture_output=True, text=True, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]), flush=True)
            result = summarise(sweep, runs, flush)
            if args.out:  # after every run: a long benchmark stopped early keeps its runs
                save(result, args.out)
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))


def summarise(sweep: tuple[int, int, int, int], runs: list[dict], flush: list[dict]) -> dict:
    """Medians per variant, and what raysearch's callbacks add, two ways: their own CPU
    against the rest of the driver's in the same runs (precise), and the difference between
    the variants' medians (within the runs' noise)."""
    medians = {v: statistics.median(r["driver_cpu_ms_per_result"] for r in runs
                                    if r["variant"] == v)
               for v in VARIANTS if any(r["variant"] == v for r in runs)}
    ours = [r for r in runs if r["variant"] == "raysearch_callbacks"]
    result = {"sweep": dict(zip(("trials", "iterations", "checkpoint_every", "cpus"), sweep,
                                strict=True)),
              "runs": runs, "median_driver_cpu_ms_per_result": medians, "flush": flush}
    if ours:
        result["added_by_raysearch_measured_in_its_callbacks"] = statistics.median(
            r["callbacks_cpu_s"] / (r["driver_cpu_s"] - r["callbacks_cpu_s"]) for r in ours)
    if len(medians) == len(VARIANTS):
        result["added_by_raysearch_between_variants"] = \
            medians["raysearch_callbacks"] / medians["tune"] - 1
    return result


if __name__ == "__main__":
    main()
