"""The spec's rules that span fields, for `sweep.parse_sweep`: a searcher's facts against the
space, PBT's mutations against the searcher, the grid's size against run_cap, a shipped
trainable's declared parameters, names and ranges against the space, the run folder's name.
Each returns (or appends) problems as lines a user can act on; none raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from raysearch import schema
from raysearch.errors import SpecError, did_you_mean
from raysearch.registry import SCHEDULERS, SEARCHERS, TRACKERS, Entry
from raysearch.spec.space import Param, Space, iter_params, parse_parameters
from raysearch.spec.targets import resolve_trainable
from raysearch.spec.wandb import (
    METRIC_WANDB_ONLY,
)
from raysearch.types import (
    CheckpointSpec,
    Metric,
    Resources,
    SchedulerSpec,
    TrainableInfo,
    is_finite_number,
)

DEFAULT_RUN_CAP = 10

MAX_NAME = 200  # a folder name's limit is 255 bytes; the run folder adds "-YYYYmmdd-HHMMSS-N"


def folder_name(name: str) -> str:
    """`name` as one folder name: the parts between '/', '\\' (and NULs) joined with '-', '.'
    and '..' left out ('sweep' if nothing is left). A name that is one already is kept."""
    return "-".join(part for part in re.split(r"[/\\\0]+", name)
                    if part.strip(".")) or "sweep"


def name_problem(name: str) -> str | None:
    """A sweep's name names its run folder: one folder inside the storage (`a/b` would nest
    it, `../x` put it outside), or the problem with a name to use instead."""
    if folder_name(name) != name:
        return (f"name: {name!r} names the run folder, so it is one folder name: no '/' or "
                f"'\\', not '.' or '..'; e.g. {folder_name(name)!r}")
    if len(name.encode()) > MAX_NAME:
        return (f"name: {len(name.encode())} bytes is too long for a folder name (the run "
                f"folder's); at most {MAX_NAME}")
    return None


def check_space(searcher: Entry, space: Space) -> list[str]:
    """A distribution (or weighting) the searcher cannot express, named with who can."""
    problems = []
    for p in iter_params(space):
        if p.distribution in searcher.facts.cannot_express:
            able = [e.name for e in SEARCHERS if p.distribution not in e.facts.cannot_express
                    and not e.facts.front_end]
            problems.append(f"{p.path}: method {searcher.name!r} cannot express distribution "
                            f"{p.distribution}; use method {' or '.join(able)}")
        elif p.probabilities is not None and not searcher.facts.weights_categoricals:
            able = [e.name for e in SEARCHERS if e.facts.weights_categoricals
                    and not e.facts.front_end]
            problems.append(f"{p.path}: method {searcher.name!r} ignores `probabilities`; "
                            f"use method {' or '.join(able)}, or drop `probabilities`")
    return problems


def find_trainable(target: Any, problems: list[str]) -> Entry | None:
    if target is None:
        problems.append("trainable: missing; name one (see `raysearch trainables`), give "
                        "'package.module:function' or 'path/to/file.py:function', "
                        "or pass --trainable")
        return None
    try:
        return resolve_trainable(target)
    except SpecError as exc:
        problems += exc.problems
        return None


def parse_metric(value: Any, info: TrainableInfo | None, ranks: list[str],
            problems: list[str]) -> Metric | None:
    """The objective; none only where nothing ranks trials (`ranks` names what does)."""
    if value is None:
        if info is not None and info.metric is not None:
            return info.metric
        if not ranks:
            return None  # W&B runs a grid or random sweep without one, and so do we
        verb = "ranks" if len(ranks) == 1 else "rank"
        problems.append(f"metric: missing; {' and '.join(ranks)} {verb} trials by it, e.g. "
                        f"metric: {{name: val_loss, goal: minimize}} (only grid or random "
                        f"with scheduler fifo run without one)")
        return Metric("?")
    if isinstance(value, str):
        problems.append(f"metric: expected a mapping, got the string {value!r}; write it as "
                        f"metric: {{name: val_loss, goal: minimize}} (W&B requires the same)")
        return Metric("?")
    if isinstance(value, Mapping):  # W&B's impute keys: noticed by wandb_only_notices
        value = {k: v for k, v in value.items() if k not in METRIC_WANDB_ONLY}
    metric, errs = schema.parse_block(Metric, value, "metric")
    problems += errs
    return metric or Metric("?")


def parse_resources(value: Any, problems: list[str]) -> Resources:
    resources, errs = schema.parse_block(Resources, value, "resources", noun="resource")
    problems += errs
    if resources.gpu > 1 and resources.gpu != int(resources.gpu):
        problems.append(f"resources.gpu: above 1 GPU a trial takes whole GPUs, got "
                        f"{resources.gpu}")
    if resources.cpu == 0 and resources.gpu == 0:
        problems.append("resources: a trial needs some cpu or gpu, got none")
    return resources


def parse_tracking(value: Mapping, problems: list[str]) -> dict:
    """`tracking: {mlflow: {tracking_uri: ...}}`: each tracker's options by its signature."""
    out = {}
    for name, options in value.items():
        options = options or {}
        if not isinstance(options, Mapping):
            problems.append(f"tracking.{name}: expected a mapping of options, got {options!r}")
        elif name not in TRACKERS:
            problems.append(TRACKERS.unknown(name, "tracking"))
        else:
            problems += TRACKERS.get(name).check(options, f"tracking.{name}")
            out[name] = dict(options)
    return out


