"""The end-of-sweep summary a person reads in the terminal."""

from __future__ import annotations

from raysearch.report.html import REPORT_FILE
from raysearch.results import BEST_PREFIX, CONFIG_PREFIX, ERRORED, SweepResult, flatten, storage

TOP_N = 5


def summary(result: SweepResult, top: int = TOP_N) -> str:
    """Best config and metrics, counts by status, wall time, a top-N table, the run folder."""
    metric, counts = result.metric, result.counts
    lines = [f"sweep {result.spec['name']}: {result.trials.num_rows} trials: "
             f"{counts['completed']} completed, {counts['stopped']} stopped early, "
             f"{counts['errored']} errored"
             + (f", {counts['unfinished']} cut short when the sweep stopped "
                f"({_stop_causes(result.spec)})" if counts["unfinished"] else "")
             + (f", {counts['running'] + counts['pending']} not yet finished (resumable)"
                if counts["running"] + counts["pending"] else "")]
    wall = result.summary.get("wall_time_s")
    if wall is not None:
        lines.append(f"wall time: {wall:.1f} s")
    best = result.best
    if metric is None:
        lines.append("no metric: every run is recorded, none is ranked")
    elif best is None:
        lines.append(f"no trial reported {metric}")
    else:
        lines.append(f"best {metric}: {best.metrics[metric]:.4f} (trial {best.trial_id}, "
                     f"iteration {best.iteration})")
        lines.append("best config: " + ", ".join(f"{k}={_fmt(v)}" for k, v in
                                                  flatten(best.config).items()))
        others = {k: v for k, v in best.metrics.items()  # not W&B's own _step, _runtime
                  if k not in (metric, "iteration", "time_s", "node") and _is_number(v)
                  and not k.startswith("_")}
        if others:
            lines.append("its metrics: " + ", ".join(f"{k}={_fmt(v)}" for k, v in others.items()))
        if best.checkpoint:
            at = "" if best.checkpoint_iteration == best.iteration else \
                f" (saved at iteration {best.checkpoint_iteration}, the nearest kept)"
            lines.append(f"checkpoint: {best.checkpoint}{at}")
        if result.test:
            lines.append(test_line(result.test))
    target = (result.spec.get("metric") or {}).get("target")
    if target is not None:
        lines.append(f"target {metric} {target}: " +
                     ("reached, sweep stopped" if result.target_reached else "not reached"))
    errors = [r for r in result.trials.to_pylist() if r.get("error")]
    if result.stopped_on_failure:
        failed = next(r["trial_id"] for r in result.trials.to_pylist()
                      if r["status"] == ERRORED)
        lines.append(f"fail_fast: the sweep stopped when trial {failed} failed; no more "
                     f"trials started (fix it, then raysearch resume RUN_DIR retries it and "
                     f"goes on)")
    lines += _top_table(result, top)
    for row in errors[:3]:
        lines.append(f"error in trial {row['trial_id']}: {row['error']}")
    lines.append(f"report: {storage.join(result.path, REPORT_FILE)}")
    lines.append(f"run folder: {result.path}")
    return "\n".join(lines)


def _stop_causes(spec: dict) -> str:
    """What can stop this sweep before its trials end, as the spec says."""
    causes = [what for what, given in (
        ("its target", (spec.get("metric") or {}).get("target") is not None),
        ("its time budget", spec.get("time_budget_s")), ("fail_fast", spec.get("fail_fast")))
        if given]
    return " or ".join(causes) or "a stop"


def test_line(test: dict) -> str:
    """The held-out figure, saying what it is."""
    metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in test.items()
                        if k not in ("trial_id", "iteration"))
    return (f"held-out test set (the best checkpoint, iteration {test.get('iteration')}, "
            f"measured once): {metrics}")


def _top_table(result: SweepResult, top: int) -> list[str]:
    key = BEST_PREFIX + str(result.metric)
    rows = [r for r in result.trials.to_pylist() if _is_number(r.get(key))]
    if len(rows) < 2:
        return []
    rows.sort(key=lambda r: r[key], reverse=result.goal == "maximize")
    config_cols = [c for c in result.trials.column_names if c.startswith(CONFIG_PREFIX)]
    varying = [c for c in config_cols if len({str(r.get(c)) for r in rows}) > 1]
    header = ["trial", result.metric, "iters", "status", *[c[len(CONFIG_PREFIX):] for c in varying]]
    body = [[r["trial_id"], _fmt(r[key]), str(r.get("iterations")), r["status"],
             *[_fmt(r.get(c)) for c in varying]] for r in rows[:top]]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [f"top {min(top, len(rows))} of {len(rows)}:", fmt.format(*header),
            *[fmt.format(*row) for row in body]]


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
