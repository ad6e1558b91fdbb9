"""The sweep spec: a W&B sweep file plus Ray-side keys, validated into a typed `Sweep`.

Every problem is collected before anything runs (skorch-style) and raised as one `SpecError`.
`Sweep.resolved` is the spec exactly as run (defaults filled in); it is written to the run folder
as `spec.yaml` and parses back to the same Sweep, which is how `raysearch resume` works.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from raysearch import searchers as _searchers
from raysearch.errors import SpecError, did_you_mean, one_of
from raysearch.log import logger
from raysearch.space import Param, Space, iter_params, parse_parameters
from schedulers import NEEDS_CHECKPOINTS, SCHEDULERS

# W&B keys that have no meaning here: accepted, reported once, ignored.
WANDB_IGNORED = ("program", "command", "project", "entity")
KEYS = ("name", "description", "trainable", "method", "metric", "parameters", "run_cap",
        "num_samples", "scheduler", "early_terminate", "resources", "max_concurrent",
        "checkpoint", "max_failures", "seed", "searcher", "tracking", "time_budget_s") + WANDB_IGNORED
GOALS = {"maximize": "max", "minimize": "min"}
DEFAULT_RUN_CAP = 10


@dataclass(frozen=True)
class Metric:
    name: str
    goal: str = "maximize"
    target: float | None = None

    @property
    def mode(self) -> str:
        """Ray Tune's spelling of the goal."""
        return GOALS[self.goal]

    def better(self, a: float, b: float) -> bool:
        return a > b if self.goal == "maximize" else a < b


@dataclass(frozen=True)
class SchedulerSpec:
    type: str = "fifo"
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Resources:
    cpu: float = 1
    gpu: float = 0


@dataclass(frozen=True)
class CheckpointSpec:
    every: int = 1
    keep: int = 2


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

    def mutations(self) -> list[Param]:
        return list(iter_params(self.mutation_space))

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
    metric = _parse_metric(raw.get("metric"), info, [] if unknown_trainable else problems)

    raw_params = raw.get("parameters")
    if raw_params is None and info is not None and info.default_parameters:
        raw_params = info.default_parameters
    space, param_problems = parse_parameters(raw_params)
    if not (unknown_trainable and raw_params is None):
        problems += param_problems
    if method in _searchers.SEARCHERS.factories and not param_problems:
        problems += _searchers.check_space(method, space)

    searcher_options = _mapping(raw, "searcher", problems)
    if method in _searchers.SEARCHERS.factories:
        problems += _searchers.SEARCHERS.check(method, searcher_options, "searcher")

    tracking = _tracking(raw, problems)
    run_cap = _run_cap(raw, method, space, problems)
    resources = _resources(raw, problems)
    checkpoint = _checkpoint(raw, problems)
    scheduler = _scheduler(raw, problems, notices)
    mutation_space: Space = {}
    if scheduler.type == "pbt":
        mutation_space = _pbt(raw, scheduler, space, method, info, problems, notices)
        if mutation_space and not problems:
            checkpoint = _align_checkpoints(scheduler, checkpoint, notices)

    max_concurrent = _positive_int(raw, "max_concurrent", None, problems)
    max_failures = _non_negative_int(raw, "max_failures", 0, problems)
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


def _mapping(raw: Mapping, key: str, problems: list[str]) -> dict:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        problems.append(f"{key}: expected a mapping, got {value!r}")
        return {}
    return dict(value)


def _tracking(raw: Mapping, problems: list[str]) -> dict:
    """`tracking: {mlflow: {tracking_uri: ...}}`: each tracker's options checked by signature."""
    from raysearch.tracking import TRACKERS

    out = {}
    for name, options in _mapping(raw, "tracking", problems).items():
        options = options or {}
        if not isinstance(options, Mapping):
            problems.append(f"tracking.{name}: expected a mapping of options, got {options!r}")
            continue
        found = TRACKERS.check(name, options, f"tracking.{name}")
        problems += [p.replace(f"tracking.{name}: unknown tracker", "tracking: unknown tracker")
                     for p in found]
        out[name] = dict(options)
    return out


