"""Ray Tune's search-space objects in a Python spec (`tune.uniform`, `tune.choice`, ...): read as
the W&B-grammar definitions raysearch runs, drawing what Ray's own objects draw, recorded in
spec.yaml as that grammar; what cannot be searched is one line before Ray starts."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from ray import tune
from scipy import stats

import raysearch
from raysearch.errors import RaysearchNotice, SpecError
from raysearch.spec import load_spec
from raysearch.spec.space import draw
from tests.conftest import digits_spec

N = 4000


def train(config: dict) -> None:
    """A training function that reads anything (the shipped ones refuse unknown names)."""
    tune.report({"loss": 0.0})


def translated(domain) -> object:
    """The Param raysearch makes of one Ray Tune object."""
    return load_spec({"trainable": train, "parameters": {"x": domain},
                      "method": "random"}).space["x"]


def ray_draws(domain) -> np.ndarray:
    return np.asarray(domain.sample(size=N, random_state=np.random.default_rng(0)))


def our_draws(domain) -> np.ndarray:
    return np.asarray(draw(translated(domain), np.random.default_rng(1), N))


@pytest.mark.parametrize("domain", [tune.uniform(-2, 3), tune.loguniform(1e-4, 1e-1),
                                    tune.randn(1.0, 2.0)], ids=["uniform", "loguniform", "randn"])
def test_continuous_ones_draw_what_ray_draws(domain):
    ours, rays = our_draws(domain), ray_draws(domain)
    assert stats.ks_2samp(ours, rays).pvalue > 1e-3
    assert ours.dtype.kind == rays.dtype.kind == "f"


@pytest.mark.parametrize("domain", [tune.randint(1, 5), tune.qrandint(0, 12, 3),
                                    tune.choice(["adam", "sgd", 3]), tune.lograndint(1, 20),
                                    tune.quniform(0, 1, 0.25)],
                         ids=["randint", "qrandint", "choice", "lograndint", "quniform"])
def test_discrete_ones_take_the_values_ray_takes(domain):
    """The same values (randint's upper bound excluded, qrandint's included, as Ray documents
    them), integers staying integers."""
    ours, rays = our_draws(domain), ray_draws(domain)
    assert set(ours.tolist()) == set(rays.tolist())
    assert {type(v) for v in ours.tolist()} == {type(v) for v in rays.tolist()}


def test_uniform_integers_and_choices_are_as_likely_as_in_ray():
    for domain in (tune.randint(1, 5), tune.choice(["adam", "sgd", "rmsprop"])):
        ours, rays = our_draws(domain), ray_draws(domain)
        for value in set(rays.tolist()):
            assert abs(np.mean(ours == value) - np.mean(rays == value)) < 0.04


def test_a_ray_tune_param_space_runs_and_spec_yaml_records_the_grammar(tmp_path, ray_session):
    """A param_space as Ray Tune users write it (objects, constants, a nested block,
    grid_search) runs; spec.yaml holds W&B-grammar definitions that load back the same."""
    spec = digits_spec(run_cap=2)
    spec["parameters"] = {"lr": tune.loguniform(1e-3, 1e-1), "hidden_size": tune.choice([16, 32]),
                          "batch_size": 64, "epochs": 2, "num_layers": tune.grid_search([1])}
    result = raysearch.run(spec, storage=str(tmp_path), quiet=True)
    saved = yaml.safe_load((tmp_path / result.path.split("/")[-1] / "spec.yaml").read_text())
    assert saved["parameters"] == {
        "lr": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e-1},
        "hidden_size": {"values": [16, 32]}, "batch_size": {"value": 64},
        "epochs": {"value": 2}, "num_layers": {"values": [1]}}
    for row in result.trials.to_pylist():
        assert 1e-3 <= row["config.lr"] <= 1e-1 and row["config.hidden_size"] in (16, 32)
        assert row["config.batch_size"] == 64


def test_nested_blocks_and_pbt_mutations_take_ray_objects_too():
    with pytest.warns(RaysearchNotice, match="train must save checkpoints"):
        sweep = load_spec({"trainable": train, "method": "random", "parameters": {
            "lr": tune.loguniform(1e-3, 1e-1),
            "extra": {"depth": tune.randint(1, 3), "name": "x"}},
            "metric": {"name": "loss", "goal": "minimize"},
            "scheduler": {"type": "pbt", "perturbation_interval": 1,
                          "hyperparam_mutations": {"lr": tune.loguniform(1e-4, 1e-1)}}})
    assert sweep.space["extra"]["depth"].grid_values() == (1, 2)
    assert sweep.space["extra"]["name"].value == "x"
    assert sweep.mutation_space["lr"].bounds() == (1e-4, 1e-1)
    yaml.safe_dump(sweep.resolved)  # plain data: spec.yaml can hold it


def test_sample_from_and_plain_values_are_one_line_each():
    with pytest.raises(SpecError) as caught:
        load_spec({"trainable": "digits_mlp", "method": "random", "parameters": {
            **digits_spec()["parameters"], "lr": tune.sample_from(lambda c: 0.01)}})
    (line,) = str(caught.value).splitlines()
    assert line.startswith("parameters.lr: tune.sample_from (a function of the config) cannot "
                           "be searched")
    with pytest.raises(SpecError) as caught:
        load_spec({"trainable": "digits_mlp", "method": "random", "parameters": {
            **digits_spec()["parameters"], "lr": [0.1, 0.01], "epochs": 2}})
    assert str(caught.value).splitlines() == [
        "parameters.lr: expected a mapping such as {values: [...]} or {distribution: uniform, "
        "min: 0, max: 1}, got [0.1, 0.01]; for a choice among them write {values: [0.1, 0.01]}",
        "parameters.epochs: expected a mapping such as {values: [...]} or {distribution: "
        "uniform, min: 0, max: 1}, got 2; for a fixed value write {value: 2}"]


def test_the_sklearn_drop_in_takes_ray_tune_distributions_as_tune_sklearn_did():
    """`param_distributions` with Ray Tune's objects (tune-sklearn's TuneSearchCV took them)
    become the search's W&B-grammar space, for `random` (raysearch's sampler, not
    scikit-learn's, which needs scipy's `rvs`) and the model-based methods alike."""
    from raysearch.sklearn.space import random_plan

    for method in ("random", "hyperopt"):
        plan = random_plan({"C": tune.loguniform(1e-2, 10.0), "penalty": ["l2"],
                            "max_iter": tune.randint(100, 300)}, 5, 0, method)
        assert plan.candidates is None and plan.method == method and plan.run_cap == 5
        assert plan.parameters == {
            "C": {"distribution": "log_uniform_values", "min": 1e-2, "max": 10.0},
            "penalty": {"values": ["l2"]},
            "max_iter": {"distribution": "int_uniform", "min": 100, "max": 299}}
    with pytest.raises(ValueError, match=r"param_distributions\['C'\]: tune.sample_from"):
        random_plan({"C": tune.sample_from(lambda c: 1.0)}, 5, 0, "random")
