"""Search methods: `method` -> a Ray Tune search algorithm and parameter space (plug-ins in
`raysearch.search.searchers`, registered in `raysearch.registry.SEARCHERS`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raysearch.registry import SEARCHERS

if TYPE_CHECKING:
    from raysearch.spec import Sweep


def build_search(sweep: Sweep) -> tuple[Any, dict]:
    """(search_alg, param_space) for `tune.Tuner`, seeded, with the spec's searcher options
    (an option `trial_length` not given: the iterations a trial runs unless stopped, from the
    spec), and limited to `max_concurrent` trials at once."""
    from ray.tune.search import Searcher

    entry = SEARCHERS.get(sweep.method)
    options = dict(sweep.searcher)
    if "trial_length" in entry.options() and options.get("trial_length") is None:
        # a searcher that tells a stopped trial from a finished one learns where they end
        options["trial_length"] = sweep.iteration_budget()
    search_alg, param_space = entry.build(
        sweep.space, sweep.metric_name, sweep.metric_mode, sweep.seed, **options)
    if sweep.max_concurrent and not isinstance(search_alg, Searcher):
        # Tune wraps a Searcher in a ConcurrencyLimiter for `max_concurrent_trials`, but
        # ignores it (a log warning only) for a search algorithm given as is, such as the
        # BasicVariantGenerator of grid and random: limit that one itself
        search_alg.max_concurrent = sweep.max_concurrent
    return search_alg, param_space
