"""`scheduler.type` -> Ray Tune trial scheduler: a plug-in package on raysearch's published layer
(`raysearch.registry`, `raysearch.types`).

Every factory takes a `SchedulerContext` (what a scheduler may know of the sweep), then its
options as keyword-only arguments: the signature is the option schema, so a misspelled option is
an error, not silently dropped. Each registration carries its facts (needs checkpoints, exploits).
Ranges ride on the annotations (`Annotated[int, ATLEAST_1]`) and rules across options on the
`check_options` fact, both checked with the spec, before Ray starts. Metric and mode reach the
scheduler through `TuneConfig`. Time is counted in training iterations (one per `tune.report`,
i.e. per epoch for the shipped trainables).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from raysearch.registry import SCHEDULERS
from raysearch.types import SchedulerContext

TIME_ATTR = "training_iteration"

__all__ = ["SCHEDULERS", "TIME_ATTR"]

ATLEAST_1 = {"min": 1}          # iterations, counts
ABOVE_1 = {"gt": 1}             # reduction factors
FRACTION = {"min": 0, "max": 1}
QUANTILE = {"min": 0, "max": 0.5}  # Tune's PBT refuses more: the top and bottom would overlap


@SCHEDULERS.register("fifo", compares_trials=False)
def fifo(ctx: SchedulerContext) -> Any:
    """Run every trial to the end (no early stopping)."""
    from ray.tune.schedulers import FIFOScheduler

    return FIFOScheduler()


def _grace_within_max_t(options: Mapping[str, Any], default_max_t: int) -> list[str]:
    max_t, grace = options["max_t"] or default_max_t, options["grace_period"]
    if grace > max_t:
        where = "" if options["max_t"] else " (the constant `epochs`, else 100)"
        return [f"scheduler.grace_period: {grace} is past max_t {max_t}{where}: no trial would "
                f"be judged; lower grace_period or raise max_t"]
    return []


@SCHEDULERS.register("asha", check_options=_grace_within_max_t)
def asha(ctx: SchedulerContext, *, max_t: Annotated[int | None, ATLEAST_1] = None,
         grace_period: Annotated[int, ATLEAST_1] = 1,
         reduction_factor: Annotated[float, ABOVE_1] = 3,
         brackets: Annotated[int, ATLEAST_1] = 1) -> Any:
    """Asynchronous successive halving: stop the worst trials at each rung. `max_t` defaults to
    the sweep's `epochs` parameter when it is a constant, else 100."""
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(time_attr=TIME_ATTR, max_t=max_t or ctx.max_t,
                         grace_period=grace_period, reduction_factor=reduction_factor,
                         brackets=brackets)


@SCHEDULERS.register("hyperband", needs_checkpoints=True)
def hyperband(ctx: SchedulerContext, *, max_t: Annotated[int | None, ATLEAST_1] = None,
              reduction_factor: Annotated[float, ABOVE_1] = 3,
              stop_last_trials: bool = True) -> Any:
    """Synchronous HyperBand (pauses trials at bracket boundaries; needs checkpoints)."""
    from ray.tune.schedulers import HyperBandScheduler

    return HyperBandScheduler(time_attr=TIME_ATTR, max_t=max_t or ctx.max_t,
                              reduction_factor=reduction_factor,
                              stop_last_trials=stop_last_trials)


@SCHEDULERS.register("median", needs_checkpoints=True)
def median(ctx: SchedulerContext, *, grace_period: Annotated[int, {"min": 0}] = 1,
           min_samples_required: Annotated[int, ATLEAST_1] = 3,
           hard_stop: bool = True) -> Any:
    """Median stopping rule: stop a trial whose best result is below the median of the others'
    running averages at the same point."""
    from ray.tune.schedulers import MedianStoppingRule

    return MedianStoppingRule(time_attr=TIME_ATTR, grace_period=grace_period,
                              min_samples_required=min_samples_required, hard_stop=hard_stop)


@SCHEDULERS.register("pbt", needs_checkpoints=True, exploits=True)
def pbt(ctx: SchedulerContext, *,
        perturbation_interval: Annotated[int | None, ATLEAST_1] = None,
        hyperparam_mutations: dict | None = None,
        quantile_fraction: Annotated[float, QUANTILE] = 0.25,
        resample_probability: Annotated[float, FRACTION] = 0.25,
        perturbation_factors: list | None = None,
        max_t: Annotated[int | None, ATLEAST_1] = None) -> Any:
    """Population Based Training: every `perturbation_interval` iterations the bottom quantile
    copies a top trial's checkpoint and continues with a mutated config. `hyperparam_mutations` is
    written in the `parameters` grammar and defaults to every searched (non-constant) parameter;
    the spec resolves it into `ctx.mutations`. `max_t` (default: none) stops a trial at that many
    iterations, recorded as completed: for a trainable that decides its own end."""
    from raysearch.search.domains import domain_for
    from raysearch.spec.space import map_space
    from schedulers.population import PBTToTheEnd

    return PBTToTheEnd(
        time_attr=TIME_ATTR, last_iteration=ctx.trial_length, max_t=max_t,
        perturbation_interval=perturbation_interval or ctx.checkpoint_every,
        hyperparam_mutations=map_space(ctx.mutations, domain_for),
        quantile_fraction=quantile_fraction,
        resample_probability=resample_probability,
        perturbation_factors=tuple(perturbation_factors or (1.2, 0.8)),
    )


@SCHEDULERS.register("pb2", needs_checkpoints=True, exploits=True, mutates_numbers_only=True,
                     needs_package=("GPy", "pip install 'raysearch[pb2]'"))
def pb2(ctx: SchedulerContext, *,
        perturbation_interval: Annotated[int | None, ATLEAST_1] = None,
        hyperparam_mutations: dict | None = None,
        quantile_fraction: Annotated[float, QUANTILE] = 0.25,
        max_t: Annotated[int | None, ATLEAST_1] = None) -> Any:
    """PB2 (Parker-Holder et al., 2020): Population Based Training whose explore step is a
    Gaussian-process bandit over the numeric parameters' ranges, fitted on the population's
    recent improvements, instead of PBT's random perturbations. Ranges come from
    `hyperparam_mutations` (the `parameters` grammar; default: every searched numeric
    parameter); categoricals keep the value the initial population drew; `max_t` as PBT's.
    Needs GPy."""
    from raysearch.spec.space import map_space
    from schedulers.population import PB2ToTheEnd

    return PB2ToTheEnd(time_attr=TIME_ATTR, last_iteration=ctx.trial_length, max_t=max_t,
                       perturbation_interval=perturbation_interval or ctx.checkpoint_every,
                       hyperparam_bounds=map_space(ctx.mutations, lambda p: list(p.bounds())),
                       quantile_fraction=quantile_fraction)


@SCHEDULERS.register("wandb_hyperband")
def wandb_hyperband(ctx: SchedulerContext, *, min_iter: Annotated[int | None, ATLEAST_1] = None,
                    max_iter: Annotated[int | None, ATLEAST_1] = None,
                    s: Annotated[int | None, ATLEAST_1] = None,
                    eta: Annotated[float, ABOVE_1] = 3, strict: bool = True) -> Any:
    """W&B's Hyperband early-termination rule, as a W&B sweep's `early_terminate:
    {type: hyperband}` asks for (`schedulers.wandb_hyperband`): `min_iter` (bands min_iter *
    eta**k, no cap), or `max_iter` with `s`; `strict` (W&B's default) judges the value at the
    band, `strict: false` the best so far."""
    from schedulers.wandb_hyperband import bands, build

    return build(bands(min_iter, max_iter, s, eta), eta, strict)
