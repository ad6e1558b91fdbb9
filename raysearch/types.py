"""The value types every layer shares: spec blocks, facts about extensions, the narrow context a
scheduler is built from. A leaf module: it imports nothing of the project.

Spec blocks are frozen dataclasses whose fields are the schema: `raysearch.schema` checks a
user's mapping against them (unknown keys, types, ranges in `metadata`), and `to_dict()` writes
them back as the resolved spec.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

GOALS = {"maximize": "max", "minimize": "min"}


def is_finite_number(value: Any) -> bool:
    """A metric value a chart, a tracker or a model can use: a finite int or float, not a
    bool (a bool is an int to Python, not a measurement)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(value)


class Block:
    """A spec block: `to_dict()` is what `spec.yaml` records for it."""

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)  # type: ignore[arg-type]
                if not (f.metadata.get("omit_none") and getattr(self, f.name) is None)}


@dataclass(frozen=True)
class Metric(Block):
    """The objective: the reported metric to optimise, its direction, an optional target."""

    name: str = field(metadata={"nonempty": True})
    goal: str = field(default="minimize", metadata={"choices": tuple(GOALS)})  # W&B's default
    target: float | None = field(default=None, metadata={"omit_none": True})

    @property
    def mode(self) -> str:
        """Ray Tune's spelling of the goal."""
        return GOALS[self.goal]

    def better(self, a: float, b: float) -> bool:
        return a > b if self.goal == "maximize" else a < b


@dataclass(frozen=True)
class Resources(Block):
    """What one trial asks Ray for; fractional GPUs pack several trials on one device."""

    cpu: float = field(default=1, metadata={"min": 0})
    gpu: float = field(default=0, metadata={"min": 0})


@dataclass(frozen=True)
class CheckpointSpec(Block):
    """How often (in training iterations) trials checkpoint, and how many of their best (by
    the metric; never fewer than 2) each keeps besides its latest."""

    every: int = field(default=1, metadata={"min": 1})
    keep: int = field(default=2, metadata={"min": 1})


@dataclass(frozen=True)
class SchedulerSpec(Block):
    type: str = "fifo"
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"type": self.type, **self.options}


@dataclass(frozen=True)
class SchedulerContext:
    """What a scheduler factory may know about the sweep (not the whole Sweep)."""

    metric: Metric
    max_t: int  # iterations a trial may run: the constant `epochs` parameter, else 100
    checkpoint_every: int
    mutations: Mapping = field(default_factory=dict)  # PBT: the parameter tree it may mutate
    seed: int | None = None
    trial_length: int | None = None  # the iteration a trial ends at, when the spec says (a
    # constant `epochs`); None when the trial decides (`max_t`'s 100 is then only a default)


# ------------------------------------------------------------------ facts about extensions


@dataclass(frozen=True)
class SearcherFacts:
    """What a search method can and cannot do; the spec checks these, nothing checks names."""

    cannot_express: frozenset[str] = frozenset()  # W&B distributions it has no encoding for
    weights_categoricals: bool = True  # honours `probabilities` on categoricals
    enumerates_grid: bool = False  # runs each combination once: the grid's size is the run_cap
    model_based: bool = True  # proposes from results (PBT refuses such a search algorithm)
    front_end: str | None = None  # runs only through this way in (a live object, not a spec)
    metric_at_end: bool = False  # trials report the metric once, at their end (an objective's
    # return value); their intermediate results carry other keys


@dataclass(frozen=True)
class SchedulerFacts:
    needs_checkpoints: bool = False  # pauses trials or copies their state
    compares_trials: bool = True  # decides by the metric (all but fifo): the spec needs one
    exploits: bool = False  # copies one trial's checkpoint into another (PBT): keeps them all
    mutates_numbers_only: bool = False  # explores numeric ranges (PB2): categoricals stay fixed
    needs_package: tuple[str, str] | None = None  # (import name, what to install) if optional
    # rules across options, checked with the spec: (every option, given or its default; the
    # sweep's default max_t: the constant `epochs`, else 100) -> problems, each naming its field
    check_options: Callable[[Mapping[str, Any], int], list[str]] | None = None


@dataclass(frozen=True)
class TrackerFacts:
    description: str = ""


@dataclass(frozen=True)
class ProgramSpec:
    """A W&B sweep's training script as each trial runs it."""

    path: str  # absolute
    command: tuple[str, ...]  # W&B's command, macros unexpanded
    metric: str | None  # the sweep's metric: a result each time the script logs it (None:
    # each time it logs anything)
    sweep_id: str = "raysearch"


@dataclass(frozen=True)
class TrainableInfo:
    """What raysearch knows about a training function besides the function itself."""

    metric: Metric | None = None  # the default objective
    metrics: tuple[str, ...] = ()  # what it reports every iteration
    default_parameters: Mapping | None = None  # W&B grammar, used when a spec gives none
    description: str = ""
    load_data: Callable[[], Any] | str | None = None  # run once on the driver -> object store
    # (config, checkpoint_dir, data) -> metrics on a held-out test set: run once, for the best
    # trial's checkpoint after the sweep (never used to choose between trials)
    evaluate: Callable[..., dict] | str | None = None
    mutable: tuple[str, ...] | None = None  # what PBT may change mid-training (None: anything)
    # parameters that take one of a fixed set of values (optimizer: adam or sgd): a spec that
    # gives another fails validation, naming the choices, before Ray starts
    choices: Mapping[str, tuple] | None = None
    # parameter -> the range its values must keep ({"gt": 0}; rules min, gt, max): a constant,
    # a value listed or a distribution's bounds outside it fails validation, before Ray starts
    ranges: Mapping[str, Mapping] | None = None
    # parameters it reads without a default of its own: a spec's `parameters` without one of
    # them fails validation, naming the default space's entry (every trial would fail)
    needs: tuple[str, ...] = ()
    # every parameter it reads, `needs` included (None: not known, nothing checked): a spec
    # parameter outside it fails validation, with the closest name (every trial would ignore it)
    reads: tuple[str, ...] | None = None
