"""`raysearch.run(...)`: a sweep from a YAML path, a dict, a Sweep, or keyword arguments."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from raysearch.results import SweepResult
from raysearch.runner import DEFAULT_STORAGE, RunOptions, resume_sweep, run_sweep
from raysearch.spec import Sweep, load_spec, read_yaml


def run(spec: str | Path | Mapping | Sweep | None = None, *,
        trainable: str | Callable | None = None, metric: str | Mapping | None = None,
        goal: str | None = None, address: str | None = None, storage: str = DEFAULT_STORAGE,
        name: str | None = None, quiet: bool = False, autoscaling: bool = False,
        **fields: Any) -> SweepResult:
    """Run a sweep and return its result.

    `spec` is a YAML path, a dict or a Sweep; keyword arguments set or override spec fields
    (`parameters`, `method`, `scheduler`, `run_cap`, `resources`, ...). `metric` may be a name
    with `goal`, or the spec's `{name, goal, target}` mapping. `address`, `storage`, `name`
    `quiet` and `autoscaling` say where and how to run, as the CLI flags do. Unless `quiet`,
    progress and the end-of-sweep summary are printed, as by `raysearch run`.
    """
    if isinstance(spec, Sweep) and not (fields or trainable or metric or goal):
        sweep = spec
    else:
        raw = dict(spec.resolved) if isinstance(spec, Sweep) else \
            read_yaml(spec) if isinstance(spec, str | Path) else dict(spec or {})
        if trainable is not None:
            raw["trainable"] = trainable
        if metric is not None or goal is not None:
            base = raw.get("metric") or {}
            base = {"name": base} if isinstance(base, str) else dict(base)
            if isinstance(metric, Mapping):
                base.update(metric)
            elif metric is not None:
                base["name"] = metric
            if goal is not None:
                base["goal"] = goal
            raw["metric"] = base
        raw.update(fields)
        sweep = load_spec(raw)
    options = RunOptions(address=address, storage=storage, name=name,
                         progress_every_s=None if quiet else 10.0, autoscaling=autoscaling)
    return _summarised(run_sweep(sweep, options), quiet)


def resume(run_dir: str, *, trainable: Callable | None = None, address: str | None = None,
           quiet: bool = False) -> SweepResult:
    """Continue an interrupted sweep from its run folder. A function given to `run` as an
    object is stored by value in the run folder; pass `trainable` to use another."""
    return _summarised(resume_sweep(run_dir, RunOptions(
        address=address, progress_every_s=None if quiet else 10.0), trainable), quiet)


def _summarised(result: SweepResult, quiet: bool) -> SweepResult:
    """Print the end-of-sweep summary, as the CLI does, unless quiet."""
    if not quiet:
        from raysearch.report import summary

        print(summary(result), flush=True)
    return result
