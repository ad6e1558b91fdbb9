"""Every searcher (method) through the same checks on real digits sweeps: runs, is seeded."""

from __future__ import annotations

import pytest

import raysearch
from raysearch.errors import SpecError
from raysearch.searchers import SEARCHERS
from raysearch.spec import load_spec
from tests.conftest import digits_spec

MIXED = {  # categorical, int, log, quantized: what users write
    "lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
    "num_layers": {"distribution": "int_uniform", "min": 1, "max": 2},
    "hidden_size": {"distribution": "q_uniform", "min": 16, "max": 64, "q": 16},
    "optimizer": {"values": ["adam", "sgd"]},
    "batch_size": {"value": 64},
    "epochs": {"value": 1},
}
GRID = {"lr": {"values": [0.01, 0.05]}, "num_layers": {"values": [1, 2]},
        "hidden_size": {"value": 32}, "batch_size": {"value": 64}, "epochs": {"value": 1}}


def configs(method: str, seed: int, storage: str) -> list[dict]:
    spec = digits_spec(method=method, seed=seed, run_cap=3, max_concurrent=1,
                       parameters=GRID if method == "grid" else MIXED)
    if method == "grid":
        del spec["run_cap"]  # the grid's size
    if method in ("hyperopt",):
        spec["searcher"] = {"n_initial_points": 2}
    if method in ("bayes", "optuna"):
        spec["searcher"] = {"n_startup_trials": 2}
    result = raysearch.run(spec, storage=storage, quiet=True)
    assert result.counts["errored"] == 0
    rows = [{k.removeprefix("config."): v for k, v in r.items() if k.startswith("config.")}
            for r in result.trials.to_pylist()]
    return sorted(rows, key=lambda c: sorted(c.items()))


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("method", SEARCHERS.names())
def test_searcher_runs_and_same_seed_same_configs(method, tmp_path):
    first = configs(method, 7, str(tmp_path / "a"))
    again = configs(method, 7, str(tmp_path / "b"))
    assert first == again
    if method == "grid":
        assert len(first) == 4  # the whole cartesian product, once
    else:
        assert len(first) == 3
        for c in first:
            assert 1e-3 <= c["lr"] <= 1e-1
            assert isinstance(c["num_layers"], int) and 1 <= c["num_layers"] <= 2
            assert c["hidden_size"] in (16, 32, 48, 64) and c["optimizer"] in ("adam", "sgd")
        assert configs(method, 8, str(tmp_path / "c")) != first  # the seed matters


@pytest.mark.parametrize("method,dist,able", [
    ("bayes", {"distribution": "normal", "mu": 0.01, "sigma": 0.001}, "hyperopt or random"),
    ("hyperopt", {"distribution": "beta", "a": 2, "b": 2}, "random"),
    ("grid", {"distribution": "uniform", "min": 0.0, "max": 1.0}, "bayes or hyperopt or"),
])
def test_unsupported_distribution_names_a_searcher_that_can(method, dist, able):
    spec = digits_spec(method=method, parameters={**MIXED, "lr": dist})
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert f"parameters.lr: method {method!r} cannot express distribution" in str(err.value)
    assert able in str(err.value)
