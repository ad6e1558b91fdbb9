"""A run folder as an Optuna study (`raysearch export RUN_DIR --optuna STORAGE`), for the tools
Optuna users already have (optuna-dashboard, `optuna.visualization`, `study.trials_dataframe`).

What maps to what:
- each searched parameter -> its Optuna distribution (W&B's `values` -> categorical,
  `int_uniform` -> int, `*log*` -> float on a log scale, unbounded ones (normal, ...) -> float
  over the values actually drawn); constants are left out (they are in the study's user attrs);
- each trial -> a trial: completed / cut by the target or time budget -> COMPLETE with its best
  objective (what raysearch ranks by), stopped early by the scheduler -> PRUNED, errored ->
  FAIL, running / pending -> RUNNING (a sweep still going); every recorded value of the
  objective -> an intermediate value at its iteration (after a PBT exploit, the newest
  lineage's); raysearch's trial id, status and iterations -> user attrs.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from raysearch.errors import SpecError
from raysearch.results.result import (
    BEST_PREFIX,
    COMPLETED,
    CONFIG_PREFIX,
    ERRORED,
    PENDING,
    RUNNING,
    STOPPED,
    UNFINISHED,
    SweepResult,
)
from raysearch.spec.space import iter_params, parse_parameters
from raysearch.types import is_finite_number


def export_to_optuna(result: SweepResult, storage: str, study_name: str | None = None) -> Any:
    """Write the sweep as a new study in Optuna `storage` (a URL such as sqlite:///x.db, or a
    journal file path ending in .log); returns the study. Never touches an existing study."""
    import optuna

    if result.metric is None:
        raise SpecError(f"{result.path}: this sweep has no metric, so no study values: nothing "
                        f"to export to Optuna")
    name = study_name or str(result.spec.get("name") or "raysearch")
    backend, names = _open(storage)
    if name in names:
        raise SpecError(f"--study-name: a study named {name!r} is already in {storage}; "
                        f"give another name (raysearch never overwrites a study)")
    direction = "maximize" if result.goal == "maximize" else "minimize"
    study = optuna.create_study(storage=backend, study_name=name, direction=direction)
    study.set_user_attr("raysearch_run_folder", result.path)
    study.set_user_attr("metric", result.metric)
    distributions, constants = distributions_of(result)
    study.set_user_attr("constants", constants)
    history = _history_by_trial(result)
    for trial in result.trials.to_pylist():
        study.add_trial(_frozen(trial, history.get(trial["trial_id"], []), distributions,
                                result.metric))
    return study


def _open(url: str) -> tuple[Any, list[str]]:
    """(the Optuna storage at `url`, its studies' names); one Optuna cannot open (a folder
    that is not there, a database driver not installed) is a SpecError naming the flag."""
    import optuna

    try:
        if "://" in url:
            backend = optuna.storages.RDBStorage(url)
        else:
            from optuna.storages.journal import JournalFileBackend

            backend = optuna.storages.JournalStorage(JournalFileBackend(url))
        return backend, optuna.get_all_study_names(backend)
    except Exception as exc:  # noqa: BLE001 - sqlalchemy's, a driver's, the file system's
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise SpecError(f"--optuna {url}: Optuna cannot open this storage: "
                        f"{type(exc).__name__}: {reason}") from None


def distributions_of(result: SweepResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """(parameter name -> Optuna distribution, constant name -> value), the ranges widened to
    hold every value the trials actually ran with (PBT may resample, unbounded ones drew)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    space, problems = parse_parameters(result.spec.get("parameters") or {})
    if problems:
        raise SpecError(problems)
    trials = result.trials.to_pylist()
    out, constants = {}, {}
    for p in iter_params(space):
        name = p.path.removeprefix("parameters.").replace(".parameters.", ".")
        seen = [t.get(CONFIG_PREFIX + name) for t in trials
                if t.get(CONFIG_PREFIX + name) is not None]
        if p.distribution == "constant":
            constants[name] = p.value
            continue
        if p.distribution == "categorical":
            choices = list(p.values) + [v for v in dict.fromkeys(seen) if v not in p.values]
            out[name] = CategoricalDistribution(choices)
            continue
        low, high = p.bounds()
        if p.distribution.startswith("beta") or p.distribution.startswith("q_beta"):
            low, high = 0.0, 1.0
        numbers = [float(v) for v in seen]
        low = min([x for x in (low, *numbers) if x is not None], default=0.0)
        high = max([x for x in (high, *numbers) if x is not None], default=1.0)
        log = "log" in p.distribution and low > 0
        if p.is_int and all(float(v).is_integer() for v in numbers):
            out[name] = IntDistribution(math.floor(low), math.ceil(high), log=log)
        else:
            out[name] = FloatDistribution(low, max(high, low), log=log)
    return out, constants


def _history_by_trial(result: SweepResult) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in result.history.to_pylist():
        out.setdefault(row["trial_id"], []).append(row)
    return out


def _frozen(trial: dict, rows: list[dict], distributions: dict[str, Any], metric: str) -> Any:
    import optuna
    from optuna.trial import TrialState

    state = {COMPLETED: TrialState.COMPLETE, UNFINISHED: TrialState.COMPLETE,
             STOPPED: TrialState.PRUNED, ERRORED: TrialState.FAIL,
             RUNNING: TrialState.RUNNING, PENDING: TrialState.RUNNING}[trial["status"]]
    value = trial.get(BEST_PREFIX + metric)
    if state == TrialState.COMPLETE and not is_finite_number(value):
        state = TrialState.FAIL  # it ended without ever reporting the objective
    intermediate: dict[int, float] = {}
    for row in sorted(rows, key=lambda r: (r.get("generation") or 0, r["iteration"])):
        if is_finite_number(row.get(metric)):
            intermediate[int(row["iteration"])] = float(row[metric])
    params = {}
    for name, distribution in distributions.items():
        v = trial.get(CONFIG_PREFIX + name)
        if v is not None:
            params[name] = int(v) if type(distribution).__name__ == "IntDistribution" else v
    frozen = optuna.trial.create_trial(
        state=state, value=float(value) if state == TrialState.COMPLETE else None,
        params=params, distributions={k: distributions[k] for k in params},
        intermediate_values=intermediate,
        user_attrs={"raysearch_trial_id": trial["trial_id"], "status": trial["status"],
                    "iterations": trial.get("iterations"), "error": trial.get("error")})
    stamps = [r["timestamp"] for r in rows if r.get("timestamp")]
    if stamps:
        _with_times(frozen, min(stamps), max(stamps) if state != TrialState.RUNNING else None)
    return frozen


def _with_times(frozen: Any, start: float, end: float | None) -> None:
    """The trial's start and end from its recorded results (create_trial stamps 'now')."""
    frozen.datetime_start = datetime.fromtimestamp(start)
    frozen.datetime_complete = datetime.fromtimestamp(end) if end is not None else None
