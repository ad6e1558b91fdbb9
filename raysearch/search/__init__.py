"""Search methods: `method` -> a Ray Tune search algorithm and parameter space (plug-ins in
`raysearch.search.searchers`, registered in `raysearch.registry.SEARCHERS`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raysearch.registry import SEARCHERS

if TYPE_CHECKING:
    from raysearch.spec import Sweep


def build_search(sweep: Sweep) -> tuple[Any, dict]:
    """(search_alg, param_space) for `tune.Tuner`, seeded, with the spec's searcher options."""
    return SEARCHERS.get(sweep.method).build(sweep.space, sweep.metric_name, sweep.metric_mode,
                                             sweep.seed, **sweep.searcher)
