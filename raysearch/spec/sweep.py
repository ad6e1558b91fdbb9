"""The sweep spec: a W&B sweep file plus Ray-side keys, validated into a typed `Sweep`.

The schema is data: the top-level keys are the fields of `SweepFile`, each block a dataclass in
`raysearch.types`, each extension's options its factory's signature, all checked by
`raysearch.schema`. What is written by hand here is meaning: the W&B parameter grammar
(`space`), `early_terminate` (`wandb`), and rules that span fields (a searcher's facts against
the space, PBT against the searcher, the grid's size against run_cap). Every problem is
collected before anything runs and raised as one `SpecError`, one problem per line.
`Sweep.resolved` is the spec exactly as run; it parses back to the same Sweep (how `resume`
works).
"""

from __future__ import annotations

import importlib.util
import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raysearch import schema
from raysearch.errors import RaysearchNotice, SpecError, did_you_mean
from raysearch.registry import SCHEDULERS, SEARCHERS, TRACKERS, TRAINABLES, Entry
from raysearch.spec.space import Param, Space, iter_params, parse_parameters
from raysearch.spec.targets import resolve_trainable
from raysearch.spec.tune_space import translate_spec
from raysearch.spec.wandb import (
    METRIC_WANDB_ONLY,
    PROGRAM_TRAINABLE,
    check_program,
    split_scheduler,
    wandb_only_notices,
)
from raysearch.types import (
    CheckpointSpec,
    Metric,
    Resources,
    SchedulerContext,
    SchedulerSpec,
    TrainableInfo,
    is_finite_number,
)

DEFAULT_RUN_CAP = 10


@dataclass(frozen=True)
class SweepFile:
    """The top-level keys of a spec and their types (blocks are checked by their own schema)."""

    name: Any = None
    description: str | None = None
    trainable: Any = None
    method: str = "random"
    metric: Any = None
    parameters: Any = None
    run_cap: int | None = field(default=None, metadata={"min": 1})
    num_samples: int | None = field(default=None, metadata={"min": 1})
    scheduler: Any = None
    early_terminate: Any = None
    resources: Any = None
    max_concurrent: int | None = field(default=None, metadata={"min": 1})
    checkpoint: Any = None
    max_failures: int = field(default=0, metadata={"min": 0})
    fail_fast: bool = False
    seed: int | None = None
    searcher: dict | None = None
    tracking: dict | None = None
    time_budget_s: float | None = field(default=None, metadata={"gt": 0})
    program: Any = None
    command: Any = None
    # W&B's keys with no raysearch meaning: accepted with a notice (spec.wandb.WANDB_ONLY)
    project: Any = None
    entity: Any = None
    controller: Any = None
    job: Any = None
    image_uri: Any = None
    apiVersion: Any = None  # noqa: N815 - W&B's spelling
    kind: Any = None
    metrics: Any = None


@dataclass(frozen=True)
class Sweep:
    """A validated sweep. Build one with `load_spec`; every field is already checked."""

    name: str
    trainable: str | Callable
    method: str
    metric: Metric | None  # None: a grid or random sweep that ranks nothing (W&B allows it)
    space: Space
    parameters: dict  # as given (W&B grammar): what spec.yaml records
    run_cap: int
    scheduler: SchedulerSpec
    resources: Resources = Resources()
    max_concurrent: int | None = None
    checkpoint: CheckpointSpec = CheckpointSpec()
    max_failures: int = 0
    fail_fast: bool = False  # the first failed trial stops the sweep (Tune's FailureConfig)
    seed: int | None = None
    searcher: dict = field(default_factory=dict)
    tracking: dict = field(default_factory=dict)
    time_budget_s: float | None = None
    description: str | None = None
    mutation_space: Space = field(default_factory=dict)
    trainable_info: TrainableInfo = TrainableInfo()
    notices: tuple[str, ...] = ()
    program: str | None = None  # a W&B sweep's training script, run as each trial
    command: tuple[str, ...] | None = None  # its command line (W&B's macros)

    @property
    def resolved(self) -> dict:
        """The spec exactly as run, defaults filled in: what `spec.yaml` holds."""
        optional = {"description": self.description, "searcher": self.searcher,
                    "tracking": self.tracking, "time_budget_s": self.time_budget_s}
        return {
            "name": self.name,
            **({"description": self.description} if self.description else {}),
            "trainable": self.trainable if isinstance(self.trainable, str)
            else Entry("", self.trainable, None).reference,
            "method": self.method,
            "metric": self.metric.to_dict() if self.metric else None,
            "parameters": self.parameters,
            "run_cap": self.run_cap,
            "scheduler": self.scheduler.to_dict(),
            "resources": self.resources.to_dict(),
            "max_concurrent": self.max_concurrent,
            "checkpoint": self.checkpoint.to_dict(),
            "max_failures": self.max_failures,
            **({"fail_fast": True} if self.fail_fast else {}),
            "seed": self.seed,
            **{k: v for k, v in optional.items() if v and k != "description"},
            **({"program": self.program, "command": list(self.command)} if self.program
               else {}),
        }

    @property
    def metric_name(self) -> str | None:
        return self.metric.name if self.metric else None

    @property
    def metric_mode(self) -> str | None:
        """Ray Tune's `mode` ("max"/"min"), None without a metric."""
        return self.metric.mode if self.metric else None

    def describe_metric(self) -> str:
        """How the CLI names the objective: "val_loss (minimize)", or that there is none."""
        return f"metric {self.metric.name} ({self.metric.goal})" if self.metric else \
            "no metric (every run recorded, none ranked)"

    def params(self) -> list[Param]:
        return list(iter_params(self.space))

    def constant_epochs(self) -> int | None:
        return constant_epochs(self.space)

    def iteration_budget(self) -> int | None:
        """Iterations a trial runs unless stopped early, when the spec says (else None)."""
        limits = [self.scheduler.options.get("max_t"), self.constant_epochs()]
        limits = [n for n in limits if isinstance(n, int)]
        return min(limits) if limits else None

    def scheduler_context(self) -> SchedulerContext:
        return SchedulerContext(metric=self.metric, max_t=default_max_t(self.space),
                                checkpoint_every=self.checkpoint.every,
                                mutations=self.mutation_space, seed=self.seed,
                                trial_length=self.constant_epochs())


