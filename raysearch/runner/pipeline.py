"""The one run pipeline: every way in (spec, Python API, resume, and the front-ends) builds a
validated `Sweep` and goes through `run_sweep` or `resume_sweep`, which share `_execute`: the
scoped Tune environment, the Ray session, the cluster checks, the Tuner, the run folder.

Thin over Ray's own pieces: `tune.with_parameters` (the dataset goes to the object store once),
`tune.with_resources` (fractional GPUs), `Tuner` / `Tuner.restore`, `RunConfig`,
`CheckpointConfig`, `FailureConfig`, a `Stopper` for the whole-sweep target.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from typing import Any

import yaml

from raysearch.errors import SpecError
from raysearch.log import logger
from raysearch.results import SPEC_FILE, SUMMARY_FILE, SweepResult, load, storage
from raysearch.runner.checks import check_resources, check_storage_visible
from raysearch.runner.session import DEFAULT_STORAGE, TUNE_ENV, RunOptions, ray_session, scoped_environ
from raysearch.spec import Sweep, load_spec

__all__ = ["run_sweep", "resume_sweep", "RunOptions", "DEFAULT_STORAGE"]


def run_sweep(sweep: Sweep, options: RunOptions | None = None) -> SweepResult:
    """Run `sweep` to the end in a new run folder and return its result."""
    options = options or RunOptions()
    run_dir = _new_run_dir(options.storage, options.name or sweep.name)
    storage.write_text(storage.join(run_dir, SPEC_FILE),
                       yaml.safe_dump(sweep.resolved, sort_keys=False))
    _write_summary(run_dir, {"started": time.time(), "finished": False})
    return _execute(sweep, run_dir, options, restore=False)


def resume_sweep(run_dir: str, options: RunOptions | None = None) -> SweepResult:
    """Continue an interrupted sweep in place: finished trials stay finished, unfinished and
    errored ones continue from their last checkpoints."""
    options = options or RunOptions()
    run_dir = run_dir if storage.is_uri(run_dir) else os.path.abspath(run_dir)
    spec_path = storage.join(run_dir, SPEC_FILE)
    if not storage.exists(spec_path):
        raise SpecError(f"{run_dir}: not a raysearch run folder (no {SPEC_FILE})")
    sweep = load_spec(yaml.safe_load(storage.read_text(spec_path)))
    return _execute(sweep, run_dir, options, restore=True)


def _execute(sweep: Sweep, run_dir: str, options: RunOptions, restore: bool) -> SweepResult:
    previous_wall_s = load(run_dir).summary.get("wall_time_s", 0.0) if restore else 0.0
    started = time.time()
    with scoped_environ(TUNE_ENV), ray_session(options):
        check_resources(sweep, options.autoscaling)
        check_storage_visible(run_dir)
        tuner = _restored_tuner(sweep, run_dir) if restore else _tuner(sweep, run_dir, options)
        logger.info("run folder: %s", run_dir)
        tuner.fit()
    return _finish(run_dir, started, previous_wall_s)


def _restored_tuner(sweep: Sweep, run_dir: str) -> Any:
    from ray import tune

    from raysearch.runner.trainable import ray_trainable

    if not tune.Tuner.can_restore(run_dir):
        raise SpecError(f"{run_dir}: Ray Tune saved no experiment state here, so there is "
                        f"nothing to resume; start it again with raysearch run")
    return tune.Tuner.restore(run_dir, trainable=ray_trainable(sweep), resume_unfinished=True,
                              resume_errored=True)


def _tuner(sweep: Sweep, run_dir: str, options: RunOptions) -> Any:
    from ray import tune

    from raysearch.registry import SCHEDULERS, SEARCHERS
    from raysearch.runner.progress import ProgressReporter
    from raysearch.runner.recorder import SweepRecorder
    from raysearch.runner.stopper import TargetStopper
    from raysearch.runner.tracking import tracking_callbacks
    from raysearch.runner.trainable import ray_trainable
    from raysearch.search import build_search

    search_alg, param_space = build_search(sweep)
    searcher, scheduler = SEARCHERS.get(sweep.method), SCHEDULERS.get(sweep.scheduler.type)
    storage_path, name = run_dir.rsplit("/", 1) if storage.is_uri(run_dir) else \
        os.path.split(run_dir)
    recorder = SweepRecorder(run_dir, sweep.metric, sweep.iteration_budget())
    callbacks = [recorder, *tracking_callbacks(sweep)]
    if options.progress_every_s is not None:
        callbacks.append(ProgressReporter(recorder, options.progress_every_s))
    return tune.Tuner(
        ray_trainable(sweep),
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric=sweep.metric.name, mode=sweep.metric.mode, search_alg=search_alg,
            scheduler=scheduler.build(sweep.scheduler_context(), **sweep.scheduler.options),
            # a grid searcher expands its grid itself: one pass over it
            num_samples=1 if searcher.facts.enumerates_grid else sweep.run_cap,
            max_concurrent_trials=sweep.max_concurrent,
            time_budget_s=sweep.time_budget_s,
            # Reusing actors skips a fresh worker (and a torch import) per trial: 5-10x faster.
            reuse_actors=True,
            trial_dirname_creator=trial_dirname,
        ),
        run_config=tune.RunConfig(
            name=name, storage_path=storage_path, verbose=0,
            stop=TargetStopper(sweep.metric) if sweep.metric.target is not None else None,
            callbacks=callbacks,
            # an exploiting scheduler (PBT) keeps every checkpoint: a donor runs on after an
            # exploit is decided and would delete the checkpoint the exploiter is about to load
            checkpoint_config=tune.CheckpointConfig(
                num_to_keep=None if scheduler.facts.exploits else sweep.checkpoint.keep),
            failure_config=tune.FailureConfig(max_failures=sweep.max_failures),
        ),
    )


def trial_dirname(trial: Any) -> str:
    """Short trial folder names (Ray's default embeds the whole config)."""
    return f"trial_{trial.trial_id}"


def _new_run_dir(location: str, name: str) -> str:
    base = location if storage.is_uri(location) else os.path.abspath(location)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = storage.join(base, f"{name}-{stamp}")
    suffix = 1
    while storage.exists(run_dir):  # never reuse (and so overwrite) an existing run folder
        suffix += 1
        run_dir = storage.join(base, f"{name}-{stamp}-{suffix}")
    return run_dir


def _write_summary(run_dir: str, summary: dict) -> None:
    storage.write_text(storage.join(run_dir, SUMMARY_FILE), json.dumps(summary, indent=1))


def _finish(run_dir: str, started: float, previous_wall_s: float = 0.0) -> SweepResult:
    from raysearch.report import write_report

    ended = time.time()
    _write_summary(run_dir, {"started": started, "ended": ended, "finished": True,
                             "wall_time_s": previous_wall_s + ended - started})
    result = load(run_dir)
    write_report(result)
    return result
