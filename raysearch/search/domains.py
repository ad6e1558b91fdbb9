"""Ray Tune domains whose sampling is W&B's (`raysearch.space.draw`), so random search, PBT
mutations and the statistical tests all share one sampler."""

from __future__ import annotations

from typing import Any

from ray.tune.search.sample import Categorical, Domain, Float, Integer, Sampler

from raysearch.spec.space import Param, draw


class ParamSampler(Sampler):
    """Draws from a W&B parameter with Ray's seeded random state."""

    def __init__(self, param: Param):
        self.param = param

    def sample(self, domain: Domain, config: Any = None, size: int = 1,
               random_state: Any = None) -> Any:
        from ray.tune.search.sample import _BackwardsCompatibleNumpyRng

        if not isinstance(random_state, _BackwardsCompatibleNumpyRng):
            random_state = _BackwardsCompatibleNumpyRng(random_state)
        values = draw(self.param, random_state, size)
        return values if size > 1 else values[0]

    def __str__(self) -> str:
        return self.param.distribution


def domain_for(p: Param) -> Any:
    """A Ray domain (typed, bounded where W&B bounds it) for one parameter; constants stay plain."""
    if p.distribution == "constant":
        return p.value
    if p.distribution == "categorical":
        domain = Categorical(list(p.values))
    else:
        lo, hi = p.bounds()
        domain = Integer(lo, hi) if p.is_int else Float(lo, hi)
    domain.set_sampler(ParamSampler(p))
    return domain
