"""Search methods: `method` -> a Ray Tune search algorithm and parameter space (plug-ins in
`raysearch.search.searchers`, registered in `raysearch.registry.SEARCHERS`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raysearch.registry import SEARCHERS

if TYPE_CHECKING:
    from raysearch.spec import Sweep


def build_search(sweep: Sweep) -> tuple[Any, dict]:
    """(search_alg, param_space) for `tune.Tuner`, seeded, with the spec's searcher options,
    and limited to `max_concurrent` trials at once."""
    from ray.tune.search import Searcher

    search_alg, param_space = SEARCHERS.get(sweep.method).build(
        sweep.space, sweep.metric_name, sweep.metric_mode, sweep.seed, **sweep.searcher)
    if sweep.max_concurrent and not isinstance(search_alg, Searcher):
        # Tune wraps a Searcher in a ConcurrencyLimiter for `max_concurrent_trials`, but
        # ignores it (a log warning only) for a search algorithm given as is, such as the
        # BasicVariantGenerator of grid and random: limit that one itself
        search_alg.max_concurrent = sweep.max_concurrent
    return search_alg, param_space
