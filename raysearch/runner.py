"""Run a validated Sweep on Ray Tune: connect or start Ray, build the Tuner, fit, record.

Thin over Ray's own pieces: `tune.with_parameters` (the dataset goes to the object store once),
`tune.with_resources` (fractional GPUs), `Tuner` / `Tuner.restore`, `RunConfig`,
`CheckpointConfig`, `FailureConfig`, a `Stopper` for the whole-sweep target.
"""

from __future__ import annotations

import inspect
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from ray.tune import Stopper

from raysearch import storage
from raysearch.errors import SpecError
from raysearch.html_report import write_report
from raysearch.log import logger
from raysearch.results import SPEC_FILE, SUMMARY_FILE, SweepResult, load
from raysearch.spec import Sweep, load_spec
from raysearch.targets import resolve_trainable

DEFAULT_STORAGE = "runs"
# Ray saves experiment state every ~10 s by default; a driver killed before the first save
# restarts its trials from scratch on resume. Save more often (the state is small).
RAY_ENV = {
    "TUNE_GLOBAL_CHECKPOINT_S": "2",
    # Our progress line and summary replace Tune's tables and banners.
    "RAY_AIR_NEW_OUTPUT": "0",
    "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
}


@dataclass(frozen=True)
class RunOptions:
    """Where and how to run: everything that is not the sweep itself."""

    address: str | None = None  # None: RAY_ADDRESS if set, else an embedded local Ray
    storage: str = DEFAULT_STORAGE
    name: str | None = None  # run folder prefix; default: the spec's name
    progress_every_s: float | None = 10.0  # None: quiet
    verbose: bool = False  # show trial stdout/stderr and Ray's own logs
    autoscaling: bool = False  # the cluster grows on demand: don't reject what it lacks now


def run_sweep(sweep: Sweep, options: RunOptions = RunOptions()) -> SweepResult:
    """Run `sweep` to the end and return its result (also in the run folder)."""
    started = time.time()
    run_dir = _new_run_dir(options.storage, options.name or sweep.name)
    storage.write_text(storage.join(run_dir, SPEC_FILE),
                       yaml.safe_dump(sweep.resolved, sort_keys=False))
    _write_summary(run_dir, {"started": started, "finished": False})
    with _ray(options):
        _check_resources(sweep, options)
        _check_storage_visible(run_dir)
        tuner = _tuner(sweep, run_dir, options)
        logger.info("run folder: %s", run_dir)
        tuner.fit()
    return _finish(run_dir, started)


def resume_sweep(run_dir: str, options: RunOptions = RunOptions()) -> SweepResult:
    """Continue an interrupted sweep in place: finished trials stay finished, unfinished and
    errored ones continue from their last checkpoints."""
    from ray import tune

    run_dir = run_dir if storage.is_uri(run_dir) else os.path.abspath(run_dir)
    spec_path = storage.join(run_dir, SPEC_FILE)
    if not storage.exists(spec_path):
        raise SpecError(f"{run_dir}: not a raysearch run folder (no {SPEC_FILE})")
    sweep = load_spec(yaml.safe_load(storage.read_text(spec_path)))
    previous = load(run_dir).summary
    started = time.time()
    with _ray(options):
        if not tune.Tuner.can_restore(run_dir):
            raise SpecError(f"{run_dir}: Ray Tune saved no experiment state here, so there is "
                            f"nothing to resume; start it again with raysearch run")
        _check_resources(sweep, options)
        tuner = tune.Tuner.restore(run_dir, trainable=_trainable(sweep),
                                   resume_unfinished=True, resume_errored=True)
        tuner.fit()
    return _finish(run_dir, started, previous_wall_s=previous.get("wall_time_s", 0.0))


# ------------------------------------------------------------------ pieces


def _new_run_dir(location: str, name: str) -> str:
    base = location if storage.is_uri(location) else os.path.abspath(location)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = storage.join(base, f"{name}-{stamp}")
    suffix = 1
    while storage.exists(run_dir):  # never reuse (and so overwrite) an existing run folder
        suffix += 1
        run_dir = storage.join(base, f"{name}-{stamp}-{suffix}")
    return run_dir


class _ray:
    """Use the Ray already initialised (tests, notebooks), connect to `address`, or start an
    embedded local Ray; shut down only what we started."""

    def __init__(self, options: RunOptions):
        self.options = options
        self.started = False

    def __enter__(self) -> None:
        import logging

        import ray

        if ray.is_initialized():
            return
        ray.init(address=self.options.address, include_dashboard=False,
                 log_to_driver=self.options.verbose,
                 logging_level=logging.INFO if self.options.verbose else logging.WARNING)
        self.started = True

    def __exit__(self, *exc: Any) -> None:
        import ray

        if self.started:
            ray.shutdown()


def _check_resources(sweep: Sweep, options: RunOptions) -> None:
    """A trial the cluster can never place would pend forever: say so now instead (unless the
    cluster autoscales, when nodes with those resources may yet come)."""
    import ray

    if options.autoscaling:
        return
    total = ray.cluster_resources()
    wanted = {"CPU": sweep.resources.cpu, "GPU": sweep.resources.gpu}
    for kind, amount in wanted.items():
        have = total.get(kind, 0)
        if amount > have:
            raise SpecError(f"resources.{kind.lower()}: each trial asks for {amount:g} "
                            f"{kind}, but the Ray cluster has {have:g} in all; lower it, "
                            f"connect to a bigger cluster with --address, or pass "
                            f"--autoscaling if the cluster adds nodes on demand")


