"""The report's plots, each a `Section` (title, plotly figure or None, a note saying how to read
it), answering at a glance what W&B's sweep page and optuna-dashboard answer: did the search
converge (history by trial and by time), what matters and where (parallel coordinates,
importance on comparable trials, slices, a contour), how trials evolved (any reported metric
against iteration or time; when each ran, side by side, as optuna-dashboard's timeline), how
good the results are (EDF)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from raysearch.report.data import Axis, ReportData, category_labels
from raysearch.report.importance import MIN_TRIALS, importances
from raysearch.results import CONFIG_PREFIX, STOPPED
from raysearch.types import is_finite_number

NO_METRIC = "This sweep has no metric (a grid or random sweep that ranks nothing)."
FEW_FOR_IMPORTANCE = 10  # below this many comparable trials, importance comes with a warning
STATUS_COLOURS = {"completed": "#1b9e77", "stopped": "#d95f02", "errored": "#e7298a",
                  "unfinished": "#a6761d", "running": "#7570b3", "pending": "#999999"}


@dataclass
class Section:
    key: str  # the element id on the page
    title: str
    figure: Any  # a plotly Figure, or None
    note: str


def all_sections(data: ReportData) -> list[Section]:
    return [history(data), parallel_coordinates(data), importance(data), slices(data),
            contour(data), curves(data), timeline(data), edf(data)]


# ------------------------------------------------------------------ convergence

def history(data: ReportData) -> Section:
    """Each trial's objective by trial number, and the best so far by trial and by time."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    title = "Optimisation history"
    if data.metric is None:
        return Section("history", title, None, NO_METRIC)
    ranked = data.ranked()
    if not ranked:
        return Section("history", title, None, "No trial has reported the objective yet.")
    numbers = {t["trial_id"]: i for i, t in enumerate(data.trials, start=1)}
    figure = make_subplots(rows=1, cols=2, subplot_titles=("by trial", "by wall time"))
    for status in dict.fromkeys(t["status"] for t in ranked):
        group = [t for t in ranked if t["status"] == status]
        figure.add_trace(go.Scatter(
            x=[numbers[t["trial_id"]] for t in group],
            y=[data.objective[t["trial_id"]] for t in group], mode="markers",
            name=status, marker={"color": STATUS_COLOURS.get(status, "#999"), "size": 8},
            text=[t["trial_id"] for t in group],
            hovertemplate="%{text}<br>trial %{x}<br>best %{y:.4g}<extra></extra>"), 1, 1)
    xs, ys = running_best_by_trial(data)
    figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"shape": "hv", "color": "#333"},
                                name="best so far", legendgroup="best"), 1, 1)
    ts, vs = running_best_by_time(data)
    figure.add_trace(go.Scatter(x=ts, y=vs, mode="lines", line={"shape": "hv", "color": "#333"},
                                name="best so far (time)", legendgroup="best",
                                showlegend=False), 1, 2)
    figure.update_xaxes(title_text="trial (in the order started)", row=1, col=1,
                        **trial_number_ticks(len(data.trials)))
    figure.update_xaxes(title_text="seconds since the first result", row=1, col=2)
    figure.update_yaxes(title_text=data.metric, row=1, col=1)
    figure.update_layout(height=380, margin={"l": 60, "r": 20, "t": 40, "b": 50})
    return Section("history", title, figure, (
        f"Left: each trial's best {data.metric} (colour: how it ended) and the best so far. "
        "Right: the best so far against wall time. A flat line means the search has "
        "converged, or is stuck."))


def trial_number_ticks(count: int) -> dict[str, Any]:
    """Axis or colour-bar ticks for trial numbers 1..count: whole numbers at a round step
    (1, 2, 5, 10, 20, 50, ...), ten ticks at most; plotly's own would put 1.2, 1.4 between
    two trials."""
    step = 1
    while count / step > 10:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return {"tick0": 1 if step == 1 else 0, "dtick": step, "tickformat": "d"}


def running_best_by_trial(data: ReportData) -> tuple[list[int], list[float]]:
    """(trial numbers, best objective among trials 1..n) for trials with a value."""
    xs, ys, best = [], [], None
    for i, trial in enumerate(data.trials, start=1):
        value = data.objective.get(trial["trial_id"])
        if value is None:
            continue
        best = value if best is None or data.better(value, best) else best
        xs.append(i)
        ys.append(best)
    return xs, ys