def constant_epochs(space: Space) -> int | None:
    """The `epochs` parameter when it is a constant: the trial's known length."""
    epochs = space.get("epochs")
    if isinstance(epochs, Param) and epochs.distribution == "constant":
        return int(epochs.value)
    return None


def default_max_t(space: Space) -> int:
    """Iterations a scheduler may let a trial run when its spec gives no `max_t`."""
    return constant_epochs(space) or 100


def parse_sweep(raw: Mapping) -> Sweep:
    """Validate a spec dict; raise one SpecError listing every problem."""
    if not isinstance(raw, Mapping):
        raise SpecError(f"a spec is a mapping (key: value lines), got {raw!r}")
    raw, problems = translate_spec(raw)  # Ray Tune's search-space objects, as W&B's grammar
    top, schema_problems = schema.check(schema.dataclass_options(SweepFile), raw, "")
    if problems:  # a space that cannot be read: the checks below would only echo it
        raise SpecError(problems + schema_problems)
    problems += schema_problems
    notices: list[str] = []
    notices += wandb_only_notices(raw)
    if top["metrics"] is not None:
        problems.append("metrics: a multi-objective W&B sweep (method: custom) has no spec form "
                        "here: give one `metric`, or run an Optuna multi-objective study with "
                        "raysearch.optuna.optimize")
    top["scheduler"] = split_scheduler(top["scheduler"], top["method"], problems, notices)
    program = None
    if top["trainable"] in (None, PROGRAM_TRAINABLE) and top["program"] is not None:
        # a W&B sweep: its program runs as each trial (`command`, W&B's macros)
        program = check_program(top["program"], top["command"], problems)
        raw_trainable = PROGRAM_TRAINABLE if program else None
    else:
        raw_trainable = top["trainable"]
        if top["program"] is not None or top["command"] is not None:
            notices.append("ignoring program/command: the trainable given runs in-process")

    # a program that failed its checks has said so already: no "trainable missing" on top
    trainable = None if raw_trainable is None and top["program"] is not None else \
        _trainable(raw_trainable, problems)
    info = trainable.facts if trainable else None
    registered = trainable is not None and TRAINABLES.entries().get(trainable.name) is trainable
    unknown_trainable = (raw_trainable is not None or top["program"] is not None) \
        and trainable is None

    raw_params = top["parameters"]
    if raw_params is None and info is not None and info.default_parameters:
        raw_params = dict(info.default_parameters)
    space, param_problems = parse_parameters(raw_params)
    if not (unknown_trainable and raw_params is None):
        problems += param_problems
    if info is not None and not param_problems:
        problems += _unread_or_missing(space, info, trainable.name)
    if info is not None and info.choices and not param_problems:
        problems += _outside_choices(space, info.choices, trainable.name)
    if info is not None and info.ranges and not param_problems:
        problems += _outside_ranges(space, info.ranges, trainable.name, "parameters")

    method = top["method"] if "method" in raw or param_problems else \
        _default_method(top["scheduler"], space, notices)
    searcher = SEARCHERS.get(method) if method in SEARCHERS else None
    if searcher is None:
        problems.append(SEARCHERS.unknown(method, "method"))
    elif searcher.facts.front_end:
        problems.append(f"method: {method} runs a live object, not a spec: use "
                        f"{searcher.facts.front_end}")
        searcher = None
    if searcher is not None and not param_problems:
        problems += check_space(searcher, space)
    searcher_options = schema.given(top["searcher"] or {})
    if searcher is not None:
        problems += searcher.check(searcher_options, "searcher")

    tracking = _tracking(top["tracking"] or {}, problems)
    run_cap = _run_cap(top, searcher, space, problems)
    resources = _resources(top["resources"], problems)
    checkpoint, errs = schema.parse_block(CheckpointSpec, top["checkpoint"], "checkpoint")
    problems += errs
    known = len(problems)
    scheduler = _scheduler(top, problems, notices)
    scheduler_entry = SCHEDULERS.get(scheduler.type) if scheduler.type in SCHEDULERS else None
    if scheduler_entry and scheduler_entry.facts.check_options and len(problems) == known \
            and not param_problems:
        defaults = {n: o.default for n, o in scheduler_entry.options().items()}
        problems += scheduler_entry.facts.check_options({**defaults, **scheduler.options},
                                                        default_max_t(space))
    ranks = []  # what ranks trials by the metric
    if searcher is not None and searcher.facts.model_based:
        ranks.append(f"method {searcher.name!r}")
    if scheduler_entry is not None and scheduler_entry.facts.compares_trials:
        ranks.append(f"scheduler {scheduler.type!r}")
    metric = _metric(top["metric"], info, ranks, [] if unknown_trainable else problems)
    if scheduler_entry and scheduler_entry.facts.needs_checkpoints and trainable is not None \
            and not registered:
        notices.append(f"scheduler {scheduler.type} pauses or copies trials: {trainable.name} "
                       f"must save checkpoints (tune.report(..., checkpoint=...)) and restore "
                       f"from tune.get_checkpoint(), or paused trials restart from scratch")
    package = scheduler_entry.facts.needs_package if scheduler_entry else None
    if package and importlib.util.find_spec(package[0]) is None:
        problems.append(f"scheduler.type: {scheduler.type} needs {package[0]}, which is not "
                        f"installed; {package[1]}")
    mutation_space: Space = {}
    if scheduler_entry and scheduler_entry.facts.exploits:
        mutation_space = _mutations(top, scheduler, space, searcher, trainable, problems,
                                    notices)
        if info is not None and info.ranges and scheduler.options.get("hyperparam_mutations"):
            problems += _outside_ranges(mutation_space, info.ranges, trainable.name,
                                        "scheduler.hyperparam_mutations")
        if mutation_space and not problems:
            checkpoint = _align_checkpoints(scheduler, checkpoint, notices)

    if top["fail_fast"] and top["max_failures"]:
        problems.append(f"fail_fast: the first failure stops the sweep, so there is no retry "
                        f"for max_failures: {top['max_failures']}; set max_failures: 0 or "
                        f"fail_fast: false")
    if top["name"] not in (None, "") and (problem := name_problem(str(top["name"]))):
        problems.append(problem)
    if problems:
        raise SpecError(problems)
    for notice in notices:
        warnings.warn(notice, RaysearchNotice, stacklevel=3)
    return Sweep(
        name=str(top["name"] or (Path(program[0]).stem if program else trainable.name)),
        description=top["description"],
        trainable=trainable.name if registered else trainable.target
        if callable(trainable.target) else trainable.reference,
        method=method, metric=metric, space=space, parameters=raw_params, run_cap=run_cap,
        scheduler=scheduler, resources=resources, max_concurrent=top["max_concurrent"],
        checkpoint=checkpoint, max_failures=top["max_failures"], fail_fast=top["fail_fast"],
        seed=top["seed"],
        searcher=dict(searcher_options), tracking=tracking, time_budget_s=top["time_budget_s"],
        mutation_space=mutation_space, trainable_info=info, notices=tuple(notices),
        program=program[0] if program else None, command=program[1] if program else None)


