"""The sweep spec: a W&B sweep file plus Ray-side keys, validated into a typed `Sweep`.

Every problem is collected before anything runs (skorch-style) and raised as one `SpecError`.
`Sweep.resolved` is the spec exactly as run (defaults filled in); it is written to the run folder
as `spec.yaml` and parses back to the same Sweep, which is how `raysearch resume` works.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from raysearch import searchers as _searchers
from raysearch.errors import SpecError, did_you_mean, one_of
from raysearch.log import logger
from raysearch.space import Param, Space, iter_params, parse_parameters
from raysearch.spec_fields import (
    CheckpointSpec,
    Metric,
    Resources,
    SchedulerSpec,
    align_checkpoints,
    mapping_field,
    non_negative_int,
    parse_checkpoint,
    parse_metric,
    parse_pbt,
    parse_resources,
    parse_run_cap,
    parse_scheduler,
    parse_tracking,
    positive_int,
)
from schedulers import NEEDS_CHECKPOINTS

__all__ = ["Sweep", "Metric", "SchedulerSpec", "Resources", "CheckpointSpec", "load_spec",
           "parse_sweep", "read_yaml", "apply_sets"]

# W&B keys that have no meaning here: accepted, reported once, ignored.
WANDB_IGNORED = ("program", "command", "project", "entity")
KEYS = ("name", "description", "trainable", "method", "metric", "parameters", "run_cap",
        "num_samples", "scheduler", "early_terminate", "resources", "max_concurrent",
        "checkpoint", "max_failures", "seed", "searcher", "tracking", "time_budget_s") + WANDB_IGNORED
@dataclass(frozen=True)
class Sweep:
    """A validated sweep. Build one with `load_spec`; every field is already checked."""

    name: str
    trainable: str | Callable
    method: str
    metric: Metric
    space: Space
    run_cap: int
    scheduler: SchedulerSpec
    resources: Resources
    max_concurrent: int | None
    checkpoint: CheckpointSpec
    max_failures: int
    seed: int | None
    searcher: dict
    resolved: dict
    tracking: dict = field(default_factory=dict)
    time_budget_s: float | None = None
    mutation_space: Space = field(default_factory=dict)
    notices: tuple[str, ...] = ()

    def params(self) -> list[Param]:
        return list(iter_params(self.space))

    def iteration_budget(self) -> int | None:
        """Iterations a trial runs unless stopped early, when the spec says (else None)."""
        limits = [self.scheduler.options.get("max_t")]
        epochs = self.space.get("epochs")
        if isinstance(epochs, Param) and epochs.distribution == "constant":
            limits.append(int(epochs.value))
        limits = [n for n in limits if isinstance(n, int)]
        return min(limits) if limits else None

    def default_max_t(self) -> int:
        """Iterations a trial may run: the constant `epochs` parameter when there is one."""
        epochs = self.space.get("epochs")
        if isinstance(epochs, Param) and epochs.distribution == "constant":
            return int(epochs.value)
        return 100


def read_yaml(path: str | Path) -> dict:
    """A spec file as a dict; a missing file or bad YAML is a one-line SpecError."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such spec file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{where}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a spec is a YAML mapping (key: value lines), got {data!r}")
    return data


def apply_sets(raw: dict, assignments: list[str]) -> dict:
    """`--set a.b=value`: YAML-typed values at dotted paths, on a copy of `raw`."""
    out = yaml.safe_load(yaml.safe_dump(raw)) if raw else {}
    for item in assignments:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise SpecError(f"--set {item!r}: expected key=value, e.g. --set run_cap=4")
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SpecError(f"--set {item!r}: {part} is not a mapping in the spec")
        node[leaf] = yaml.safe_load(text)
    return out


def load_spec(source: str | Path | Mapping | Sweep) -> Sweep:
    """A Sweep from a YAML path, a dict, or a Sweep (returned as is)."""
    if isinstance(source, Sweep):
        return source
    raw = read_yaml(source) if isinstance(source, str | Path) else dict(source)
    return parse_sweep(raw)


