"""The one run pipeline: every way in (spec, Python API, resume, and the front-ends) builds a
validated `Sweep` and goes through `run_sweep` or `resume_sweep` (`runner.resume`), which
share the scoped Tune environment, the Ray session, the cluster checks, `_fit` (with clean
interrupts) and `_finish`.

Thin over Ray's own pieces: `tune.with_parameters` (the dataset goes to the object store once),
`tune.with_resources` (fractional GPUs), `Tuner` / `Tuner.restore`, `RunConfig`,
`CheckpointConfig`, `FailureConfig`, a `Stopper` for the whole-sweep target. Ray is reached
before the run folder is made, so a cluster that does not answer leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import yaml

from raysearch.errors import (
    ClusterError,
    SweepFailed,
    SweepInterrupted,
)
from raysearch.log import logger
from raysearch.results import (
    SPEC_FILE,
    SUMMARY_COPY,
    SUMMARY_FILE,
    TRAINABLE_FILE,
    TRIAL_DIR,
    SweepResult,
    driver,
    load,
    storage,
)
from raysearch.runner.callback_usage import callback_usage_without_imports
from raysearch.runner.checks import check_resources, check_storage_visible, check_storage_writable
from raysearch.runner.failures import explain, quiet_ray_logs
from raysearch.runner.interrupt import stop_on_signals
from raysearch.runner.session import (
    DEFAULT_STORAGE,
    TUNE_ENV,
    RaySession,
    RunOptions,
    ray_session,
    scoped_environ,
)
from raysearch.runner.trainable import check_data_given
from raysearch.spec import Sweep

__all__ = ["run_sweep", "RunOptions", "DEFAULT_STORAGE"]
MIN_CHECKPOINTS_KEPT = 2


def run_sweep(sweep: Sweep, options: RunOptions | None = None) -> SweepResult:
    """Run `sweep` to the end in a new run folder and return its result. `options.name`
    renames the sweep everywhere (run folder, spec.yaml, summary, report, trackers)."""
    options = options or RunOptions()
    if options.name:  # one folder name (RunOptions checks it)
        sweep = dataclasses.replace(sweep, name=options.name)
    check_storage_writable(options.storage)
    check_data_given(sweep)
    with scoped_environ(_tune_env(sweep)), ray_session(options, sweep.trainable,
                                                       sweep.resources) as session:
        check_resources(sweep, options.autoscaling)
        run_dir = _new_run_dir(options.storage, sweep.name)  # only once Ray answered
        storage.write_text(storage.join(run_dir, SPEC_FILE),
                           yaml.safe_dump(sweep.resolved, sort_keys=False))
        if callable(sweep.trainable):  # e.g. defined in __main__: resume needs it by value
            storage.write_bytes(storage.join(run_dir, TRAINABLE_FILE), _pickle(sweep.trainable))
        started = time.time()
        _write_summary(run_dir, {"started": started, "finished": False, "versions": versions()})
        try:
            check_storage_visible(run_dir)
        except ClusterError:
            storage.delete_dir(run_dir)  # nothing ran: leave nothing behind
            raise
        driver.claim(run_dir)
        try:
            return _fit(sweep, run_dir, lambda: _tuner(sweep, run_dir, options), options,
                        session, started)
        finally:
            driver.release(run_dir)


def _tune_env(sweep: Sweep) -> dict[str, str]:
    """Tune's environment for this sweep: a searcher whose trials report the metric only at
    their end (an objective's return value) turns off Tune's check that every result has it."""
    from raysearch.registry import SEARCHERS

    if SEARCHERS.get(sweep.method).facts.metric_at_end:
        return {**TUNE_ENV, "TUNE_DISABLE_STRICT_METRIC_CHECKING": "1"}
    return TUNE_ENV


def _pickle(function: Callable) -> bytes:
    from ray import cloudpickle

    return cloudpickle.dumps(function)


def _fit(sweep: Sweep, run_dir: str, make_tuner: Callable[[], Any], options: RunOptions,
         session: RaySession, started: float, previous_wall_s: float = 0.0) -> SweepResult:
    """Run the Tuner; a first SIGINT/SIGTERM stops it cleanly (see runner.interrupt); an error
    that stops Tune itself becomes one line per problem (the traceback with --verbose). The
    epilogue (`_finish`: test-set evaluation, report) needs no Ray: it runs while Ray shuts
    down, once the Tuner and every Ray object it held are gone (freeing one while Ray shuts
    down would end the process: `RaySession.close_early`)."""
    logger.info("run folder: %s", run_dir)
    problems = None
    tuner = make_tuner()
    try:
        with quiet_ray_logs(options.verbose), stop_on_signals() as interrupt, \
                callback_usage_without_imports():
            tuner.fit()
    except Exception as exc:
        if options.verbose:
            raise
        problems = explain(exc, sweep.metric_name, run_dir)
    del tuner  # with every Ray object it held (close_early collects those in cycles)
    session.close_early()
    if problems is not None:
        result = _finish(run_dir, started, previous_wall_s, None, failed=problems)
        raise SweepFailed(problems, result) from None
    result = _finish(run_dir, started, previous_wall_s, interrupt.signal_number)
    if result is None:
        raise SweepFailed(f"cannot write the run folder {run_dir} (is its disk full?); the "
                          f"recorded results on disk are whole: free space and continue with "
                          f"raysearch resume {run_dir}")
    if interrupt.signal_number is not None:
        raise SweepInterrupted(run_dir, interrupt.signal_number)
    return result


def _callbacks(sweep: Sweep, run_dir: str, options: RunOptions) -> list[Any]:
    """What the driver does with each result: the run folder's tables, TensorBoard, the
    trackers, and progress unless quiet."""
    from raysearch.runner.progress import ProgressReporter, SweepSize
    from raysearch.runner.recorder import SweepRecorder
    from raysearch.runner.tensorboard import TensorBoardWriter
    from raysearch.runner.tracking import tracking_callbacks

    recorder = SweepRecorder(run_dir, sweep.metric, sweep.iteration_budget())
    callbacks = [recorder, TensorBoardWriter(run_dir, sweep.metric),
                 *tracking_callbacks(sweep, run_dir)]
    if options.progress_every_s is not None:
        size = SweepSize(sweep.run_cap, sweep.iteration_budget(), sweep.time_budget_s)
        callbacks.append(ProgressReporter(recorder, size, options.progress_every_s))
    return callbacks


def _tuner(sweep: Sweep, run_dir: str, options: RunOptions) -> Any:
    from ray import tune

    from raysearch.registry import SCHEDULERS, SEARCHERS
    from raysearch.runner.stopper import SweepStopper
    from raysearch.runner.trainable import ray_trainable
    from raysearch.search import build_search

    search_alg, param_space = build_search(sweep)
    searcher, scheduler = SEARCHERS.get(sweep.method), SCHEDULERS.get(sweep.scheduler.type)
    storage_path, name = run_dir.rsplit("/", 1) if storage.is_uri(run_dir) else \
        os.path.split(run_dir)
    callbacks = _callbacks(sweep, run_dir, options)
    return tune.Tuner(
        ray_trainable(sweep),
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric=sweep.metric_name, mode=sweep.metric_mode, search_alg=search_alg,
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
            stop=SweepStopper(sweep.metric),
            callbacks=callbacks,
            checkpoint_config=checkpoint_config(sweep),
            failure_config=tune.FailureConfig(max_failures=sweep.max_failures,
                                              fail_fast=sweep.fail_fast),
            # what a trial writes to its working directory (its own SummaryWriter's logs,
            # plots, models, a W&B script's media) lands in RUN_DIR/trial_<id>/, from any node:
            # at each checkpoint, and when the trial ends
            sync_config=tune.SyncConfig(sync_artifacts=True),
        ),
    )


def checkpoint_config(sweep: Sweep) -> Any:
    """Which checkpoints each trial keeps: its `checkpoint.keep` best by the metric, and its
    latest (Tune keeps the latest whatever its score), so the test set is evaluated on the
    checkpoint saved with the best result, not on a later one, and a retry or a paused trial
    continues from the latest. Never fewer than 2 best: a driver killed between a new
    checkpoint (which may delete the previous latest) and Tune's next state save leaves a
    state naming a deleted checkpoint; resume then goes to the trial's newest recorded one on
    disk (`tune_state.reconcile`), which the second kept one makes likely to be recent.
    Without a metric to rank by, or when trials report it only at their end (an objective's
    return value), the `keep` latest. An exploiting scheduler (PBT) keeps every checkpoint: a
    donor runs on after an exploit is decided and would delete the checkpoint the exploiter
    is about to load."""
    from ray import tune

    from raysearch.registry import SCHEDULERS, SEARCHERS

    if SCHEDULERS.get(sweep.scheduler.type).facts.exploits:
        return tune.CheckpointConfig(num_to_keep=None)
    keep = max(MIN_CHECKPOINTS_KEPT, sweep.checkpoint.keep)
    if sweep.metric_name is None or SEARCHERS.get(sweep.method).facts.metric_at_end:
        return tune.CheckpointConfig(num_to_keep=keep)
    return tune.CheckpointConfig(num_to_keep=keep, checkpoint_score_attribute=sweep.metric_name,
                                 checkpoint_score_order=sweep.metric_mode)


def trial_dirname(trial: Any) -> str:
    """Short trial folder names (Ray's default embeds the whole config)."""
    return TRIAL_DIR.format(trial.trial_id)


def _new_run_dir(location: str, name: str) -> str:
    base = location if storage.is_uri(location) else os.path.abspath(location)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = storage.join(base, f"{name}-{stamp}")
    suffix = 1
    while not storage.claim_dir(run_dir):  # never reuse (and so overwrite) a run folder
        suffix += 1
        run_dir = storage.join(base, f"{name}-{stamp}-{suffix}")
    return run_dir


def versions() -> dict[str, str]:
    """What ran the sweep (the report's header shows it)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("raysearch", "ray", "torch"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            continue
    out["python"] = platform.python_version()
    return out


def _write_summary(run_dir: str, summary: dict) -> None:
    """summary.json, and a copy Ray Tune does not rewrite (see results.SUMMARY_COPY)."""
    text = json.dumps(summary, indent=1)
    storage.write_text(storage.join(run_dir, *SUMMARY_COPY.split("/")), text)
    storage.write_text(storage.join(run_dir, SUMMARY_FILE), text)


def _finish(run_dir: str, started: float, previous_wall_s: float, signal_number: int | None,
            failed: list[str] | None = None) -> SweepResult | None:
    """Record how the sweep ended and write the report; None when the run folder cannot be
    written (a full disk)."""
    try:
        return _write_end(run_dir, started, previous_wall_s, signal_number, failed)
    except OSError as exc:
        logger.warning("cannot write the run folder: %s", exc)
        return None


def _write_end(run_dir: str, started: float, previous_wall_s: float, signal_number: int | None,
               failed: list[str] | None) -> SweepResult:
    from raysearch.report import write_report

    ended = time.time()
    summary = {"started": started, "ended": ended,
               "finished": signal_number is None and not failed,
               "wall_time_s": previous_wall_s + ended - started, "versions": versions()}
    if signal_number is not None:
        summary["interrupted_by"] = signal.Signals(signal_number).name
    if failed:
        summary["failed"] = failed
    _write_summary(run_dir, summary)
    result = load(run_dir)
    if summary["finished"]:
        summary.update(test_summary(result))
        _write_summary(run_dir, summary)
        result = load(run_dir)
    write_report(result)
    return result


def record_test(result: SweepResult) -> dict | None:
    """Evaluate the best checkpoint on the held-out test set now and keep it in summary.json
    (`raysearch evaluate RUN_DIR`); the figure, or None when there is nothing to evaluate."""
    from raysearch.runner.evaluate import evaluate_best

    test = evaluate_best(result)
    if test is not None:
        _write_summary(result.path, {**result.summary, "test": test})
    return test


def test_summary(result: SweepResult) -> dict[str, Any]:
    """{"test": ...} for summary.json: the best checkpoint on the held-out test set, or
    {"test_error": why} when that failed (the sweep's results stand either way)."""
    from raysearch.runner.evaluate import evaluate_best

    try:
        test = evaluate_best(result)
    except Exception as exc:  # noqa: BLE001 - never lose a finished sweep over its epilogue
        logger.warning("could not evaluate the best checkpoint on the test set: %s", exc)
        return {"test_error": f"{type(exc).__name__}: {exc}"}
    return {"test": test} if test else {}
