"""`report.html`: one self-contained page a person would rather look at than read, offline, in
one file: what was run (header, the spec), the best trial, the plots of `report.figures`, and
a sortable trial table that the parallel-coordinates selection filters.

The page is a Jinja2 template with autoescaping: every user-supplied string (names, metrics,
configs, errors) is escaped by the template. Figures travel as JSON; plotly.js travels once,
gzip-compressed (4.8 MB -> 1.5 MB, ~2 MB as base64) and is unpacked by the browser's own
`DecompressionStream`, then the figures are drawn.
"""

from __future__ import annotations

import base64
import gzip
import json
import posixpath
from datetime import datetime, timezone
from functools import cache
from typing import Any

from raysearch.report.data import report_data
from raysearch.report.figures import STATUS_COLOURS, all_sections
from raysearch.results import BEST_PREFIX, CONFIG_PREFIX, SweepResult, flatten, storage
from raysearch.types import is_finite_number

REPORT_FILE = "report.html"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
LIVE_REFRESH_S = 15  # a page served while the sweep runs reloads this often


@cache
def _template() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("raysearch.report"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    return env.get_template("report.html.j2")


@cache
def plotly_gzip_base64() -> str:
    """plotly.js (the copy the plotly package ships), gzip-compressed, as base64."""
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode(), 9, mtime=0)).decode()


def write_report(result: SweepResult) -> str:
    """Write `report.html` into the run folder (atomically) and return its location."""
    location = storage.join(result.path, REPORT_FILE)
    storage.write_text(location, render(result))
    return location


def render(result: SweepResult, live: bool = False) -> str:
    """The page; `live`: it reloads every few seconds while the sweep has not finished."""
    from markupsafe import Markup
    from plotly.io import to_json

    data = report_data(result)
    sections = []
    for section in all_sections(data):
        figure = None
        if section.figure is not None:  # JSON inside <script>: no "</" may close it early
            figure = Markup(to_json(section.figure, validate=False).replace("</", "<\\/"))
        sections.append({"key": section.key, "title": section.title, "figure": figure,
                         "note": section.note})
    best = result.best
    best_rows = []
    if best is not None:
        config = list(flatten(best.config).items())
        metrics = [(k, v) for k, v in best.metrics.items()  # not W&B's own _step, _runtime
                   if k != "trial_id" and not k.startswith("_")]
        for i in range(max(len(config), len(metrics))):
            best_rows.append((config[i] if i < len(config) else ("", None),
                              metrics[i] if i < len(metrics) else ("", None)))
    return _template().render(
        result=result, spec=result.spec, header=_header(result), cards=_cards(result),
        best=best, best_rows=best_rows,
        best_checkpoint=_relative(result, best.checkpoint) if best else None,
        sections=sections, table=_trial_table(result, data.trials), colours=STATUS_COLOURS,
        spec_text=_spec_text(result), plotly=plotly_gzip_base64() if any(
            s["figure"] for s in sections) else "",
        plotly_config=Markup(json.dumps(PLOTLY_CONFIG)),
        refresh=LIVE_REFRESH_S if live and not result.summary.get("finished") else None)


def _header(result: SweepResult) -> list[tuple[str, str]]:
    """What was run, in one line each."""
    spec, summary = result.spec, result.summary
    rows = []
    started, ended = summary.get("started"), summary.get("ended")
    if started:
        text = _when(started)
        if ended:
            text += f" to {_when(ended)}"
        rows.append(("run", text + (
            " (stopped by fail_fast at a failed trial: resumable)" if result.stopped_on_failure
            else "" if summary.get("finished") else
            " (not finished: resumable)" if ended else " (running)")))
    searcher = spec.get("method", "?")
    if spec.get("searcher"):
        searcher += " " + ", ".join(f"{k}={v}" for k, v in spec["searcher"].items())
    rows.append(("search", searcher))
    scheduler = dict(spec.get("scheduler") or {"type": "fifo"})
    kind = scheduler.pop("type", "fifo")
    rows.append(("scheduler", kind + (" " + ", ".join(f"{k}={v}" for k, v in scheduler.items())
                                      if scheduler else "")))
    metric = spec.get("metric")
    rows.append(("objective", f"{metric['name']} ({metric.get('goal', 'minimize')})"
                 + (f", target {metric['target']}" if metric.get("target") is not None else "")
                 if metric else "none (nothing ranked)"))
    budget = f"run_cap {spec.get('run_cap')}"
    if spec.get("time_budget_s"):
        budget += f", time budget {spec['time_budget_s']} s"
    if spec.get("max_concurrent"):
        budget += f", at most {spec['max_concurrent']} at once"
    rows.append(("budget", budget))
    rows.append(("seed", str(spec.get("seed"))))
    rows.append(("trainable", str(spec.get("program") or spec.get("trainable"))))
    versions = summary.get("versions") or {}
    if versions:
        rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    rows.append(("run folder", result.path))
    return rows


def _cards(result: SweepResult) -> list[tuple[str, Any]]:
    counts, wall = result.counts, result.summary.get("wall_time_s")
    cards = [("trials", result.trials.num_rows), ("completed", counts["completed"]),
             ("stopped early", counts["stopped"]), ("errored", counts["errored"])]
    if counts["unfinished"]:
        cards.append(("cut short by the sweep's stop", counts["unfinished"]))
    if counts["running"] + counts["pending"]:
        cards.append(("running or pending", counts["running"] + counts["pending"]))
    if wall is not None:
        cards.append(("wall time", f"{wall:.0f} s"))
    return cards


def _spec_text(result: SweepResult) -> str:
    import yaml

    return yaml.safe_dump(result.spec, sort_keys=False)


def _when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _relative(result: SweepResult, path: str | None) -> str | None:
    """A path inside the run folder, relative to it (a copied run folder still reads right)."""
    if not path:
        return path
    base = result.path.rstrip("/") + "/"
    return path[len(base):] if path.startswith(base) else posixpath.join(
        *path.replace("\\", "/").split("/")[-2:])


def _trial_table(result: SweepResult, trials: list[dict]) -> dict:
    """Columns and rows (value, sort key, numeric?) for the template's sortable table; rows in
    the order trials started, best first when there is an objective."""
    key = BEST_PREFIX + str(result.metric)
    configs = [c for c in dict.fromkeys(k for t in trials for k in t)
               if c.startswith(CONFIG_PREFIX)]
    columns = ["trial_id", "status", *([key] if result.metric else []), "iterations",
               "wall_time_s", *configs, "checkpoint", "error"]
    if result.metric:
        sign = -1 if result.goal == "maximize" else 1
        trials = sorted(trials, key=lambda t: (not is_finite_number(t.get(key)),
                                               sign * (t.get(key) or 0)))
    rows = []
    for t in trials:
        cells = []
        for c in columns:
            value = _relative(result, t.get(c)) if c == "checkpoint" else t.get(c)
            cells.append({"value": value, "sort": "" if value is None else str(value),
                          "numeric": is_finite_number(value), "status": c == "status",
                          "wide": c in ("error", "checkpoint")})
        rows.append({"trial_id": t["trial_id"], "cells": cells})
    return {"columns": [c.removeprefix(CONFIG_PREFIX) for c in columns], "rows": rows}




def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