def running_best_by_time(data: ReportData) -> tuple[list[float], list[float]]:
    rows = sorted((r for rows in data.history.values() for r in rows
                   if is_finite_number(r.get(data.metric)) and r.get("timestamp")),
                  key=lambda r: r["timestamp"])
    ts, vs, best = [], [], None
    for r in rows:
        value = r[data.metric]
        if best is None or data.better(value, best):
            best = value
            ts.append(r["timestamp"] - data.origin)
            vs.append(best)
    if ts and rows:
        ts.append(rows[-1]["timestamp"] - data.origin)
        vs.append(best)
    return ts, vs


# ------------------------------------------------------------------ what matters

def parallel_coordinates(data: ReportData) -> Section:
    import plotly.graph_objects as go

    title = "Hyperparameters against the objective"
    if data.metric is None:
        return Section("parcoords", title, None, NO_METRIC)
    ranked = data.ranked()
    if len(ranked) < 2:
        return Section("parcoords", title, None,
                       "Too few trials with results for a parallel-coordinates plot.")
    dims = [axis_dimension(axis, [t.get(CONFIG_PREFIX + axis.name) for t in ranked])
            for axis in data.axes]
    objective = [data.objective[t["trial_id"]] for t in ranked]
    dims.append({"label": data.metric, "values": objective})
    figure = go.Figure(go.Parcoords(
        dimensions=dims,
        line={"color": objective, "colorscale": "Viridis", "showscale": True,
              "reversescale": data.result.goal == "minimize"}))
    figure.update_layout(height=420, margin={"l": 60, "r": 60, "t": 50, "b": 30},
                         meta={"trial_ids": [t["trial_id"] for t in ranked]})
    return Section("parcoords", title, figure, (
        f"One line per trial, coloured by its best {data.metric}. Drag along an axis to select "
        "a range: the trial table below shows only the trials selected. Log-scaled parameters "
        "are on log axes labelled in their own values; categorical ones list their values."))


def axis_dimension(axis: Axis, values: list) -> dict:
    """A parcoords dimension in the parameter's own units: categories as ticks, a log axis
    with ticks at round values."""
    if axis.categorical:
        labels = category_labels(values)
        index = {str(v): i for i, v in enumerate(labels)}
        return {"label": axis.name, "values": [index.get(str(v), math.nan) for v in values],
                "tickvals": list(range(len(labels))), "ticktext": [_short(v) for v in labels],
                "range": [-0.25, len(labels) - 0.75]}
    numbers = [float(v) if is_finite_number(v) else math.nan for v in values]
    if axis.log and numbers and min(numbers) > 0:
        logs = [math.log10(v) for v in numbers]
        ticks = log_ticks(min(numbers), max(numbers))
        return {"label": f"{axis.name} (log)", "values": logs,
                "tickvals": [math.log10(t) for t in ticks], "ticktext": [_short(t) for t in ticks],
                "range": [min(logs), max(logs)] if max(logs) > min(logs) else None}
    return {"label": axis.name, "values": numbers}


def log_ticks(low: float, high: float, most: int = 7) -> list[float]:
    """Round values spanning [low, high], at most `most` of them: 1, 2, 5 x 10^k, or where
    that is too many 1 and 5 x 10^k, or powers of ten (every other one if need be)."""
    exponents = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    ticks: list[float] = []
    for mantissas in ((1, 2, 5), (1, 5), (1,)):
        ticks = [float(f"{m * 10.0 ** e:.3g}") for e in exponents for m in mantissas
                 if low * 0.999 <= m * 10.0 ** e <= high * 1.001]
        if len(ticks) <= most:
            break
    while len(ticks) > most:
        ticks = ticks[::2]
    return ticks or [low, high]


