"""What the report's figures draw, read once from a `SweepResult`: trials in the order they
started, each trial's objective, its per-result history, the searched parameters and how each
is scaled. Figures never read tables themselves."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from raysearch.results import BEST_PREFIX, CONFIG_PREFIX, NON_METRIC_COLUMNS, SweepResult
from raysearch.spec.space import iter_params, parse_parameters
from raysearch.types import is_finite_number


@dataclass(frozen=True)
class Axis:
    """One searched parameter as a report axis: `log` (searched on a log scale), `categorical`
    (given as `values`, numbers included: no ticks between them)."""

    name: str  # dotted, as in the tables without `config.`
    log: bool = False
    categorical: bool = False


@dataclass
class ReportData:
    result: SweepResult
    trials: list[dict]  # trials.parquet rows, in the order their first result arrived
    history: dict[str, list[dict]]  # trial id -> its results, by iteration
    axes: list[Axis]  # varying searched parameters
    metrics: list[str]  # numeric metrics reported, the objective first
    origin: float = 0.0  # timestamp of the sweep's first result
    objective: dict[str, float] = field(default_factory=dict)  # trial id -> its best value

    @property
    def metric(self) -> str | None:
        return self.result.metric

    def better(self, a: float, b: float) -> bool:
        return a > b if self.result.goal == "maximize" else a < b

    def ranked(self) -> list[dict]:
        """Trials with an objective value, in start order."""
        return [t for t in self.trials if t["trial_id"] in self.objective]


def report_data(result: SweepResult) -> ReportData:
    history: dict[str, list[dict]] = {}
    for row in result.history.to_pylist():
        history.setdefault(row["trial_id"], []).append(row)
    for rows in history.values():
        rows.sort(key=lambda r: ((r.get("generation") or 0), r["iteration"]))
    first = {t: min(r.get("timestamp") or math.inf for r in rows) for t, rows in history.items()}
    trials = sorted(result.trials.to_pylist(),
                    key=lambda t: (first.get(t["trial_id"], math.inf), t["trial_id"]))
    objective = {}
    if result.metric is not None:
        key = BEST_PREFIX + result.metric
        objective = {t["trial_id"]: t[key] for t in trials if is_finite_number(t.get(key))}
    stamps = [v for v in first.values() if v != math.inf]
    return ReportData(result=result, trials=trials, history=history,
                      axes=_axes(result.spec, trials), metrics=_metrics(result, history),
                      origin=min(stamps) if stamps else 0.0, objective=objective)


def _axes(spec: dict, trials: list[dict]) -> list[Axis]:
    space, _ = parse_parameters(spec.get("parameters") or {})
    scaled = {}
    for p in iter_params(space):
        name = p.path.removeprefix("parameters.").replace(".parameters.", ".")
        scaled[name] = Axis(name, log="log" in p.distribution,
                            categorical=p.distribution == "categorical")
    out = []
    for column in dict.fromkeys(k for t in trials for k in t if k.startswith(CONFIG_PREFIX)):
        name = column[len(CONFIG_PREFIX):]
        values = [t.get(column) for t in trials]
        if len({str(v) for v in values}) < 2:
            continue  # constant: nothing to show
        axis = scaled.get(name, Axis(name))
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values
                   if v is not None):
            axis = Axis(name, categorical=True)
        out.append(axis)
    return out


def _metrics(result: SweepResult, history: dict[str, list[dict]]) -> list[str]:
    seen: dict[str, None] = {}
    for rows in history.values():
        for row in rows:
            for k, v in row.items():
                if is_finite_number(v) and k not in NON_METRIC_COLUMNS \
                        and not k.startswith(CONFIG_PREFIX):
                    seen.setdefault(k)
    names = list(seen)
    if result.metric in seen:
        names.remove(result.metric)
        names.insert(0, result.metric)
    return names


def category_labels(values: list) -> list:
    """The distinct values of a categorical axis, numbers in numeric order."""
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in distinct):
        return sorted(distinct)
    return sorted(distinct, key=str)