def _check_storage_visible(run_dir: str) -> None:
    """On a multi-node cluster every node must reach the run folder (checkpoints written on
    one node are restored on another): check that each node sees the spec.yaml just written."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    if storage.is_uri(run_dir):
        return  # s3://, gs://, ...: reachable from every node by construction
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    if len(nodes) < 2:
        return
    probe = ray.remote(num_cpus=0)(os.path.exists)
    marker = storage.join(run_dir, SPEC_FILE)
    seen = ray.get([probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
        n["NodeID"], soft=False)).remote(marker) for n in nodes])
    blind = [n["NodeManagerAddress"] for n, ok in zip(nodes, seen, strict=True) if not ok]
    if blind:
        raise SpecError(f"--storage {os.path.dirname(run_dir)}: node(s) {', '.join(blind)} "
                        f"cannot see this folder, so trials could not restore checkpoints "
                        f"there; use a shared filesystem path or a URI such as "
                        f"s3://bucket/raysearch")


def _trainable(sweep: Sweep) -> Any:
    """The training function with its data (object store) and resources attached."""
    from ray import tune

    info = resolve_trainable(sweep.trainable)
    accepted = inspect.signature(info.function).parameters
    extra: dict[str, Any] = {}
    if info.load_data is not None and "data" in accepted:
        extra["data"] = info.load_data()
    if "checkpoint_every" in accepted:
        extra["checkpoint_every"] = sweep.checkpoint.every
    function = tune.with_parameters(info.function, **extra) if extra else info.function
    return tune.with_resources(function, {"cpu": sweep.resources.cpu,
                                          "gpu": sweep.resources.gpu})


def _tuner(sweep: Sweep, run_dir: str, options: RunOptions) -> Any:
    from ray import tune

    from raysearch.recorder import SweepRecorder
    from raysearch.searchers import SEARCHERS
    from raysearch.tracking import tracking_callbacks
    from schedulers import build_scheduler

    for key, value in RAY_ENV.items():
        os.environ.setdefault(key, value)
    search_alg, param_space = SEARCHERS.build(sweep.method, sweep.space, sweep.metric.name,
                                              sweep.metric.mode, sweep.seed, **sweep.searcher)
    storage_path, name = run_dir.rsplit("/", 1) if storage.is_uri(run_dir) else \
        os.path.split(run_dir)
    return tune.Tuner(
        _trainable(sweep),
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric=sweep.metric.name, mode=sweep.metric.mode, search_alg=search_alg,
            scheduler=build_scheduler(sweep),
            num_samples=1 if sweep.method == "grid" else sweep.run_cap,
            max_concurrent_trials=sweep.max_concurrent,
            time_budget_s=sweep.time_budget_s,
            # Reusing actors skips a fresh worker (and a torch import) per trial: 5-10x faster.
            reuse_actors=True,
            trial_dirname_creator=trial_dirname,
        ),
        run_config=tune.RunConfig(
            name=name, storage_path=storage_path, verbose=0,
            stop=TargetStopper(sweep.metric.name, sweep.metric.goal, sweep.metric.target)
            if sweep.metric.target is not None else None,
            callbacks=[SweepRecorder(run_dir, sweep.metric, sweep.iteration_budget(),
                                     options.progress_every_s), *tracking_callbacks(sweep)],
            checkpoint_config=tune.CheckpointConfig(num_to_keep=_checkpoints_to_keep(sweep)),
            failure_config=tune.FailureConfig(max_failures=sweep.max_failures),
        ),
    )


def _checkpoints_to_keep(sweep: Sweep) -> int | None:
    """PBT keeps every checkpoint: a donor runs on after an exploit is decided and would delete
    the checkpoint the exploiting trial is about to load ("does not exist on storage anymore")."""
    return None if sweep.scheduler.type == "pbt" else sweep.checkpoint.keep


def trial_dirname(trial: Any) -> str:
    """Short trial folder names (Ray's default embeds the whole config)."""
    return f"trial_{trial.trial_id}"


def _write_summary(run_dir: str, summary: dict) -> None:
    storage.write_text(storage.join(run_dir, SUMMARY_FILE), json.dumps(summary, indent=1))


def _finish(run_dir: str, started: float, previous_wall_s: float = 0.0) -> SweepResult:
    ended = time.time()
    _write_summary(run_dir, {"started": started, "ended": ended, "finished": True,
                             "wall_time_s": previous_wall_s + ended - started})
    result = load(run_dir)
    write_report(result)
    return result


class TargetStopper(Stopper):
    """Stops the whole sweep once any trial reports `metric` at or beyond `target`."""

    def __init__(self, metric: str, goal: str, target: float):
        self.metric, self.goal, self.target = metric, goal, target
        self.reached = False

    def __call__(self, trial_id: str, result: dict) -> bool:
        value = result.get(self.metric)
        if isinstance(value, int | float):
            hit = value >= self.target if self.goal == "maximize" else value <= self.target
            self.reached = self.reached or hit
        return self.reached

    def stop_all(self) -> bool:
        return self.reached