def comparable(data: ReportData) -> tuple[int | None, dict[str, float]]:
    """(budget, trial id -> objective) at one common budget: the largest iteration that at
    least half the ranked trials, and at least MIN_TRIALS of them (all, when fewer), reached;
    each trial that reached it at its best up to it. A stopped trial's best over 2 epochs is
    not comparable with a survivor's over 20."""
    reached = sorted((len([r for r in data.history.get(t["trial_id"], [])
                           if is_finite_number(r.get(data.metric))]) for t in data.ranked()), reverse=True)
    if not reached:
        return None, {}
    need = min(len(reached), max(MIN_TRIALS, math.ceil(len(reached) / 2)))
    budget = reached[need - 1]
    values = {}
    for trial in data.ranked():
        rows = [r for r in data.history.get(trial["trial_id"], [])
                if is_finite_number(r.get(data.metric))][:budget]
        if len(rows) == budget:
            pick = max if data.result.goal == "maximize" else min
            values[trial["trial_id"]] = pick(r[data.metric] for r in rows)
    return budget, values


def importance(data: ReportData) -> Section:
    import plotly.graph_objects as go

    title = "Hyperparameter importance"
    if data.metric is None:
        return Section("importance", title, None, NO_METRIC)
    budget, values = comparable(data)
    trials = [t for t in data.ranked() if t["trial_id"] in values]
    found = importances({a.name: [t.get(CONFIG_PREFIX + a.name) for t in trials]
                         for a in data.axes}, [values[t["trial_id"]] for t in trials])
    if not found:
        return Section("importance", title, None,
                       f"Importance needs at least {MIN_TRIALS} comparable trials with results "
                       f"and a varying parameter ({len(trials)} here).")
    names = [i.parameter for i in found][::-1]
    figure = go.Figure([
        go.Bar(name="importance (random forest)", y=names, x=[i.importance for i in found][::-1],
               orientation="h", marker_color="#1b9e77"),
        go.Bar(name=f"correlation with {data.metric}", y=names,
               x=[0 if math.isnan(i.correlation) else i.correlation for i in found][::-1],
               orientation="h", marker_color="#7570b3")])
    figure.update_layout(barmode="group", height=120 + 50 * len(names),
                         margin={"l": 120, "r": 30, "t": 30, "b": 30}, xaxis={"range": [-1, 1]})
    note = (f"Based on {len(trials)} of {len(data.ranked())} trials, each at its best "
            f"{data.metric} within its first {budget} iterations (a budget every one of them "
            f"reached, so early-stopped trials are compared fairly). Importance: a random "
            f"forest's impurity importance (sums to 1); correlation: Spearman's, as W&B shows.")
    if len(trials) < FEW_FOR_IMPORTANCE:
        note = (f"Warning: only {len(trials)} comparable trials; read this as a hint, not a "
                f"ranking. " + note)
    return Section("importance", title, figure, note)


