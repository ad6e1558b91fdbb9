"""The sweep spec: a W&B sweep file plus Ray-side keys, validated into a typed `Sweep`.

The schema is data: the top-level keys are the fields of `SweepFile`, each block a dataclass in
`raysearch.types`, each extension's options its factory's signature, all checked by
`raysearch.schema`. What is written by hand here is meaning: the W&B parameter grammar
(`space`), `early_terminate` (`wandb`), and rules that span fields (`rules`: a searcher's facts
against the space, PBT against the searcher, the grid's size against run_cap). Every problem is
collected before anything runs and raised as one `SpecError`, one problem per line.
`Sweep.resolved` is the spec exactly as run; it parses back to the same Sweep (how `resume`
works).
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raysearch import schema
from raysearch.errors import RaysearchNotice, SpecError
from raysearch.registry import SCHEDULERS, SEARCHERS, TRAINABLES, Entry
from raysearch.spec.rules import (
    align_checkpoints,
    check_space,
    default_method,
    find_trainable,
    name_problem,
    outside_choices,
    outside_ranges,
    parse_metric,
    parse_mutations,
    parse_resources,
    parse_scheduler,
    parse_tracking,
    resolve_run_cap,
    unread_or_missing,
)
from raysearch.spec.space import Param, Space, iter_params, parse_parameters
from raysearch.spec.tune_space import translate_spec
from raysearch.spec.wandb import (
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
)


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
        find_trainable(raw_trainable, problems)
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
        problems += unread_or_missing(space, info, trainable.name)
    if info is not None and info.choices and not param_problems:
        problems += outside_choices(space, info.choices, trainable.name)
    if info is not None and info.ranges and not param_problems:
        problems += outside_ranges(space, info.ranges, trainable.name, "parameters")

    method = top["method"] if "method" in raw or param_problems else \
        default_method(top["scheduler"], space, notices)
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

    tracking = parse_tracking(top["tracking"] or {}, problems)
    run_cap = resolve_run_cap(top, searcher, space, problems)
    resources = parse_resources(top["resources"], problems)
    checkpoint, errs = schema.parse_block(CheckpointSpec, top["checkpoint"], "checkpoint")
    problems += errs
    known = len(problems)
    scheduler = parse_scheduler(top, problems, notices)
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
    metric = parse_metric(top["metric"], info, ranks, [] if unknown_trainable else problems)
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
        mutation_space = parse_mutations(top, scheduler, space, searcher, trainable, problems,
                                    notices)
        if info is not None and info.ranges and scheduler.options.get("hyperparam_mutations"):
            problems += outside_ranges(mutation_space, info.ranges, trainable.name,
                                        "scheduler.hyperparam_mutations")
        if mutation_space and not problems:
            checkpoint = align_checkpoints(scheduler, checkpoint, notices)

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
