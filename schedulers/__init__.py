"""`scheduler.type` -> Ray Tune trial scheduler.

Every factory takes the validated sweep first, then its options as keyword-only arguments: the
signature is the option schema (see `raysearch.registry`), so a misspelled option is an error, not
silently dropped. Metric and mode reach the scheduler through `TuneConfig`. Time is counted in
training iterations (one per `tune.report`, i.e. per epoch for the shipped trainables).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raysearch.registry import Registry

if TYPE_CHECKING:
    from raysearch.spec import Sweep

SCHEDULERS = Registry("scheduler")
TIME_ATTR = "training_iteration"
# Schedulers that pause trials or copy their state need checkpoints to do it.
NEEDS_CHECKPOINTS = {"hyperband", "median", "pbt"}

__all__ = ["SCHEDULERS", "NEEDS_CHECKPOINTS", "TIME_ATTR", "build_scheduler"]


def build_scheduler(sweep: Sweep) -> Any:
    return SCHEDULERS.build(sweep.scheduler.type, sweep, **sweep.scheduler.options)


@SCHEDULERS.register("fifo")
def fifo(sweep: Sweep) -> Any:
    """Run every trial to the end (no early stopping)."""
    from ray.tune.schedulers import FIFOScheduler

    return FIFOScheduler()


@SCHEDULERS.register("asha")
def asha(sweep: Sweep, *, max_t: int | None = None, grace_period: int = 1,
         reduction_factor: float = 3, brackets: int = 1) -> Any:
    """Asynchronous successive halving: stop the worst trials at each rung. `max_t` defaults to
    the sweep's `epochs` parameter when it is a constant, else 100."""
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(time_attr=TIME_ATTR, max_t=max_t or sweep.default_max_t(),
                         grace_period=grace_period, reduction_factor=reduction_factor,
                         brackets=brackets)


@SCHEDULERS.register("hyperband")
def hyperband(sweep: Sweep, *, max_t: int | None = None, reduction_factor: float = 3,
              stop_last_trials: bool = True) -> Any:
    """Synchronous HyperBand (pauses trials at bracket boundaries; needs checkpoints)."""
    from ray.tune.schedulers import HyperBandScheduler

    return HyperBandScheduler(time_attr=TIME_ATTR, max_t=max_t or sweep.default_max_t(),
                              reduction_factor=reduction_factor,
                              stop_last_trials=stop_last_trials)


@SCHEDULERS.register("median")
def median(sweep: Sweep, *, grace_period: int = 1, min_samples_required: int = 3,
           hard_stop: bool = True) -> Any:
    """Median stopping rule: stop a trial whose best result is below the median of the others'
    running averages at the same point."""
    from ray.tune.schedulers import MedianStoppingRule

    return MedianStoppingRule(time_attr=TIME_ATTR, grace_period=grace_period,
                              min_samples_required=min_samples_required, hard_stop=hard_stop)


@SCHEDULERS.register("pbt")
def pbt(sweep: Sweep, *, perturbation_interval: int | None = None,
        hyperparam_mutations: dict | None = None, quantile_fraction: float = 0.25,
        resample_probability: float = 0.25, perturbation_factors: list | None = None) -> Any:
    """Population Based Training: every `perturbation_interval` iterations the bottom quantile
    copies a top trial's checkpoint and continues with a mutated config. `hyperparam_mutations` is
    written in the `parameters` grammar and defaults to every searched (non-constant) parameter."""
    from ray.tune.schedulers import PopulationBasedTraining

    from raysearch.space import map_space
    from raysearch.tune_domains import domain_for

    mutations = map_space(sweep.mutation_space, domain_for)
    return PopulationBasedTraining(
        time_attr=TIME_ATTR,
        perturbation_interval=perturbation_interval or sweep.checkpoint.every,
        hyperparam_mutations=mutations,
        quantile_fraction=quantile_fraction,
        resample_probability=resample_probability,
        perturbation_factors=tuple(perturbation_factors or (1.2, 0.8)),
    )