def parse_sweep(raw: Mapping) -> Sweep:
    """Validate a spec dict; raise one SpecError listing every problem."""
    from raysearch.targets import resolve_trainable

    problems: list[str] = []
    notices: list[str] = []
    for key in raw:
        if key not in KEYS:
            problems.append(f"unknown key {key!r}{did_you_mean(key, KEYS)}; "
                            f"allowed: {one_of(KEYS)}")
    ignored = [k for k in WANDB_IGNORED if k in raw]
    if ignored:
        notices.append(f"ignoring W&B-only key(s) {', '.join(ignored)}: raysearch runs the "
                       f"trainable in-process on Ray, not a program")

    target = raw.get("trainable")
    info = None
    if target is None:
        problems.append("trainable: missing; name one (see `raysearch trainables`), give "
                        "'package.module:function' or 'path/to/file.py:function', "
                        "or pass --trainable")
    else:
        try:
            info = resolve_trainable(target)
        except SpecError as exc:
            problems += exc.problems

    method = raw.get("method", "random")
    if method not in _searchers.SEARCHERS.factories:
        problems.append(f"method: unknown method {method!r}"
                        f"{did_you_mean(method, _searchers.SEARCHERS.factories)}; "
                        f"known: {one_of(_searchers.SEARCHERS.factories)}")

    unknown_trainable = target is not None and info is None  # don't pile on follow-on errors
    metric = parse_metric(raw.get("metric"), info, [] if unknown_trainable else problems)

    raw_params = raw.get("parameters")
    if raw_params is None and info is not None and info.default_parameters:
        raw_params = info.default_parameters
    space, param_problems = parse_parameters(raw_params)
    if not (unknown_trainable and raw_params is None):
        problems += param_problems
    if method in _searchers.SEARCHERS.factories and not param_problems:
        problems += _searchers.check_space(method, space)

    searcher_options = mapping_field(raw, "searcher", problems)
    if method in _searchers.SEARCHERS.factories:
        problems += _searchers.SEARCHERS.check(method, searcher_options, "searcher")

    tracking = parse_tracking(raw, problems)
    run_cap = parse_run_cap(raw, method, space, problems)
    resources = parse_resources(raw, problems)
    checkpoint = parse_checkpoint(raw, problems)
    scheduler = parse_scheduler(raw, problems, notices)
    if scheduler.type in NEEDS_CHECKPOINTS and info is not None and ":" in info.target:
        notices.append(f"scheduler {scheduler.type} pauses or copies trials: {info.name} must "
                       f"save checkpoints (tune.report(..., checkpoint=...)) and restore from "
                       f"tune.get_checkpoint(), or paused trials restart from scratch")
    mutation_space: Space = {}
    if scheduler.type == "pbt":
        mutation_space = parse_pbt(raw, scheduler, space, method, info, problems, notices)
        if mutation_space and not problems:
            checkpoint = align_checkpoints(scheduler, checkpoint, notices)

    max_concurrent = positive_int(raw, "max_concurrent", None, problems)
    max_failures = non_negative_int(raw, "max_failures", 0, problems)
    time_budget_s = raw.get("time_budget_s")
    if time_budget_s is not None and (isinstance(time_budget_s, bool) or not isinstance(
            time_budget_s, int | float) or time_budget_s <= 0):
        problems.append(f"time_budget_s: expected seconds > 0, got {time_budget_s!r}")
    seed = raw.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        problems.append(f"seed: expected an integer, got {seed!r}")

    if problems:
        raise SpecError(problems)

    name = str(raw.get("name") or (info.name if info else "sweep"))
    resolved = {
        "name": name,
        **({"description": raw["description"]} if raw.get("description") else {}),
        "trainable": info.target,
        "method": method,
        "metric": {"name": metric.name, "goal": metric.goal,
                   **({"target": metric.target} if metric.target is not None else {})},
        "parameters": raw_params,
        "run_cap": run_cap,
        "scheduler": {"type": scheduler.type, **scheduler.options},
        "resources": {"cpu": resources.cpu, "gpu": resources.gpu},
        "max_concurrent": max_concurrent,
        "checkpoint": {"every": checkpoint.every, "keep": checkpoint.keep},
        "max_failures": max_failures,
        "seed": seed,
        **({"searcher": searcher_options} if searcher_options else {}),
        **({"tracking": tracking} if tracking else {}),
        **({"time_budget_s": time_budget_s} if time_budget_s else {}),
    }
    for notice in notices:
        logger.info(notice)
    return Sweep(name=name, trainable=info.function if callable(target) else info.target,
                 method=method, metric=metric, space=space, run_cap=run_cap,
                 scheduler=scheduler, resources=resources, max_concurrent=max_concurrent,
                 checkpoint=checkpoint, max_failures=max_failures, seed=seed,
                 searcher=searcher_options, resolved=resolved, mutation_space=mutation_space,
                 notices=tuple(notices), tracking=tracking, time_budget_s=time_budget_s)