def resolve_run_cap(top: dict, searcher: Entry | None, space: Space, problems: list[str]) -> int:
    if top["run_cap"] is not None and top["num_samples"] is not None:
        problems.append("run_cap and num_samples are the same setting; give one")
    key = "num_samples" if top["num_samples"] is not None else "run_cap"
    cap = top[key]
    if searcher is not None and searcher.facts.enumerates_grid:
        size = math.prod(len(p.grid_values()) for p in iter_params(space)
                         if p.distribution != "constant" and p.grid_values() is not None)
        if cap is not None and cap < size:
            problems.append(f"{key}: {cap} is smaller than the grid ({size} combinations); "
                            f"raise {key} or drop it to run the whole grid")
        return size
    return cap or DEFAULT_RUN_CAP


def parse_scheduler(top: dict, problems: list[str], notices: list[str]) -> SchedulerSpec:
    if top["scheduler"] is not None and top["early_terminate"] is not None:
        problems.append("scheduler and early_terminate both given; keep one")
    if top["early_terminate"] is not None:
        from raysearch.spec.wandb import early_terminate_to_scheduler

        value = early_terminate_to_scheduler(top["early_terminate"], problems, notices)
    else:
        value = top["scheduler"] or {"type": "fifo"}
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, Mapping):
        problems.append(f"scheduler: expected {{type: asha, ...}}, got {value!r}")
        return SchedulerSpec()
    options = schema.given({k: v for k, v in value.items() if k != "type"})
    kind = value.get("type", "fifo")
    problems += SCHEDULERS.check(kind, options, "scheduler")
    return SchedulerSpec(kind, options)


def parse_mutations(top: dict, scheduler: SchedulerSpec, space: Space, searcher: Entry | None,
               trainable: Entry | None, problems: list[str], notices: list[str]) -> Space:
    """What an exploiting scheduler (PBT) mutates, in the parameters grammar: by default the
    searched parameters the trainable can change mid-training."""
    if searcher is not None and searcher.facts.model_based:
        plain = [e.name for e in SEARCHERS if not e.facts.model_based]
        problems.append(f"method: {scheduler.type} chooses configs itself and refuses search "
                        f"algorithms; use method {' or '.join(plain)} (the initial population) "
                        f"with scheduler {scheduler.type}, not {searcher.name!r}")
    given = scheduler.options.get("hyperparam_mutations")
    mutable = trainable.facts.mutable if trainable else None
    if given is None:
        mutations = {k: v for k, v in space.items() if mutable is None or k in mutable}
    else:
        mutations, errs = parse_parameters(given, "scheduler.hyperparam_mutations")
        problems += errs
        for name in mutations:
            if mutable is not None and name not in mutable:
                problems.append(f"scheduler.hyperparam_mutations.{name}: {trainable.name} "
                                f"cannot change {name} mid-training (a checkpoint fixes it); "
                                f"mutable: {', '.join(mutable)}")
    mutations = _drop_constants(mutations)
    if SCHEDULERS.get(scheduler.type).facts.mutates_numbers_only:
        mutations = _numbers_only(mutations, scheduler.type, given is not None, problems,
                                  notices)
    if "keep" in (top["checkpoint"] or {}):
        notices.append("checkpoint.keep is ignored under PBT: every checkpoint is kept so a "
                       "donor's checkpoint outlives the exploit that loads it")
    if not mutations and not problems:
        problems.append("scheduler.hyperparam_mutations: PBT needs at least one parameter to "
                        "mutate; give hyperparam_mutations or a non-constant parameter")
    return mutations


# The method a spec without `method` gets when its scheduler stops trials early by comparing
# them: the first of these that can express the space. Chosen by measurement (BENCHMARKS.md
# §2: bayes + asha reached each accuracy threshold first among raysearch's methods, 5 seeds).
EARLY_STOPPING_DEFAULT_METHODS = ("bayes", "hyperopt")
DEFAULT_METHOD = "random"


