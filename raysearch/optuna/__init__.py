"""Run an Optuna study's objective, unchanged, on Ray: `raysearch.optuna.optimize(study, objective)`.

The study stays the user's (any sampler, pruner and storage); each trial is a Ray trial that
runs the objective with a `RemoteTrial` whose `suggest_*`, `report`, `should_prune`,
`set_user_attr` ... are answered by the study in the driver (define-by-run spaces, conditional
and dynamic, work because the objective is never split). It goes through raysearch's one
pipeline: a run folder with trials/history tables and a report, progress, clean interrupts.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from raysearch.errors import RaysearchNotice, SpecError
from raysearch.results import SweepResult
from raysearch.runner import DEFAULT_STORAGE, RunOptions, run_sweep
from raysearch.types import Metric, Resources, SchedulerSpec

__all__ = ["optimize", "run_study"]


def optimize(study: Any, objective: Callable, n_trials: int | None = None,
             timeout: float | None = None, n_jobs: int | None = None,
             catch: Sequence[type[Exception]] | type[Exception] = (),
             callbacks: Sequence[Callable] | None = None, gc_after_trial: bool = False,
             show_progress_bar: bool = False, *,
             resources: Mapping[str, float] | None = None, max_concurrent: int | None = None,
             address: str | None = None, storage: str = DEFAULT_STORAGE,
             name: str | None = None, quiet: bool = False) -> SweepResult:
    """`study.optimize(objective, n_trials, timeout, callbacks=...)` with each trial on Ray.

    The first arguments are `Study.optimize`'s, with its meaning: `n_trials` trials run by this
    call (None: until `timeout`, `study.stop()` or Ctrl-C), `timeout` in seconds after which no
    new trial starts, `callbacks(study, frozen_trial)` after each trial, on the driver.
    `n_jobs` is how many trials run at once (as `max_concurrent`; default: as many as the
    resources allow). A trial whose objective raises is FAIL and the run goes on, whatever
    `catch` says (a crashing trial never stops a raysearch sweep); `gc_after_trial` and
    `show_progress_bar` are accepted and have no effect (each trial is its own process state;
    raysearch shows its own progress unless `quiet`).

    raysearch's own: `resources` per trial ({"cpu": 1, "gpu": 0.25}: fractional GPUs pack
    trials on one device), `address` (a Ray cluster; default an embedded local Ray),
    `storage` (where the run folder goes), `name` (default: the study's name), `quiet`.
    Returns the run's `SweepResult`; the study holds every trial, as after `study.optimize`.
    """
    del catch, gc_after_trial, show_progress_bar
    if n_jobs is not None and n_jobs > 0 and max_concurrent is None:
        max_concurrent = n_jobs
    result = run_study(study, objective, n_trials, timeout, callbacks, resources, max_concurrent,
                       RunOptions(address=address, storage=storage, name=name,
                                  progress_every_s=None if quiet else 10.0))
    if not quiet:
        from raysearch.report import summary

        print(summary(result), flush=True)
    return result


def run_study(study: Any, objective: Callable, n_trials: int | None = None,
              timeout: float | None = None, callbacks: Sequence[Callable] | None = None,
              resources: Mapping[str, float] | None = None, max_concurrent: int | None = None,
              options: RunOptions | None = None) -> SweepResult:
    """`optimize` without Optuna's compatibility arguments, with the pipeline's RunOptions
    (the CLI's way in)."""
    from raysearch.optuna.searcher import LIVE

    sweep, live = _sweep(study, objective, n_trials, timeout, callbacks, resources,
                         max_concurrent)
    mailbox = sweep.searcher["mailbox"]
    LIVE[mailbox] = live
    _fail_orphans(study)
    study._stop_flag = False
    study._thread_local.in_optimize_loop = True
    try:
        return run_sweep(sweep, options or RunOptions())
    finally:
        study._thread_local.in_optimize_loop = False
        if live.server is not None:
            live.server.close()
        LIVE.pop(mailbox, None)


def _sweep(study: Any, objective: Callable, n_trials: int | None, timeout: float | None,
           callbacks: Sequence[Callable] | None, resources: Mapping[str, float] | None,
           max_concurrent: int | None) -> tuple[Any, Any]:
    """The run as a validated Sweep (every problem at once, before Ray starts)."""
    import optuna

    from raysearch import schema
    from raysearch.optuna.searcher import LiveStudy
    from raysearch.optuna.trial import objective_trainable, value_keys
    from raysearch.spec import Sweep
    from raysearch.spec.rules import folder_name

    problems = []
    if not isinstance(study, optuna.Study):
        problems.append(f"study: expected an optuna.Study (optuna.create_study(...)), got "
                        f"{type(study).__name__}")
    if not callable(objective):
        problems.append(f"objective: expected a function objective(trial), got "
                        f"{type(objective).__name__}")
    for label, value in (("n_trials", n_trials), ("max_concurrent", max_concurrent)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 1):
            problems.append(f"{label}: expected a whole number >= 1, got {value!r}")
    if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
        problems.append(f"timeout: expected seconds > 0, got {timeout!r}")
    if callbacks is not None and not all(callable(c) for c in callbacks):
        problems.append("callbacks: expected functions callback(study, frozen_trial)")
    res, errs = schema.parse_block(Resources, dict(resources or {}), "resources", noun="resource")
    problems += errs
    if problems:
        raise SpecError(problems)
    directions = [d.name.lower() for d in study.directions]
    keys = value_keys(len(directions))
    mailbox = f"raysearch-optuna-{uuid.uuid4().hex[:12]}"
    if n_trials is None and timeout is None:
        warnings.warn("no n_trials or timeout: trials run until study.stop() or Ctrl-C (then "
                      "`raysearch resume` is not needed: call optimize again)", RaysearchNotice,
                      stacklevel=3)
    sweep = Sweep(
        name=folder_name(study.study_name),  # it names the run folder
        trainable=objective_trainable(objective, mailbox, len(directions)),
        method="optuna-study", metric=Metric(keys[0], directions[0]), space={}, parameters={},
        run_cap=n_trials if n_trials is not None else -1, scheduler=SchedulerSpec(),
        resources=res, max_concurrent=max_concurrent,
        searcher={"mailbox": mailbox, "n_trials": n_trials, "timeout": timeout,
                  "study": describe(study)})
    return sweep, LiveStudy(study, tuple(callbacks or ()))


def describe(study: Any) -> dict:
    """The study as data, for the run folder's spec.yaml."""
    storage = study._storage
    url = getattr(storage, "url", None) or getattr(getattr(storage, "_backend", None),
                                                     "url", None)
    return {"study_name": study.study_name,
            "directions": [d.name.lower() for d in study.directions],
            "sampler": type(study.sampler).__name__, "pruner": type(study.pruner).__name__,
            "storage": url or type(storage).__name__}


def _fail_orphans(study: Any) -> None:
    """Trials a killed raysearch driver left RUNNING are failed (as Optuna's heartbeat would):
    they never finish and do not count towards this call's n_trials."""
    from optuna.trial import TrialState

    from raysearch.optuna.searcher import DRIVER_ATTR

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if DRIVER_ATTR in trial.system_attrs:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            warnings.warn(f"trial {trial.number} was left RUNNING by a raysearch driver that "
                          f"stopped: marked FAIL", RaysearchNotice, stacklevel=3)