def slices(data: ReportData) -> Section:
    """The objective against each parameter, one panel per parameter (as Optuna's slice)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    title = "Slices: the objective against each parameter"
    ranked = data.ranked()
    if data.metric is None or not ranked or not data.axes:
        return Section("slices", title, None,
                       NO_METRIC if data.metric is None else "Nothing to plot yet.")
    axes = data.axes[:8]
    figure = make_subplots(rows=1, cols=len(axes), shared_yaxes=True,
                           subplot_titles=[a.name for a in axes])
    numbers = {t["trial_id"]: i for i, t in enumerate(data.trials, start=1)}
    for col, axis in enumerate(axes, start=1):
        xs = [t.get(CONFIG_PREFIX + axis.name) for t in ranked]
        if axis.categorical:
            xs = [_short(v) for v in xs]
        figure.add_trace(go.Scatter(
            x=xs, y=[data.objective[t["trial_id"]] for t in ranked], mode="markers",
            marker={"color": [numbers[t["trial_id"]] for t in ranked], "colorscale": "Blues",
                    "size": 8, "line": {"width": 0.5, "color": "#333"},
                    "showscale": col == len(axes),
                    "colorbar": {"title": "trial", **trial_number_ticks(len(data.trials))}},
            text=[t["trial_id"] for t in ranked], showlegend=False,
            hovertemplate="%{text}<br>%{x}<br>%{y:.4g}<extra></extra>"), 1, col)
        if axis.categorical:
            order = [_short(v) for v in category_labels(
                [t.get(CONFIG_PREFIX + axis.name) for t in ranked])]
            figure.update_xaxes(type="category", categoryorder="array", categoryarray=order,
                                row=1, col=col)
        elif axis.log and len(ticks := _round_log_ticks(xs)) >= 2:
            # round values only: Plotly labels a log axis under a decade with every digit
            figure.update_xaxes(type="log", tickvals=ticks, ticktext=[_short(t) for t in ticks],
                                row=1, col=col)
        else:  # a few ticks: up to eight panels share the page's width
            figure.update_xaxes(type="log" if axis.log else "linear", nticks=4, row=1, col=col)
    figure.update_yaxes(title_text=data.metric, row=1, col=1)
    figure.update_layout(height=340, margin={"l": 60, "r": 20, "t": 40, "b": 40})
    return Section("slices", title, figure, (
        "Each trial's best objective against each parameter (darker: started later, so a "
        "search that homes in shows dark points gathering where the objective is best)."))


def _round_log_ticks(values: list) -> list[float]:
    """A narrow panel's log-axis ticks: round values in the values' range, a third of it apart
    at least so that their labels fit side by side; powers of ten first, then 5 and 2 x 10^k."""
    positive = [v for v in values if is_finite_number(v) and v > 0]
    if not positive:
        return []
    low, high = min(positive), max(positive)
    gap = (math.log10(high) - math.log10(low)) / 3.2
    ticks: list[float] = []
    for candidate in sorted(log_ticks(low, high, most=99),
                            key=lambda t: ({"1": 0, "5": 1}.get(f"{t:.0e}"[0], 2), t)):
        if all(abs(math.log10(candidate / t)) >= gap for t in ticks):
            ticks.append(candidate)
    return sorted(ticks)


def contour(data: ReportData) -> Section:
    """The objective over the two most important numeric parameters."""
    import plotly.graph_objects as go

    title = "Contour of the two most important parameters"
    if data.metric is None:
        return Section("contour", title, None, NO_METRIC)
    numeric = [a for a in data.axes if not a.categorical]
    too_few = Section("contour", title, None, "Needs two numeric parameters that vary and "
                                              f"at least {MIN_TRIALS} comparable trials.")
    if len(numeric) < 2:  # nothing to draw: spare the importance model
        return too_few
    budget, values = comparable(data)
    trials = [t for t in data.ranked() if t["trial_id"] in values]
    found = importances({a.name: [t.get(CONFIG_PREFIX + a.name) for t in trials]
                         for a in numeric}, [values[t["trial_id"]] for t in trials])
    if len(found) < 2:
        return too_few
    (x_axis, y_axis) = [next(a for a in numeric if a.name == i.parameter) for i in found[:2]]
    # a conditional space: only the trials that have both parameters
    trials = [t for t in trials if is_finite_number(t.get(CONFIG_PREFIX + x_axis.name))
              and is_finite_number(t.get(CONFIG_PREFIX + y_axis.name))]
    if len(trials) < MIN_TRIALS:
        return Section("contour", title, None, f"Needs at least {MIN_TRIALS} comparable trials "
                                               f"that have both {x_axis.name} and {y_axis.name}.")
    xs = [float(t[CONFIG_PREFIX + x_axis.name]) for t in trials]
    ys = [float(t[CONFIG_PREFIX + y_axis.name]) for t in trials]
    zs = [values[t["trial_id"]] for t in trials]
    tx = [math.log10(v) for v in xs] if x_axis.log else xs
    ty = [math.log10(v) for v in ys] if y_axis.log else ys
    figure = go.Figure([
        go.Contour(x=tx, y=ty, z=zs, colorscale="Viridis", connectgaps=True,
                   reversescale=data.result.goal == "minimize", contours={"coloring": "heatmap"},
                   colorbar={"title": data.metric}, hoverinfo="skip"),
        go.Scatter(x=tx, y=ty, mode="markers", marker={"color": "#fff", "size": 7,
                                                        "line": {"width": 1, "color": "#222"}},
                   text=[f"{t['trial_id']}: {v:.4g}" for t, v in zip(trials, zs, strict=True)],
                   hovertemplate="%{text}<extra></extra>", showlegend=False)])
    for axis, name, values_ in ((x_axis, "xaxis", xs), (y_axis, "yaxis", ys)):
        options: dict = {"title": {"text": axis.name}}
        if axis.log:
            ticks = log_ticks(min(values_), max(values_))
            options.update(tickvals=[math.log10(t) for t in ticks],
                           ticktext=[_short(t) for t in ticks])
        figure.update_layout({name: options})
    figure.update_layout(height=420, margin={"l": 70, "r": 20, "t": 30, "b": 50})
    return Section("contour", title, figure, (
        f"{data.metric} interpolated between the trials (white points) over the two parameters "
        f"the importance ranks first, at the same comparable budget ({budget} iterations)."))


# ------------------------------------------------------------------ how trials evolved

def curves(data: ReportData) -> Section:
    """Any reported metric (chosen on the page) against iteration or wall time."""
    import plotly.graph_objects as go

    title = "Learning curves"
    ids = [t["trial_id"] for t in data.trials if data.history.get(t["trial_id"])]
    if not ids or not data.metrics:
        return Section("curves", title, None, "No results recorded yet.")
    status = {t["trial_id"]: t["status"] for t in data.trials}
    first = data.metrics[0]

    def series(trial_id: str, metric: str, x: str) -> tuple[list, list]:
        rows = [r for r in data.history[trial_id] if is_finite_number(r.get(metric))]
        xs = [r["iteration"] if x == "iteration" else
              round((r.get("timestamp") or data.origin) - data.origin, 3)
              for r in rows]
        return xs, [r[metric] for r in rows]

    figure = go.Figure()
    for trial_id in ids:
        state = status.get(trial_id, "running")
        xs, ys = series(trial_id, first, "iteration")
        figure.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines+markers", name=f"{trial_id} ({state})",
            meta=trial_id, line={"dash": "dot" if state == STOPPED else "solid", "width": 1.5},
            marker={"size": 4},
            hovertemplate=f"{trial_id}<br>%{{x}}<br>%{{y:.4g}}<extra></extra>"))
    marks = _marks(data, ids, status, first)
    figure.add_traces(marks)
    n, extra = len(ids), len(marks)
    choices = [(m, x) for m in data.metrics for x in ("iteration", "time")]
    buttons = [{"label": f"{m} by {'iteration' if x == 'iteration' else 'wall time'}",
                "method": "update", "args": [
                    {"x": [series(t, m, x)[0] for t in ids], "y": [series(t, m, x)[1] for t in ids],
                     "visible": [True] * n + [m == first and x == "iteration"] * extra},
                    {"yaxis.title.text": m, "xaxis.title.text": "iteration" if x == "iteration"
                     else "seconds since the first result"}]}
               for m, x in choices]
    figure.update_layout(
        height=480, xaxis_title="iteration", yaxis_title=first,
        margin={"l": 60, "r": 30, "t": 60, "b": 50},
        updatemenus=[{"buttons": buttons, "x": 0, "y": 1.14, "xanchor": "left",
                      "direction": "down", "showactive": True}])
    return Section("curves", title, figure, (
        "Pick the metric and the x axis (iteration or wall time) in the menu above the plot. Dotted lines "
        "ending in x: stopped early by the scheduler. Stars: a trial continued from another "
        "trial's checkpoint (PBT). Click a trial in the table to pick out its curve."))


def _marks(data: ReportData, ids: list[str], status: dict, metric: str) -> list:
    """Early stops (x) and PBT exploits (stars) on the objective's curves."""
    import plotly.graph_objects as go

    stops_x, stops_y, ex_x, ex_y, ex_text = [], [], [], [], []
    for trial_id in ids:
        rows = [r for r in data.history[trial_id] if is_finite_number(r.get(metric))]
        if not rows:
            continue
        if status.get(trial_id) == STOPPED:
            stops_x.append(rows[-1]["iteration"])
            stops_y.append(rows[-1][metric])
        for r in rows:
            donor = r.get("restored_from")
            if donor and donor != trial_id:
                ex_x.append(r["iteration"])
                ex_y.append(r[metric])
                ex_text.append(f"{trial_id} continued from {donor}'s checkpoint")
    out = []
    if stops_x:
        out.append(go.Scatter(x=stops_x, y=stops_y, mode="markers", name="stopped early",
                              marker={"symbol": "x", "size": 10, "color": "#d95f02"},
                              hoverinfo="skip"))
    if ex_x:
        out.append(go.Scatter(x=ex_x, y=ex_y, mode="markers", name="PBT exploit", text=ex_text,
                              marker={"symbol": "star", "size": 13, "color": "#e6ab02",
                                      "line": {"width": 1, "color": "#333"}},
                              hovertemplate="%{text}<extra></extra>"))
    return out