# ------------------------------------------------------------------ cross-field rules


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


def _trainable(target: Any, problems: list[str]) -> Entry | None:
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


def _metric(value: Any, info: TrainableInfo | None, ranks: list[str],
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


def _resources(value: Any, problems: list[str]) -> Resources:
    resources, errs = schema.parse_block(Resources, value, "resources", noun="resource")
    problems += errs
    if resources.gpu > 1 and resources.gpu != int(resources.gpu):
        problems.append(f"resources.gpu: above 1 GPU a trial takes whole GPUs, got "
                        f"{resources.gpu}")
    if resources.cpu == 0 and resources.gpu == 0:
        problems.append("resources: a trial needs some cpu or gpu, got none")
    return resources


def _tracking(value: Mapping, problems: list[str]) -> dict:
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


def _run_cap(top: dict, searcher: Entry | None, space: Space, problems: list[str]) -> int:
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


def _scheduler(top: dict, problems: list[str], notices: list[str]) -> SchedulerSpec:
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


def _mutations(top: dict, scheduler: SchedulerSpec, space: Space, searcher: Entry | None,
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


def _default_method(raw_scheduler: Any, space: Space, notices: list[str]) -> str:
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


def _unread_or_missing(space: Space, info: TrainableInfo, trainable: str) -> list[str]:
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


def _outside_choices(space: Space, choices: Mapping[str, tuple], trainable: str) -> list[str]:
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


def _outside_ranges(space: Space, ranges: Mapping[str, Mapping], trainable: str,
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