def default_method(raw_scheduler: Any, space: Space, notices: list[str]) -> str:
    kind = raw_scheduler.get("type") if isinstance(raw_scheduler, Mapping) else None
    entry = SCHEDULERS.get(kind) if kind in SCHEDULERS else None
    if entry is None or not entry.facts.compares_trials or entry.facts.exploits:
        return DEFAULT_METHOD
    for name in EARLY_STOPPING_DEFAULT_METHODS:
        if not check_space(SEARCHERS.get(name), space):
            notices.append(f"method: none given; using {name} (with scheduler {kind} it "
                           f"measured best, BENCHMARKS.md §2); set method: random for "
                           f"independent draws")
            return name
    return DEFAULT_METHOD


def _numbers_only(space: Space, kind: str, given: bool, problems: list[str],
                  notices: list[str]) -> Space:
    """A scheduler that explores numeric ranges (PB2) cannot mutate a categorical: an error
    when the user asked for it, else a note that it stays as the initial population drew it."""
    kept: Space = {}
    for key, node in space.items():
        if not isinstance(node, Param):
            kept[key] = _numbers_only(node, kind, given, problems, notices)
        elif node.distribution != "categorical":
            kept[key] = node
        elif given:
            problems.append(f"scheduler.hyperparam_mutations.{key}: {kind} explores numeric "
                            f"ranges only; drop {key} (it keeps the value each trial drew)")
        else:
            notices.append(f"{key}: {kind} explores numeric ranges only; {key} keeps the "
                           f"value each trial of the initial population drew")
    return kept


def unread_or_missing(space: Space, info: TrainableInfo, trainable: str) -> list[str]:
    """A parameter the trainable needs and the spec lacks (every trial would fail on it), or
    one it never reads (a typo every trial would ignore), found before Ray starts."""
    import yaml

    problems = []
    for name in info.needs:
        if name not in space:
            default = (info.default_parameters or {}).get(name)
            example = f", e.g. {name}: " + yaml.safe_dump(
                default, default_flow_style=True, width=1000).strip() if default else ""
            problems.append(f"parameters.{name}: {trainable} needs {name}; add it{example} "
                            f"(`raysearch trainables` lists its default space)")
    if info.reads is not None:
        for name in space:
            if name not in info.reads:
                problems.append(f"parameters.{name}: {trainable} does not read {name}"
                                f"{did_you_mean(name, info.reads)}; it reads "
                                f"{', '.join(info.reads)}")
    return problems


def outside_choices(space: Space, choices: Mapping[str, tuple], trainable: str) -> list[str]:
    """A value the trainable would only reject inside a trial (an optimizer it does not
    have), found before Ray starts."""
    problems = []
    for name, allowed in choices.items():
        node = space.get(name)
        if not isinstance(node, Param):
            continue
        options = " or ".join(map(repr, allowed))
        given = (node.value,) if node.distribution == "constant" else node.values
        if given is None:
            problems.append(f"parameters.{name}: {trainable} takes {options}; give `value` or "
                            f"`values`, not the {node.distribution} distribution")
        elif wrong := [v for v in given if v not in allowed]:
            problems.append(f"parameters.{name}: {trainable} has no {name} "
                            f"{', '.join(map(repr, wrong))}; use {options}")
    return problems


def outside_ranges(space: Space, ranges: Mapping[str, Mapping], trainable: str,
                    where: str) -> list[str]:
    """A value outside what the trainable takes (batch_size 0, a negative lr), which it would
    only reject inside a trial, found before Ray starts."""
    problems = []
    for name, rules in ranges.items():
        node = space.get(name)
        if not isinstance(node, Param):
            continue
        if node.distribution in ("constant", "categorical"):
            given = (node.value,) if node.distribution == "constant" else node.values
            numbers = [v for v in given if is_finite_number(v)]
            found = next((f"got {v!r}" for v in numbers if schema.range_problem(rules, v)), None)
        else:
            lo, hi = node.bounds()
            # a continuous draw never lands on its bound: `gt` 0 admits uniform from 0
            continuous = node.distribution != "int_uniform" and \
                not node.distribution.startswith("q_")
            low_rules = {"min" if continuous and k == "gt" else k: v for k, v in rules.items()
                         if k in ("min", "gt")}
            found = None  # an unbounded side (normal) is left alone: its tails are the user's
            if low_rules and lo is not None and schema.range_problem(low_rules, lo):
                found = f"{node.distribution} draws from {lo!r}"
            elif "max" in rules and hi is not None and hi > rules["max"]:
                found = f"{node.distribution} draws up to {hi!r}"
        if found:
            problems.append(f"{where}.{name}: {trainable} takes {name} "
                            f"{schema.describe_range(rules)}; {found}")
    return problems


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
