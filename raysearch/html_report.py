"""`report.html`: one self-contained page (plotly.js inlined, no CDN) a person would rather look
at than read: best trial, parallel coordinates, importance, learning curves, trial table."""

from __future__ import annotations

import html
import math
from typing import Any

from raysearch import storage
from raysearch.importance import encode, importances
from raysearch.results import BEST_PREFIX, CONFIG_PREFIX, STOPPED, SweepResult, flatten
from raysearch.space import iter_params, parse_parameters

REPORT_FILE = "report.html"
STATUS_COLOURS = {"completed": "#1b9e77", "stopped": "#d95f02", "errored": "#e7298a",
                  "running": "#7570b3", "pending": "#999999"}

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1200px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem} .sub{color:#666;margin-top:0}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{background:#f6f7f9;border-radius:8px;padding:.8rem 1.2rem;min-width:8rem}
.card b{display:block;font-size:1.5rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.3rem .6rem;border-bottom:1px solid #e3e3e3;text-align:left}
#trials th{cursor:pointer;background:#f6f7f9;position:sticky;top:0}
#trials th:hover{background:#e8eaee} .num{text-align:right;font-variant-numeric:tabular-nums}
.status{border-radius:4px;padding:0 .4rem;color:#fff}
section{margin:2rem 0}
"""

_SORT_JS = """
document.querySelectorAll('#trials th').forEach(function(th, col){
  th.addEventListener('click', function(){
    var body = th.closest('table').tBodies[0];
    var rows = Array.from(body.rows);
    var asc = th.dataset.sort !== 'asc';
    th.closest('tr').querySelectorAll('th').forEach(function(h){ delete h.dataset.sort; });
    th.dataset.sort = asc ? 'asc' : 'desc';
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      var nx = x === '' ? NaN : Number(x), ny = y === '' ? NaN : Number(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
      return asc ? c : -c;
    });
    rows.forEach(function(r){ body.appendChild(r); });
  });
});
"""


def write_report(result: SweepResult) -> str:
    """Write `report.html` into the run folder (atomically) and return its location."""
    location = storage.join(result.path, REPORT_FILE)
    storage.write_text(location, render(result))
    return location


def render(result: SweepResult) -> str:
    trials = result.trials.to_pylist()
    figures = [_parallel_coordinates(result, trials), _importance(result, trials),
               _learning_curves(result, trials)]
    parts, first = [], True
    for title, figure, note in figures:
        body = (figure.to_html(full_html=False, include_plotlyjs=first,
                               config={"displaylogo": False, "responsive": True})
                if figure is not None else f"<p class=sub>{html.escape(note)}</p>")
        first = first and figure is None
        parts.append(f"<section><h2>{title}</h2>{body}"
                     f"{'<p class=sub>' + html.escape(note) + '</p>' if figure else ''}</section>")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>raysearch: {html.escape(result.spec['name'])}</title>"
            f"<style>{_STYLE}</style></head><body>"
            f"{_header(result)}{''.join(parts)}{_trial_table(result, trials)}"
            f"<script>{_SORT_JS}</script></body></html>")


def _header(result: SweepResult) -> str:
    spec, counts = result.spec, result.counts
    wall = result.summary.get("wall_time_s")
    cards = [("trials", result.trials.num_rows), ("completed", counts["completed"]),
             ("stopped early", counts["stopped"]), ("errored", counts["errored"])]
    if wall is not None:
        cards.append(("wall time", f"{wall:.0f} s"))
    out = [f"<h1>{html.escape(spec['name'])}</h1>",
           f"<p class=sub>{html.escape(spec['method'])} search over "
           f"{html.escape(str(spec['trainable']))}, scheduler "
           f"{html.escape(spec['scheduler']['type'])}, objective {html.escape(result.metric)} "
           f"({html.escape(result.goal)})</p><div class=cards>"]
    out += [f"<div class=card><b>{html.escape(str(v))}</b>{k}</div>" for k, v in cards]
    out.append("</div>")
    best = result.best
    if best is not None:
        rows = [(k, v) for k, v in flatten(best.config).items()]
        metrics = [(k, v) for k, v in best.metrics.items() if k not in ("trial_id",)]
        out.append(f"<section id=best><h2>Best trial: {html.escape(best.trial_id)} "
                   f"({html.escape(result.metric)} {_fmt(best.metrics[result.metric])} at "
                   f"iteration {best.iteration})</h2><table><tr><th>config</th><th></th>"
                   f"<th>metrics</th><th></th></tr>")
        for i in range(max(len(rows), len(metrics))):
            cfg = rows[i] if i < len(rows) else ("", "")
            met = metrics[i] if i < len(metrics) else ("", "")
            out.append(f"<tr><td>{html.escape(cfg[0])}</td><td class=num>{_fmt(cfg[1])}</td>"
                       f"<td>{html.escape(met[0])}</td><td class=num>{_fmt(met[1])}</td></tr>")
        out.append("</table>")
        if best.checkpoint:
            out.append(f"<p class=sub>checkpoint: {html.escape(best.checkpoint)}</p>")
        out.append("</section>")
    return "".join(out)


def _config_columns(trials: list[dict]) -> list[str]:
    keys = dict.fromkeys(k for t in trials for k in t if k.startswith(CONFIG_PREFIX))
    return [k for k in keys if len({str(t.get(k)) for t in trials}) > 1]


def _parallel_coordinates(result: SweepResult, trials: list[dict]):
    import plotly.graph_objects as go

    key = BEST_PREFIX + result.metric
    rows = [t for t in trials if _finite(t.get(key))]
    title = "Hyperparameters against the objective"
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

    key = BEST_PREFIX + result.metric
    rows = [t for t in trials if _finite(t.get(key))]
    columns = _config_columns(rows)
    found = importances({c[len(CONFIG_PREFIX):]: [r.get(c) for r in rows] for c in columns},
                        [r[key] for r in rows])
    title = "Hyperparameter importance"
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

    metric = result.metric
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


def _trial_table(result: SweepResult, trials: list[dict]) -> str:
    key = BEST_PREFIX + result.metric
    configs = [c for c in dict.fromkeys(k for t in trials for k in t)
               if c.startswith(CONFIG_PREFIX)]
    columns = ["trial_id", "status", key, "iterations", "wall_time_s", *configs, "error"]
    trials = sorted(trials, key=lambda t: (not _finite(t.get(key)),
                                           -(t.get(key) or 0) if result.goal == "maximize"
                                           else (t.get(key) or 0)))
    head = "".join(f"<th>{html.escape(c.removeprefix(CONFIG_PREFIX))}</th>" for c in columns)
    body = []
    for t in trials:
        cells = []
        for c in columns:
            value = t.get(c)
            shown = html.escape(_fmt(value)) if value is not None else ""
            if c == "status":
                shown = (f"<span class=status style='background:"
                         f"{STATUS_COLOURS.get(value, '#999')}'>{shown}</span>")
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            cells.append(f"<td{' class=num' if numeric else ''} "
                         f"data-v=\"{html.escape(str(value if value is not None else ''))}\">"
                         f"{shown}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<section><h2>Trials</h2><p class=sub>Click a column to sort.</p>"
            f"<table id=trials><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"</table></section>")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
