"""The W&B grammar, statistically: thousands of draws per distribution through the Ray domain
that random search and PBT use, plus the Hyperopt and Optuna translations' ranges and types."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from raysearch.search.domains import domain_for
from raysearch.spec.space import DISTRIBUTIONS, parse_param, parse_parameters

N = 4000


def draws(definition: dict, n: int = N, seed: int = 0) -> np.ndarray:
    param, problems = parse_param("parameters.x", definition)
    assert not problems, problems
    return np.asarray(domain_for(param).sample(size=n, random_state=np.random.default_rng(seed)))


def uniform_p(values: np.ndarray, lo: float, hi: float) -> float:
    """Kolmogorov-Smirnov p-value against U(lo, hi)."""
    return stats.kstest(values, "uniform", args=(lo, hi - lo)).pvalue


def test_every_distribution_is_covered_here():
    covered = {"constant", "categorical", "int_uniform", "uniform", "q_uniform", "log_uniform",
               "log_uniform_values", "q_log_uniform", "q_log_uniform_values", "inv_log_uniform",
               "inv_log_uniform_values", "normal", "q_normal", "log_normal", "q_log_normal",
               "beta", "q_beta"}
    assert covered == set(DISTRIBUTIONS)


def test_constant():
    param, _ = parse_param("p.x", {"value": "adam"})
    assert param.distribution == "constant" and domain_for(param) == "adam"


def test_categorical_probabilities_are_honoured():
    x = draws({"values": ["a", "b", "c"], "probabilities": [0.6, 0.3, 0.1]})
    counts = [np.sum(x == v) for v in "abc"]
    assert stats.chisquare(counts, [0.6 * N, 0.3 * N, 0.1 * N]).pvalue > 1e-3


def test_categorical_uniform_without_probabilities_keeps_types():
    param, _ = parse_param("parameters.x", {"values": [1, "two", 3.0]})
    x = domain_for(param).sample(size=3000, random_state=np.random.default_rng(0))
    assert {type(v) for v in x} == {int, str, float}
    counts = [sum(1 for v in x if v == c and type(v) is type(c)) for c in (1, "two", 3.0)]
    assert stats.chisquare(counts).pvalue > 1e-3


def test_int_uniform_is_inclusive_and_flat():
    x = draws({"min": 2, "max": 6})  # inferred int_uniform
    assert x.dtype.kind == "i" and set(x.tolist()) == {2, 3, 4, 5, 6}
    assert stats.chisquare(np.bincount(x)[2:]).pvalue > 1e-3


def test_uniform():
    x = draws({"min": -1.5, "max": 2.5})  # inferred uniform (float bounds)
    assert x.min() >= -1.5 and x.max() <= 2.5 and uniform_p(x, -1.5, 2.5) > 1e-3


def test_q_uniform_lands_on_the_grid():
    x = draws({"distribution": "q_uniform", "min": 0, "max": 10, "q": 2.5})
    assert np.allclose(x / 2.5, np.round(x / 2.5)) and set(x.tolist()) <= {0, 2.5, 5, 7.5, 10}
    ints = draws({"distribution": "q_uniform", "min": 0, "max": 100, "q": 10})
    assert ints.dtype.kind == "i" and set(ints.tolist()) <= set(range(0, 101, 10))


@pytest.mark.parametrize("definition,lo,hi", [
    ({"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1}, 1e-4, 1e-1),
    ({"distribution": "log_uniform", "min": -9.2, "max": -2.3}, math.exp(-9.2), math.exp(-2.3)),
    ({"distribution": "inv_log_uniform_values", "min": 1e-3, "max": 1.0}, 1e-3, 1.0),
])
def test_log_distributions_are_uniform_in_log_space(definition, lo, hi):
    x = draws(definition)
    assert x.min() >= lo * (1 - 1e-9) and x.max() <= hi * (1 + 1e-9)
    assert uniform_p(np.log(x), math.log(lo), math.log(hi)) > 1e-3


def test_inv_log_uniform_takes_exponents_of_one_over_x():
    x = draws({"distribution": "inv_log_uniform", "min": 1, "max": 4})
    assert uniform_p(np.log(1 / x), 1, 4) > 1e-3


def test_q_log_uniform_values_gives_grid_integers_in_bounds():
    x = draws({"distribution": "q_log_uniform_values", "min": 32, "max": 512, "q": 32})
    assert x.dtype.kind == "i" and np.all(x % 32 == 0) and x.min() >= 32 and x.max() <= 512
    # log-uniform before rounding: small sizes are far more common than on a linear scale
    assert np.mean(x <= 128) > 0.4


def test_q_log_uniform_with_exponent_bounds():
    x = draws({"distribution": "q_log_uniform", "min": math.log(32), "max": math.log(256),
               "q": 1})
    assert x.dtype.kind == "i" and x.min() >= 32 and x.max() <= 256


@pytest.mark.parametrize("q", [None, 0.5])
def test_normal_moments(q):
    definition = {"distribution": "q_normal" if q else "normal", "mu": 3.0, "sigma": 2.0}
    if q:
        definition["q"] = q
    x = draws(definition, n=8000)
    assert abs(x.mean() - 3.0) < 0.1 and abs(x.std() - 2.0) < 0.1
    if q:
        assert np.allclose(x / q, np.round(x / q))


def test_log_normal_has_normal_logs():
    x = draws({"distribution": "log_normal", "mu": -1.0, "sigma": 0.5}, n=8000)
    assert x.min() > 0
    assert abs(np.log(x).mean() + 1.0) < 0.03 and abs(np.log(x).std() - 0.5) < 0.03
    assert stats.kstest(np.log(x), "norm", args=(-1.0, 0.5)).pvalue > 1e-3


def test_q_log_normal_is_quantised_and_positive():
    x = draws({"distribution": "q_log_normal", "mu": 3.0, "sigma": 0.5, "q": 5})
    assert x.dtype.kind == "i" and np.all(x % 5 == 0) and x.min() >= 0


def test_beta_moments():
    a, b = 2.0, 5.0
    x = draws({"distribution": "beta", "a": a, "b": b}, n=8000)
    assert x.min() >= 0 and x.max() <= 1
    assert abs(x.mean() - a / (a + b)) < 0.01
    assert abs(x.var() - a * b / ((a + b) ** 2 * (a + b + 1))) < 0.003
    assert stats.kstest(x, "beta", args=(a, b)).pvalue > 1e-3


def test_q_beta_grid():
    x = draws({"distribution": "q_beta", "a": 1, "b": 1, "q": 0.25})
    assert set(np.round(x, 9).tolist()) <= {0, 0.25, 0.5, 0.75, 1.0}


def test_same_seed_same_draws():
    d = {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1}
    assert np.array_equal(draws(d, 50, seed=1), draws(d, 50, seed=1))
    assert not np.array_equal(draws(d, 50, seed=1), draws(d, 50, seed=2))


def test_nested_parameters_become_nested_dicts():
    space, problems = parse_parameters({
        "optimizer": {"parameters": {"lr": {"min": 0.001, "max": 0.1},
                                     "kind": {"values": ["adam", "sgd"]}}},
        "epochs": {"value": 3}})
    assert not problems
    assert set(space) == {"optimizer", "epochs"} and set(space["optimizer"]) == {"lr", "kind"}
    assert space["optimizer"]["lr"].path == "parameters.optimizer.parameters.lr"


@pytest.mark.parametrize("definition,message", [
    ({"distribution": "q_uniform", "min": 0, "max": 1, "q": -1}, "q must be > 0"),
    ({"min": 5, "max": 1}, "min (5) must be less than max (1)"),
    ({"values": [1, 2], "probabilities": [0.5, 0.6]}, "`probabilities` must sum to 1"),
    ({"values": [1, 2], "probabilities": [1.0]}, "needs one entry per value"),
    ({"distribution": "beta", "a": 0, "b": 1}, "beta's `a` must be > 0"),
    ({"distribution": "normal", "sigma": 0}, "sigma must be > 0"),
    ({"distribution": "unifrom", "min": 0, "max": 1},
     "unknown distribution 'unifrom' (did you mean \"uniform\"?)"),
    ({"distribution": "uniform", "min": 0, "mx": 1}, "unknown key 'mx' for uniform"),
    ({"distribution": "int_uniform", "min": 0.5, "max": 3}, "needs integer min and max"),
    ({"distribution": "uniform", "min": "low", "max": 1}, "`min` must be a number"),
])
def test_wandb_invalid_definitions_name_the_parameter(definition, message):
    _, problems = parse_param("parameters.x", definition)
    assert problems and all(p.startswith("parameters.x: ") for p in problems)
    assert any(message in p for p in problems), problems


def test_yaml_style_exponent_strings_are_numbers():
    param, problems = parse_param("p.lr", {"distribution": "log_uniform_values",
                                           "min": "1e-4", "max": "1e-1"})
    assert not problems and param.min == pytest.approx(1e-4)


def test_hyperopt_translation_ranges_and_types():
    from hyperopt.pyll import stochastic

    from raysearch.search.searchers import _hyperopt_leaf

    cases = {
        "q_log_uniform_values": ({"distribution": "q_log_uniform_values", "min": 32, "max": 512,
                                  "q": 32}, lambda v: isinstance(v, int) and v % 32 == 0
                                 and 32 <= v <= 512),
        "inv_log_uniform": ({"distribution": "inv_log_uniform", "min": 1, "max": 4},
                            lambda v: math.exp(-4) <= v <= math.exp(-1)),
        "int_uniform": ({"min": 1, "max": 3}, lambda v: v in (1, 2, 3)),
        "probabilities": ({"values": ["a", "b"], "probabilities": [1.0, 0.0]},
                          lambda v: v == "a"),
        "log_normal": ({"distribution": "log_normal"}, lambda v: v > 0),
    }
    rng = np.random.default_rng(0)
    for name, (definition, ok) in cases.items():
        param, _ = parse_param(f"parameters.{name}", definition)
        expr = _hyperopt_leaf(param)
        values = [stochastic.sample(expr, rng=rng) for _ in range(200)]
        assert all(ok(v) for v in values), (name, values[:5])


def test_optuna_translation_ranges_and_types():
    import optuna

    from raysearch.search.searchers import OptunaSpace

    space, _ = parse_parameters({
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "layers": {"min": 1, "max": 3},
        "width": {"distribution": "q_uniform", "min": 16, "max": 64, "q": 16},
        "opt": {"values": ["adam", "sgd"]},
        "nested": {"parameters": {"momentum": {"min": 0.5, "max": 0.9}}},
        "epochs": {"value": 2}})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(50):
        trial = study.ask()
        constants = OptunaSpace(space)(trial)
        p = trial.params
        assert constants == {"epochs": 2}
        assert 1e-4 <= p["lr"] <= 1e-1 and p["layers"] in (1, 2, 3)
        assert p["width"] in (16, 32, 48, 64) and p["opt"] in ("adam", "sgd")
        assert 0.5 <= p["nested/momentum"] <= 0.9


@pytest.mark.parametrize("distribution, bounds", [
    ("q_uniform", {"min": 0, "max": 10}), ("q_log_uniform_values", {"min": 1, "max": 100}),
    ("q_normal", {}), ("q_beta", {})])
def test_quantised_without_q_draws_floats_as_wandb_does(distribution, bounds):
    """W&B's default q is 1.0: whole numbers, as floats; `q: 1` (an int) gives ints."""
    x = draws({"distribution": distribution, **bounds}, n=500)
    assert x.dtype.kind == "f" and np.allclose(x, np.round(x))
    y = draws({"distribution": distribution, **bounds, "q": 1}, n=500)
    assert y.dtype.kind == "i"
