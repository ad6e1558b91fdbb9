"""The blocks of a sweep spec (metric, resources, checkpoint, scheduler, PBT, tracking): each
parsed and checked on its own, every problem appended to the caller's list."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from raysearch.errors import did_you_mean, one_of
from raysearch.space import Param, Space, iter_params, parse_parameters
from schedulers import SCHEDULERS

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


def mapping_field(raw: Mapping, key: str, problems: list[str]) -> dict:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        problems.append(f"{key}: expected a mapping, got {value!r}")
        return {}
    return dict(value)


def parse_tracking(raw: Mapping, problems: list[str]) -> dict:
    """`tracking: {mlflow: {tracking_uri: ...}}`: each tracker's options checked by signature."""
    from raysearch.tracking import TRACKERS

    out = {}
    for name, options in mapping_field(raw, "tracking", problems).items():
        options = options or {}
        if not isinstance(options, Mapping):
            problems.append(f"tracking.{name}: expected a mapping of options, got {options!r}")
            continue
        found = TRACKERS.check(name, options, f"tracking.{name}")
        problems += [p.replace(f"tracking.{name}: unknown tracker", "tracking: unknown tracker")
                     for p in found]
        out[name] = dict(options)
    return out


def parse_metric(value: Any, info: Any, problems: list[str]) -> Metric:
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


def positive_int(raw: Mapping, key: str, default: Any, problems: list[str], where: str = "",
                  minimum: int = 1) -> Any:
    value = raw.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.append(f"{where}{key}: expected an integer >= {minimum}, got {value!r}")
        return default
    return value


def non_negative_int(raw: Mapping, key: str, default: Any, problems: list[str]) -> Any:
    return positive_int(raw, key, default, problems, minimum=0)


def parse_run_cap(raw: Mapping, method: str, space: Space, problems: list[str]) -> int:
    if "run_cap" in raw and "num_samples" in raw:
        problems.append("run_cap and num_samples are the same setting; give one")
    key = "num_samples" if "num_samples" in raw else "run_cap"
    if method == "grid":
        size = math.prod(len(p.values) for p in iter_params(space)
                         if p.distribution == "categorical")
        cap = positive_int(raw, key, size, problems)
        if cap < size:
            problems.append(f"{key}: {cap} is smaller than the grid ({size} combinations); "
                            f"raise {key} or drop it to run the whole grid")
        return size
    return positive_int(raw, key, DEFAULT_RUN_CAP, problems)


def parse_resources(raw: Mapping, problems: list[str]) -> Resources:
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


def parse_checkpoint(raw: Mapping, problems: list[str]) -> CheckpointSpec:
    value = raw.get("checkpoint") or {}
    if not isinstance(value, Mapping):
        problems.append(f"checkpoint: expected {{every: 1, keep: 2}}, got {value!r}")
        return CheckpointSpec()
    for key in value:
        if key not in ("every", "keep"):
            problems.append(f"checkpoint.{key}: unknown key{did_you_mean(key, ('every', 'keep'))}"
                            f"; allowed: every, keep")
    every = positive_int(value, "every", 1, problems, "checkpoint.")
    keep = positive_int(value, "keep", 2, problems, "checkpoint.")
    return CheckpointSpec(every, keep)


def parse_scheduler(raw: Mapping, problems: list[str], notices: list[str]) -> SchedulerSpec:
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


def parse_pbt(raw: Mapping, scheduler: SchedulerSpec, space: Space, method: str, info: Any,
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


def align_checkpoints(scheduler: SchedulerSpec, checkpoint: CheckpointSpec,
                       notices: list[str]) -> CheckpointSpec:
    """PBT exploits only at checkpointed iterations: make `every` divide the interval."""
    interval = scheduler.options.get("perturbation_interval") or checkpoint.every
    every = math.gcd(interval, checkpoint.every)
    if every != checkpoint.every:
        notices.append(f"checkpoint.every {checkpoint.every} does not divide PBT's "
                       f"perturbation_interval {interval}; checkpointing every {every} so "
                       f"exploits always find a checkpoint")
    return CheckpointSpec(every, checkpoint.keep)
