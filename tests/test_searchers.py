"""What each searcher can express is checked from its registered facts, before Ray starts
(the seeded real sweeps are the searcher contract in test_contracts.py)."""

from __future__ import annotations

import pytest

from raysearch.errors import SpecError
from raysearch.registry import SEARCHERS
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


@pytest.mark.parametrize("method,dist,able", [
    ("bayes", {"distribution": "normal", "mu": 0.01, "sigma": 0.001}, "hyperopt or random"),
    ("hyperopt", {"distribution": "beta", "a": 2, "b": 2}, "random"),
    ("grid", {"distribution": "uniform", "min": 0.0, "max": 1.0}, "bayes or bohb or hyperopt"),
])
def test_unsupported_distribution_names_a_searcher_that_can(method, dist, able):
    spec = digits_spec(method=method, parameters={**MIXED, "lr": dist})
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert f"parameters.lr: method {method!r} cannot express distribution" in str(err.value)
    assert able in str(err.value)


def test_facts_not_names_decide():
    """Each searcher's facts say what it is; nothing else special-cases a method's name."""
    facts = {e.name: e.facts for e in SEARCHERS}
    assert [n for n, f in facts.items() if f.enumerates_grid] == ["grid"]
    assert sorted(n for n, f in facts.items() if not f.model_based) == ["grid", "random"]
    assert facts["random"].cannot_express == frozenset()


def test_without_method_an_early_stopping_scheduler_gets_the_measured_best():
    def resolved(**overrides) -> tuple[str, tuple]:
        spec = digits_spec(**overrides)
        spec.pop("method")
        sweep = load_spec(spec)
        return sweep.method, sweep.notices

    method, notices = resolved(scheduler={"type": "asha"})
    assert method == "bayes" and any("method: none given; using bayes" in n for n in notices)
    # a space bayes cannot express: the next that can
    normal = {**MIXED, "lr": {"distribution": "normal", "mu": 0.01, "sigma": 0.001}}
    assert resolved(parameters=normal, scheduler={"type": "asha"})[0] == "hyperopt"
    # no early stopping, or PBT (which refuses a search algorithm): random, as before
    assert resolved()[0] == "random"
    assert resolved(scheduler={"type": "pbt"})[0] == "random"
    spec = digits_spec(scheduler={"type": "asha"})  # a method given is kept
    assert load_spec(spec).method == "random"