def trial_spans(data: ReportData) -> dict[str, tuple[float, float]]:
    """Each trial's (start, end) timestamps from its results: the end is its last result, the
    start its first result less the training time it reports (`time_s`, Ray's time_total_s).
    Trials that never reported have none."""
    spans = {}
    for trial_id, rows in data.history.items():
        stamped = sorted((r for r in rows if r.get("timestamp")), key=lambda r: r["timestamp"])
        if stamped:
            first = stamped[0]
            spans[trial_id] = (first["timestamp"] - (first.get("time_s") or 0.0),
                               stamped[-1]["timestamp"])
    return spans


def timeline(data: ReportData) -> Section:
    """When each trial ran: one bar per trial over the sweep's wall time, coloured by how it
    ended, so concurrency, slots freed by early stopping and idle gaps show."""
    import plotly.graph_objects as go

    title = "Timeline"
    spans = trial_spans(data)
    ordered = [t for t in data.trials if t["trial_id"] in spans]
    if not ordered:
        return Section("timeline", title, None, "No results recorded yet.")
    started = data.result.summary.get("started")
    zero = min([*(start for start, _ in spans.values()),
                *([started] if is_finite_number(started) else [])])
    numbers = {t["trial_id"]: i for i, t in enumerate(data.trials, start=1)}
    figure = go.Figure()
    for status in dict.fromkeys(t["status"] for t in ordered):
        group = [t for t in ordered if t["status"] == status]
        figure.add_trace(go.Bar(
            orientation="h", name=status, marker={"color": STATUS_COLOURS.get(status, "#999")},
            base=[spans[t["trial_id"]][0] - zero for t in group],
            x=[max(spans[t["trial_id"]][1] - spans[t["trial_id"]][0], 0.0) for t in group],
            y=[numbers[t["trial_id"]] for t in group],
            customdata=[[t["trial_id"], t.get("iterations"), t.get("node") or "",
                         round(spans[t["trial_id"]][0] - zero, 1)] for t in group],
            hovertemplate=(f"%{{customdata[0]}} ({status})<br>from %{{customdata[3]}} s, "
                           "%{x:.1f} s long, %{customdata[1]} iterations<br>%{customdata[2]}"
                           "<extra></extra>")))
    figure.update_layout(
        barmode="overlay", height=max(240, min(900, 18 * len(ordered) + 120)),
        xaxis_title="seconds since the sweep started", margin={"l": 60, "r": 20, "t": 20,
                                                               "b": 50},
        yaxis={"title": "trial (in the order started)", "autorange": "reversed",
               **trial_number_ticks(len(data.trials))})
    return Section("timeline", title, figure, (
        "When each trial ran, from its start to its last result, coloured by how it ended: "
        "bars side by side are trials running at once; a gap before the first bars is Ray's "
        "and the workers' start; trials that never reported are not shown."))


def edf(data: ReportData) -> Section:
    """The empirical distribution of the trials' objective (as Optuna's EDF plot)."""
    import plotly.graph_objects as go

    title = "Distribution of results (EDF)"
    if data.metric is None:
        return Section("edf", title, None, NO_METRIC)
    values = sorted(data.objective.values())
    if len(values) < 2:
        return Section("edf", title, None, "Too few trials with results.")
    figure = go.Figure(go.Scatter(x=values, y=[(i + 1) / len(values) for i in range(len(values))],
                                  mode="lines", line={"shape": "hv"}, name="trials"))
    figure.update_layout(height=320, xaxis_title=f"best {data.metric}",
                         yaxis_title="fraction of trials at or below", yaxis={"range": [0, 1.02]},
                         margin={"l": 60, "r": 20, "t": 20, "b": 50})
    return Section("edf", title, figure, (
        f"The fraction of trials whose best {data.metric} is at or below each value: a steep "
        f"curve near the good end means most configurations are good."))


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
