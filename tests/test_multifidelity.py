"""`method: bohb` (raysearch.search.multifidelity.BudgetTPE): every result counts at its own
budget, the model is fitted on the largest budget with enough of them, and it proposes better
configs than random draws do. Driven directly, as Tune drives a Searcher (no Ray needed)."""

from __future__ import annotations

import math
import statistics

from raysearch.search.multifidelity import BudgetTPE
from raysearch.spec.space import parse_parameters

SPACE = {"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0},
         "width": {"values": [16, 32, 64]}, "epochs": {"value": 9}}


def searcher(**kwargs) -> BudgetTPE:
    space, problems = parse_parameters(SPACE)
    assert not problems
    return BudgetTPE(space, "score", "max", seed=kwargs.pop("seed", 0), **kwargs)


def score(config: dict) -> float:
    """Best at lr = 1e-2, whatever the width."""
    return -abs(math.log10(config["lr"]) + 2)


def test_the_model_follows_the_largest_budget_with_enough_results():
    s = searcher(min_points=3)
    assert s.min_points == 3
    configs = {f"t{i}": s.suggest(f"t{i}") for i in range(5)}
    assert all(set(c) == {"lr", "width", "epochs"} and c["epochs"] == 9
               for c in configs.values())
    assert s.model_budget() is None
    for i, (tid, config) in enumerate(configs.items()):
        s.on_trial_result(tid, {"score": score(config), "training_iteration": 1})
        assert s.model_budget() == (1 if i >= 2 else None)
    # three survivors reach iteration 3 (the others were stopped at 1: their results still count)
    for tid in ("t0", "t1"):
        s.on_trial_result(tid, {"score": score(configs[tid]), "training_iteration": 3})
    assert s.model_budget() == 1
    s.on_trial_complete("t2", {"score": score(configs["t2"]), "training_iteration": 3})
    assert s.model_budget() == 3
    s.on_trial_complete("t3", None, error=True)  # an errored trial adds nothing
    assert len(s._at[3]) == 3


def _distance_after(random_fraction: float, seed: int) -> float:
    """Median distance (in decades) of 15 proposals from the best lr, after 15 results."""
    s = searcher(seed=seed, min_points=4, random_fraction=random_fraction)
    for i in range(15):
        config = s.suggest(f"a{i}")
        s.on_trial_result(f"a{i}", {"score": score(config), "training_iteration": 1})
    return statistics.median(-score(s.suggest(f"b{i}")) for i in range(15))


def test_the_model_proposes_better_configs_than_random_draws():
    seeds = range(8)  # fixed: the same proposals every run; the margin is what TPE buys
    modelled = statistics.mean(_distance_after(0.0, seed) for seed in seeds)
    drawn = statistics.mean(_distance_after(1.0, seed) for seed in seeds)
    assert modelled < 0.6 * drawn, (modelled, drawn)


def test_the_same_seed_proposes_the_same_configs_and_state_survives_a_restore(tmp_path):
    first, second = searcher(seed=3, min_points=2), searcher(seed=3, min_points=2)
    for s in (first, second):
        for i in range(4):
            config = s.suggest(f"t{i}")
            s.on_trial_result(f"t{i}", {"score": score(config), "training_iteration": 1})
    assert first.suggest("next") == second.suggest("next")
    first.save(str(tmp_path / "state.pkl"))
    restored = searcher(seed=99)
    restored.restore(str(tmp_path / "state.pkl"))
    assert restored.model_budget() == 1 and restored.suggest("x") == first.suggest("x")
