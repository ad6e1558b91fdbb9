"""The run folders in a storage location, one line each (`raysearch runs`, `raysearch.list_runs`):
which sweeps finished, which were interrupted and can be resumed, how far each got and its
best value, newest last, as `ls` and W&B's project page list runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from raysearch.errors import SpecError
from raysearch.results import storage
from raysearch.results.driver import driver_alive, driver_of
from raysearch.results.result import SPEC_FILE, load

STOPPED_ON_FAILURE = "stopped (fail_fast)"


@dataclass(frozen=True)
class RunListing:
    """One run folder at a glance."""

    path: str
    name: str
    started: float | None  # when the sweep (its latest session) started, epoch seconds
    state: str  # finished | stopped (fail_fast) | interrupted (SIGINT) | failed | running |
    # killed | unreadable
    counts: dict[str, int] = field(default_factory=dict)  # trials by status
    metric: str | None = None
    best_value: float | None = None
    wall_time_s: float | None = None
    problem: str | None = None  # why an unreadable folder could not be read

    @property
    def resumable(self) -> bool:
        return self.state not in ("finished", "running", "unreadable")


def run_state(summary: dict, alive: bool | None = None, stopped_on_failure: bool = False) -> str:
    """How a sweep's latest session ended, from its summary.json (and whether `fail_fast`
    stopped it: `SweepResult.stopped_on_failure`); with no end written, whether its driver
    still runs (`alive`, from `results.driver`: None when that cannot be told)."""
    if summary.get("finished"):
        return STOPPED_ON_FAILURE if stopped_on_failure else "finished"
    if summary.get("interrupted_by"):
        return f"interrupted ({summary['interrupted_by']})"
    if summary.get("failed"):
        return "failed"
    return {True: "running", False: "killed"}.get(alive, "running, or killed")


def list_runs(location: str) -> list[RunListing]:
    """Every run folder directly in `location` (a path or URI), oldest first; folders without
    a spec.yaml are not run folders and are left out."""
    listings = []
    for path in storage.list_dirs(location):
        if not storage.exists(storage.join(path, SPEC_FILE)):
            continue
        name = path.rstrip("/").rsplit("/", 1)[-1]
        try:
            result = load(path)
        except (SpecError, OSError, ValueError) as exc:
            listings.append(RunListing(path, name, None, "unreadable",
                                       problem=str(exc).splitlines()[0]))
            continue
        summary = result.summary
        listings.append(RunListing(
            path, name, summary.get("started"),
            run_state(summary, driver_alive(driver_of(path)), result.stopped_on_failure),
            result.counts,
            result.metric, result.best_value if result.metric else None,
            summary.get("wall_time_s")))
    return sorted(listings, key=lambda r: (r.started or 0.0, r.name))


def format_listing(runs: list[RunListing]) -> str:
    """The table `raysearch runs` prints."""
    header = ("started (UTC)", "state", "trials", "done/stopped/errored", "best", "wall", "run")
    rows = [header]
    for run in runs:
        counts = run.counts
        best = "-" if run.best_value is None else f"{run.metric} {run.best_value:.4g}"
        rows.append((
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(run.started)) if run.started
            else "-",
            run.state,
            str(sum(counts.values())) if counts else "-",
            f"{counts.get('completed', 0)}/{counts.get('stopped', 0)}/"
            f"{counts.get('errored', 0)}" if counts else "-",
            best,
            f"{run.wall_time_s:.0f} s" if run.wall_time_s is not None else "-",
            run.path))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
             + "  " + row[-1] for row in rows]
    return "\n".join([*lines, *(f"unreadable: {run.problem}" for run in runs if run.problem)])
