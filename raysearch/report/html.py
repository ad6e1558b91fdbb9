"""`report.html`: one self-contained page (plotly.js inlined, no CDN) a person would rather look
at than read: best trial, parallel coordinates, importance, learning curves, trial table.

The page is a Jinja2 template with autoescaping: every user-supplied string (names, metrics,
configs, errors) is escaped by the template, not by hand. Plotly's own figure HTML is the only
markup passed through as is.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from raysearch.report.importance import encode, importances
from raysearch.results import (
    BEST_PREFIX,
    CONFIG_PREFIX,
    NON_METRIC_COLUMNS,
    STOPPED,
    SweepResult,
    flatten,
    storage,
)
from raysearch.spec.space import iter_params, parse_parameters

REPORT_FILE = "report.html"
STATUS_COLOURS = {"completed": "#1b9e77", "stopped": "#d95f02", "errored": "#e7298a",
                  "unfinished": "#a6761d", "running": "#7570b3", "pending": "#999999"}
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
NO_METRIC = "This sweep has no metric (a grid or random sweep that ranks nothing)."


@cache
def _template() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("raysearch.report"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    return env.get_template("report.html.j2")


def write_report(result: SweepResult) -> str:
    """Write `report.html` into the run folder (atomically) and return its location."""
    location = storage.join(result.path, REPORT_FILE)
    storage.write_text(location, render(result))
    return location


def render(result: SweepResult) -> str:
    from markupsafe import Markup

    trials = result.trials.to_pylist()
    sections, first = [], True
    for title, figure, note in (_parallel_coordinates(result, trials),
                                _importance(result, trials), _learning_curves(result, trials)):
        plot = None
        if figure is not None:
            plot = Markup(figure.to_html(full_html=False, include_plotlyjs=first,
                                         config=PLOTLY_CONFIG))
            first = False
        sections.append({"title": title, "plot": plot, "note": note})
    counts, wall = result.counts, result.summary.get("wall_time_s")
    cards = [("trials", result.trials.num_rows), ("completed", counts["completed"]),
             ("stopped early", counts["stopped"]), ("errored", counts["errored"])]
    if counts["unfinished"]:
        cards.append(("cut by target/budget", counts["unfinished"]))
    if wall is not None:
        cards.append(("wall time", f"{wall:.0f} s"))
    best = result.best
    best_rows = []
    if best is not None:
        config = list(flatten(best.config).items())
        metrics = [(k, v) for k, v in best.metrics.items() if k != "trial_id"]
        for i in range(max(len(config), len(metrics))):
            best_rows.append((config[i] if i < len(config) else ("", None),
                              metrics[i] if i < len(metrics) else ("", None)))
    return _template().render(result=result, spec=result.spec, cards=cards, best=best,
                              best_rows=best_rows, sections=sections,
                              table=_trial_table(result, trials), colours=STATUS_COLOURS)


def _config_columns(trials: list[dict]) -> list[str]:
    keys = dict.fromkeys(k for t in trials for k in t if k.startswith(CONFIG_PREFIX))
    return [k for k in keys if len({str(t.get(k)) for t in trials}) > 1]


def _parallel_coordinates(result: SweepResult, trials: list[dict]):
    import plotly.graph_objects as go

    title = "Hyperparameters against the objective"
    if result.metric is None:
        return title, None, NO_METRIC
    key = BEST_PREFIX + result.metric
    rows = [t for t in trials if _finite(t.get(key))]
    if len(rows) < 2:
        return title, None, "Too few trials with results for a parallel-coordinates plot."
    dims = []
    log_scaled = _log_scaled(result.spec)
    for column in _config_columns(rows):
        values = [r.get(column) for r in rows]
        codes, labels = encode(values)
        label = column[len(CONFIG_PREFIX):]
        if labels is None and label in log_scaled and codes.min() > 0:
            codes, label = [math.log10(v) for v in codes], f"log10({label})"
            dims.append({"label": label, "values": codes})
        elif labels is None:
            dims.append({"label": label, "values": codes})
        else:
            dims.append({"label": label, "values": codes, "tickvals": list(range(len(labels))),
                         "ticktext": labels})
    objective = [r[key] for r in rows]
    dims.append({"label": result.metric, "values": objective})
    figure = go.Figure(go.Parcoords(
        dimensions=dims,
        line={"color": objective, "colorscale": "Viridis", "showscale": True,
              "reversescale": result.goal == "minimize"}))
    figure.update_layout(height=420, margin={"l": 60, "r": 60, "t": 50, "b": 30})
    return title, figure, (f"One line per trial, coloured by its best {result.metric}; "
                           f"drag along an axis to filter.")


def _log_scaled(spec: dict) -> set[str]:
    """Dotted names of parameters searched on a log scale: drawn as log10 axes."""
    space, _ = parse_parameters(spec.get("parameters") or {})
    return {p.path.removeprefix("parameters.").replace(".parameters.", ".")
            for p in iter_params(space) if "log" in p.distribution}


def _importance(result: SweepResult, trials: list[dict]):
    import plotly.graph_objects as go

    title = "Hyperparameter importance"
    if result.metric is None:
        return title, None, NO_METRIC
    key = BEST_PREFIX + result.metric
    rows = [t for t in trials if _finite(t.get(key))]
    columns = _config_columns(rows)
    found = importances({c[len(CONFIG_PREFIX):]: [r.get(c) for r in rows] for c in columns},
                        [r[key] for r in rows])
    if not found:
        return title, None, "Importance needs at least 4 trials with results and a varying " \
                            "parameter."
    names = [i.parameter for i in found][::-1]
    figure = go.Figure([
        go.Bar(name="importance (random forest)", y=names, x=[i.importance for i in found][::-1],
               orientation="h", marker_color="#1b9e77"),
        go.Bar(name=f"correlation with {result.metric}", y=names,
               x=[0 if math.isnan(i.correlation) else i.correlation for i in found][::-1],
               orientation="h", marker_color="#7570b3")])
    figure.update_layout(barmode="group", height=120 + 50 * len(names),
                         margin={"l": 120, "r": 30, "t": 30, "b": 30}, xaxis={"range": [-1, 1]})
    return title, figure, ("Importance: a random forest's impurity importance of each parameter "
                           "for the best objective (sums to 1). Correlation: Spearman's rank "
                           "correlation, as W&B shows.")


def _learning_curves(result: SweepResult, trials: list[dict]):
    import plotly.graph_objects as go

    metric = result.metric or _first_metric(result)
    status = {t["trial_id"]: t["status"] for t in trials}
    by_trial: dict[str, list[dict]] = {}
    for row in result.history.to_pylist():
        if _finite(row.get(metric)):
            by_trial.setdefault(row["trial_id"], []).append(row)
    title = f"Learning curves ({metric})"
    if not by_trial:
        return title, None, "No results recorded yet."
    figure = go.Figure()
    exploits_x, exploits_y, exploits_text = [], [], []
    for trial_id, rows in sorted(by_trial.items()):
        rows.sort(key=lambda r: r["iteration"])
        state = status.get(trial_id, "running")
        figure.add_trace(go.Scatter(
            x=[r["iteration"] for r in rows], y=[r[metric] for r in rows], mode="lines+markers",
            name=f"{trial_id} ({state})", line={"dash": "dot" if state == STOPPED else "solid",
                                                 "width": 1.5},
            marker={"size": 4}, hovertemplate=f"{trial_id}<br>iteration %{{x}}<br>{metric} "
                                              f"%{{y:.4f}}<extra></extra>"))
        last = rows[-1]
        if state == STOPPED:  # early-stopped: visibly cut short
            figure.add_trace(go.Scatter(x=[last["iteration"]], y=[last[metric]], mode="markers",
                                        marker={"symbol": "x", "size": 10, "color": "#d95f02"},
                                        showlegend=False, hoverinfo="skip"))
        for r in rows:
            donor = r.get("restored_from")
            if donor and donor != trial_id:
                exploits_x.append(r["iteration"])
                exploits_y.append(r[metric])
                exploits_text.append(f"{trial_id} continued from {donor}'s checkpoint")
    if exploits_x:
        figure.add_trace(go.Scatter(x=exploits_x, y=exploits_y, mode="markers",
                                    name="PBT exploit", text=exploits_text,
                                    marker={"symbol": "star", "size": 13, "color": "#e6ab02",
                                            "line": {"width": 1, "color": "#333"}},
                                    hovertemplate="%{text}<extra></extra>"))
    figure.update_layout(height=460, xaxis_title="iteration", yaxis_title=metric,
                         margin={"l": 60, "r": 30, "t": 30, "b": 50})
    return title, figure, ("Dotted lines ending in x: stopped early by the scheduler. "
                           "Stars: a trial continued from another trial's checkpoint (PBT).")


def _first_metric(result: SweepResult) -> str | None:
    """What a sweep without a metric plots: the first numeric metric its trials reported."""
    for row in result.history.to_pylist():
        for k, v in row.items():
            if _finite(v) and k not in NON_METRIC_COLUMNS and not k.startswith(CONFIG_PREFIX):
                return k
    return None


def _trial_table(result: SweepResult, trials: list[dict]) -> dict:
    """Columns and rows (value, sort key, numeric?) for the template's sortable table."""
    key = BEST_PREFIX + str(result.metric)
    configs = [c for c in dict.fromkeys(k for t in trials for k in t)
               if c.startswith(CONFIG_PREFIX)]
    columns = ["trial_id", "status", *([key] if result.metric else []), "iterations",
               "wall_time_s", *configs, "error"]
    trials = sorted(trials, key=lambda t: (not _finite(t.get(key)),
                                           -(t.get(key) or 0) if result.goal == "maximize"
                                           else (t.get(key) or 0)))
    rows = [[{"value": t.get(c), "sort": "" if t.get(c) is None else str(t.get(c)),
              "numeric": isinstance(t.get(c), int | float) and not isinstance(t.get(c), bool),
              "status": c == "status"} for c in columns] for t in trials]
    return {"columns": [c.removeprefix(CONFIG_PREFIX) for c in columns], "rows": rows}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
