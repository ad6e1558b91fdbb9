"""Resume: a run folder's sweep continued in place, through the same pipeline as a run
(`pipeline._fit`). Tune's saved state is first made to fit what is on disk (`tune_state`);
finished trials stay finished, unfinished and errored ones continue from their last
checkpoints; a sweep that finished with nothing to retry is returned as it is.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

from raysearch.errors import RaysearchNotice, SpecError
from raysearch.results import (
    ERRORED,
    OLD_TRAINABLE_FILE,
    PENDING,
    RUNNING,
    SPEC_FILE,
    SUMMARY_FILE,
    TRAINABLE_FILE,
    UNFINISHED,
    SweepResult,
    driver,
    load,
    read_spec,
    storage,
)
from raysearch.runner.checks import check_resources, check_storage_visible
from raysearch.runner.pipeline import _callbacks, _fit, _tune_env, _tuner, _write_summary
from raysearch.runner.session import RunOptions, ray_session, scoped_environ
from raysearch.runner.trainable import check_data_given
from raysearch.spec import Sweep, load_spec

__all__ = ["resume_sweep", "check_not_driven"]


def resume_sweep(run_dir: str | os.PathLike, options: RunOptions | None = None,
                 trainable: Callable | None = None) -> SweepResult:
    """Continue an interrupted sweep in place: finished trials stay finished, unfinished and
    errored ones continue from their last checkpoints. `trainable` replaces the training
    function the spec names (needed only when it cannot be found by name or by value). A sweep
    that finished with no errored trial is returned as it is, with a notice, Ray not started."""
    options = options or RunOptions()
    run_dir = storage.as_location(run_dir, "run_dir")
    run_dir = run_dir if storage.is_uri(run_dir) else os.path.abspath(run_dir)
    spec_path = storage.join(run_dir, SPEC_FILE)
    if not storage.exists(spec_path):
        raise SpecError(f"{run_dir}: not a raysearch run folder (no {SPEC_FILE})")
    sweep = _stored_sweep(run_dir, read_spec(run_dir), trainable)
    previous = load(run_dir)
    if previous.summary.get("finished") and not previous.counts[ERRORED] and \
            not driver.driver_of(run_dir):
        # nothing left to run: no Ray, and the folder (its wall time, report) left as it is.
        # A claim left behind means its driver was killed after writing that the sweep
        # finished, in the epilogue (test set, report): resume then completes it below.
        warnings.warn(f"{run_dir}: the sweep finished ({previous.trials.num_rows} trials, "
                      f"none errored): nothing to resume", RaysearchNotice, stacklevel=3)
        _mend_summary(run_dir, previous.summary)
        return previous
    check_data_given(sweep)
    previous_wall_s = previous.summary.get("wall_time_s", 0.0)
    check_not_driven(run_dir)
    started = time.time()
    with scoped_environ(_tune_env(sweep)), ray_session(options, sweep.trainable,
                                                       sweep.resources) as session:
        check_resources(sweep, options.autoscaling)
        check_storage_visible(run_dir)
        driver.claim(run_dir)
        try:
            return _fit(sweep, run_dir,
                        lambda: _restored_tuner(sweep, previous, options),
                        options, session, started, previous_wall_s)
        finally:
            driver.release(run_dir)


def check_not_driven(run_dir: str) -> None:
    """Resume refuses a run folder whose driver still runs on this machine (two drivers would
    write the same tables); a claim from another host cannot be checked, and is said."""
    holder = driver.driver_of(run_dir)
    alive = driver.driver_alive(holder)
    if alive and holder.get("pid") != os.getpid():
        raise SpecError(f"{run_dir}: its sweep is still running (pid {holder['pid']} on this "
                        f"machine); stop it first (Ctrl-C there, or kill {holder['pid']}), "
                        f"then resume")
    if alive is None and holder:
        warnings.warn(f"{run_dir} was last driven from host {holder.get('host')} (pid "
                      f"{holder.get('pid')}), which did not end cleanly; if that driver still "
                      f"runs, stop it: two drivers would write the same tables",
                      RaysearchNotice, stacklevel=3)


def _stored_sweep(run_dir: str, raw: dict, trainable: Callable | None) -> Sweep:
    """The sweep as run; its training function by name, else the copy stored by value (a
    function defined in a script's or notebook's __main__ has no importable name)."""
    if trainable is not None:
        return load_spec({**raw, "trainable": trainable})
    try:
        return load_spec(raw)
    except SpecError as exc:
        if not any(p.startswith("trainable:") for p in exc.problems):
            raise
        stored = next((storage.join(run_dir, name) for name in (TRAINABLE_FILE, OLD_TRAINABLE_FILE)
                       if storage.exists(storage.join(run_dir, name))), None)
        if stored is not None:
            from ray import cloudpickle

            return load_spec({**raw, "trainable": cloudpickle.loads(storage.read_bytes(stored))})
        raise SpecError([*exc.problems, f"trainable: resume from Python with the function: "
                                        f"raysearch.resume({run_dir!r}, trainable=...)"]) from None


def _restored_tuner(sweep: Sweep, previous: SweepResult, options: RunOptions) -> Any:
    """Tune's restore of the run folder, its saved state first made to fit `previous` (the
    folder's tables as the resume found them)."""
    from ray import tune

    from raysearch.runner import tune_state
    from raysearch.runner.trainable import ray_trainable

    run_dir = previous.path
    repaired = tune_state.repair(run_dir)
    if repaired:
        warnings.warn(f"Ray Tune's saved state was cut short ({', '.join(repaired)}; a full "
                      f"disk?): resuming from its last whole copy", RaysearchNotice, stacklevel=4)
    tune_state.undo_fail_fast_stop(run_dir)
    changed = tune_state.reconcile(run_dir, previous.history.to_pylist(), _cut_short(previous))
    if changed["moved"]:
        warnings.warn(f"Ray Tune's saved state named checkpoints deleted since, or newer than "
                      f"the recorded results (the driver was killed between a checkpoint and "
                      f"the next save): trial(s) {', '.join(changed['moved'])} resume from "
                      f"their newest recorded checkpoint on disk", RaysearchNotice,
                      stacklevel=4)
    if not tune.Tuner.can_restore(run_dir):
        warnings.warn("Ray Tune saved no experiment state before the driver stopped: the sweep "
                      "starts again in this run folder (results recorded so far are kept)",
                      RaysearchNotice, stacklevel=4)
        return _tuner(sweep, run_dir, options)
    tuner = tune.Tuner.restore(run_dir, trainable=ray_trainable(sweep), resume_unfinished=True,
                               resume_errored=True)
    # Tune restores the callbacks pickled with the experiment: the first session's, with its
    # run folder's path (a folder moved since, say copied off a cluster, got its tables back
    # at the old path) and its progress setting (`resume --quiet` showed progress). This
    # session's are built instead, as `_tuner` builds them; what they record is in the run
    # folder's files, which they read at setup. Through Ray Client the tuner lives on the
    # cluster, where the folder has not moved, and keeps them.
    local = getattr(tuner, "_local_tuner", None)
    if local is not None:
        local.get_run_config().callbacks = _callbacks(sweep, run_dir, options)
    return tuner


def _cut_short(previous: SweepResult) -> set[str]:
    """Trials left unfinished by a session that did not finish (it stopped on an error such as
    a full disk, which ends Tune's live trials) or that `fail_fast` stopped (a finished sweep's
    cuts at its target or time budget are final): resume continues them."""
    if previous.summary.get("finished") and not previous.stopped_on_failure:
        return set()
    return {r["trial_id"] for r in previous.trials.to_pylist()
            if r["status"] in (UNFINISHED, RUNNING, PENDING)}


def _mend_summary(run_dir: str, summary: dict) -> None:
    """summary.json written again from raysearch's copy when a kill left it cut (readers use
    the copy already; other tools read the file)."""
    try:
        json.loads(storage.read_text(storage.join(run_dir, SUMMARY_FILE)))
    except (OSError, ValueError):
        _write_summary(run_dir, summary)