def _parse_metric(value: Any, info: Any, problems: list[str]) -> Metric:
    if value is None:
        if info is not None and info.metric is not None:
            return info.metric
        problems.append("metric: missing; e.g. metric: {name: val_loss, goal: minimize}")
        return Metric("?")
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        problems.append(f"metric: expected {{name: ..., goal: maximize|minimize}}, got {value!r}")
        return Metric("?")
    allowed = ("name", "goal", "target")
    for key in value:
        if key not in allowed:
            problems.append(f"metric.{key}: unknown key{did_you_mean(key, allowed)}; "
                            f"allowed: {one_of(allowed)}")
    name = value.get("name")
    if not isinstance(name, str) or not name:
        problems.append(f"metric.name: expected the name of a reported metric, got {name!r}")
        name = "?"
    goal = value.get("goal", "minimize")  # W&B's default goal
    if goal not in GOALS:
        problems.append(f"metric.goal: expected maximize or minimize, got {goal!r}"
                        f"{did_you_mean(goal, GOALS)}")
        goal = "minimize"
    target = value.get("target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, int | float)):
        problems.append(f"metric.target: expected a number, got {target!r}")
        target = None
    return Metric(name, goal, target)


def _positive_int(raw: Mapping, key: str, default: Any, problems: list[str], where: str = "",
                  minimum: int = 1) -> Any:
    value = raw.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.append(f"{where}{key}: expected an integer >= {minimum}, got {value!r}")
        return default
    return value


def _non_negative_int(raw: Mapping, key: str, default: Any, problems: list[str]) -> Any:
    return _positive_int(raw, key, default, problems, minimum=0)


def _run_cap(raw: Mapping, method: str, space: Space, problems: list[str]) -> int:
    if "run_cap" in raw and "num_samples" in raw:
        problems.append("run_cap and num_samples are the same setting; give one")
    key = "num_samples" if "num_samples" in raw else "run_cap"
    if method == "grid":
        size = math.prod(len(p.values) for p in iter_params(space)
                         if p.distribution == "categorical")
        cap = _positive_int(raw, key, size, problems)
        if cap < size:
            problems.append(f"{key}: {cap} is smaller than the grid ({size} combinations); "
                            f"raise {key} or drop it to run the whole grid")
        return size
    return _positive_int(raw, key, DEFAULT_RUN_CAP, problems)


def _resources(raw: Mapping, problems: list[str]) -> Resources:
    value = raw.get("resources") or {}
    if not isinstance(value, Mapping):
        problems.append(f"resources: expected {{cpu: 1, gpu: 0.25}}, got {value!r}")
        return Resources()
    out = {}
    for key, amount in value.items():
        if key not in ("cpu", "gpu"):
            problems.append(f"resources.{key}: unknown resource{did_you_mean(key, ('cpu', 'gpu'))}"
                            f"; allowed: cpu, gpu")
        elif isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            problems.append(f"resources.{key}: expected a number >= 0, got {amount!r}")
        elif key == "gpu" and amount > 1 and amount != int(amount):
            problems.append(f"resources.gpu: above 1 GPU a trial takes whole GPUs, got {amount}")
        else:
            out[key] = amount
    res = Resources(**out)
    if res.cpu == 0 and res.gpu == 0:
        problems.append("resources: a trial needs some cpu or gpu, got none")
    return res


def _checkpoint(raw: Mapping, problems: list[str]) -> CheckpointSpec:
    value = raw.get("checkpoint") or {}
    if not isinstance(value, Mapping):
        problems.append(f"checkpoint: expected {{every: 1, keep: 2}}, got {value!r}")
        return CheckpointSpec()
    for key in value:
        if key not in ("every", "keep"):
            problems.append(f"checkpoint.{key}: unknown key{did_you_mean(key, ('every', 'keep'))}"
                            f"; allowed: every, keep")
    every = _positive_int(value, "every", 1, problems, "checkpoint.")
    keep = _positive_int(value, "keep", 2, problems, "checkpoint.")
    return CheckpointSpec(every, keep)


def _scheduler(raw: Mapping, problems: list[str], notices: list[str]) -> SchedulerSpec:
    if "scheduler" in raw and "early_terminate" in raw:
        problems.append("scheduler and early_terminate both given; keep one")
    if "early_terminate" in raw:
        from raysearch.wandb_compat import early_terminate_to_scheduler

        value = early_terminate_to_scheduler(raw["early_terminate"], problems, notices)
    else:
        value = raw.get("scheduler") or {"type": "fifo"}
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, Mapping):
        problems.append(f"scheduler: expected {{type: asha, ...}}, got {value!r}")
        return SchedulerSpec()
    options = {k: v for k, v in value.items() if k != "type"}
    kind = value.get("type", "fifo")
    problems += SCHEDULERS.check(kind, options, "scheduler")
    return SchedulerSpec(kind, options)


def _pbt(raw: Mapping, scheduler: SchedulerSpec, space: Space, method: str, info: Any,
         problems: list[str], notices: list[str]) -> Space:
    """PBT's mutations (in the parameters grammar) default to the searched parameters the
    trainable can change mid-training."""
    if method not in ("random", "grid"):
        problems.append(f"method: PBT chooses configs itself and refuses search algorithms; "
                        f"use method random (initial population) with scheduler pbt, "
                        f"not {method!r}")
    given = scheduler.options.get("hyperparam_mutations")
    mutable = getattr(info, "mutable", None)
    if given is None:
        mutations = {k: v for k, v in space.items() if mutable is None or k in mutable}
    else:
        mutations, errs = parse_parameters(given, "scheduler.hyperparam_mutations")
        problems += errs
        for name in mutations:
            if mutable is not None and name not in mutable:
                problems.append(f"scheduler.hyperparam_mutations.{name}: {info.name} cannot "
                                f"change {name} mid-training (a checkpoint fixes it); "
                                f"mutable: {', '.join(mutable)}")
    mutations = _drop_constants(mutations)
    if "keep" in (raw.get("checkpoint") or {}):
        notices.append("checkpoint.keep is ignored under PBT: every checkpoint is kept so a "
                       "donor's checkpoint outlives the exploit that loads it")
    if not mutations and not problems:
        problems.append("scheduler.hyperparam_mutations: PBT needs at least one parameter to "
                        "mutate; give hyperparam_mutations or a non-constant parameter")
    return mutations


def _drop_constants(space: Space) -> Space:
    out = {}
    for key, node in space.items():
        if isinstance(node, Param):
            if node.distribution != "constant":
                out[key] = node
        elif sub := _drop_constants(node):
            out[key] = sub
    return out


def _align_checkpoints(scheduler: SchedulerSpec, checkpoint: CheckpointSpec,
                       notices: list[str]) -> CheckpointSpec:
    """PBT exploits only at checkpointed iterations: make `every` divide the interval."""
    interval = scheduler.options.get("perturbation_interval") or checkpoint.every
    every = math.gcd(interval, checkpoint.every)
    if every != checkpoint.every:
        notices.append(f"checkpoint.every {checkpoint.every} does not divide PBT's "
                       f"perturbation_interval {interval}; checkpointing every {every} so "
                       f"exploits always find a checkpoint")
    return CheckpointSpec(every, checkpoint.keep)


def needs_checkpoints(sweep: Sweep) -> bool:
    return sweep.scheduler.type in NEEDS_CHECKPOINTS
