"""Sweep files as W&B writes them are accepted here when W&B's own engine accepts them, and
rejected when it rejects them. The reference is W&B's open-source `sweeps` package
(`sweeps.next_run(config, [], validate=True)`: its JSON schema and its method checks).
Nested `parameters` are left out: W&B's cloud controller takes them, this engine does not
(raysearch does, tests/test_space.py)."""

from __future__ import annotations

import warnings

import pytest
import sweeps

import raysearch
from raysearch.spec import load_spec
from tests.conftest import ROOT

PROGRAM = str(ROOT / "tests" / "wandb_project" / "train.py")

BASE = {"method": "random", "metric": {"name": "val_loss", "goal": "minimize"},
        "parameters": {"lr": {"min": 0.001, "max": 0.1}}}


def wandb_accepts(config: dict) -> bool:
    try:
        sweeps.next_run(config, [], validate=True)
    except Exception:  # noqa: BLE001 - any refusal of W&B's engine
        return False
    return True


def raysearch_accepts(config: dict) -> tuple[bool, list[str]]:
    """Accepted, with the notices it printed; the file's `program` is the test project's
    W&B script (so no trainable's defaults fill in what the file leaves out)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            load_spec({**config, "program": PROGRAM})
        except raysearch.SpecError:
            return False, []
    return True, [str(w.message) for w in caught]


# (config, a notice raysearch must print for it, or None)
SAME_VERDICT = {
    "the docs' random sweep": (BASE, None),
    "local controller": (BASE | {"controller": {"type": "local"}},
                         "controller: W&B-only key, ignored"),
    "launch job": (BASE | {"job": "entity/project/job:latest"}, "job: W&B-only key, ignored"),
    "metric impute keys": (BASE | {"method": "bayes", "metric": {
        "name": "val_loss", "goal": "minimize", "impute": "worst",
        "impute_while_running": "false"}}, "metric.impute: W&B-only key, ignored"),
    "categorical_w_probabilities": (BASE | {"parameters": {"opt": {
        "distribution": "categorical_w_probabilities", "values": ["adam", "sgd"],
        "probabilities": [0.3, 0.7]}}}, None),
    "W&B's own scheduler block": (BASE | {"scheduler": {"engine": "wandb"}},
                                  "scheduler.engine: wandb is W&B Launch's own scheduler"),
    "hyperband early_terminate": (BASE | {"early_terminate": {"type": "hyperband",
                                                              "min_iter": 3}}, None),
    "name, description, project, entity, run_cap": (BASE | {
        "name": "s", "description": "d", "project": "p", "entity": "e", "run_cap": 5},
        "project: W&B-only key, ignored"),
    "metric as a string": (BASE | {"metric": "val_loss"}, None),
    "a misspelt key": (BASE | {"metod": "grid"}, None),
    "an unknown distribution": (BASE | {"parameters": {"lr": {"distribution": "gaussian",
                                                              "mu": 0, "sigma": 1}}}, None),
    "early_terminate other than hyperband": (BASE | {"early_terminate": {"type": "asha"}},
                                             None),
    "a goal W&B does not know": (BASE | {"metric": {"name": "l", "goal": "up"}}, None),
    "grid without a metric": ({"method": "grid", "parameters": {"x": {"values": [1, 2]}}},
                              None),
    "random without a metric": ({"method": "random", "parameters": BASE["parameters"]}, None),
    "bayes without a metric": ({k: v for k, v in BASE.items() if k != "metric"}
                               | {"method": "bayes"}, None),
    # the issue expected a notice here; W&B's engine refuses it ("Specification of
    # probabilities for categorical parameters is disallowed in grid search"), so do we
    "a grid with probabilities": (BASE | {"method": "grid", "parameters": {"opt": {
        "values": ["adam", "sgd"], "probabilities": [0.3, 0.7]}}}, None),
    "weights that are not numbers": (BASE | {"parameters": {"opt": {
        "distribution": "categorical_w_probabilities", "values": ["a", "b"],
        "probabilities": ["x", "y"]}}}, None),
}


@pytest.mark.parametrize("name", list(SAME_VERDICT))
def test_same_verdict_as_wandbs_engine(name):
    config, notice = SAME_VERDICT[name]
    accepted, notices = raysearch_accepts(config)
    assert accepted == wandb_accepts(config), (name, accepted)
    if notice is not None:
        assert sum(notice in n for n in notices) == 1, notices


def test_early_terminate_without_a_metric_is_refused_before_it_runs():
    """W&B's engine creates this sweep, then fails at its first stopping decision
    (`sweeps.stop_runs`: 'early terminate requires "metric" section'); refused up front here."""
    config = {"method": "random", "parameters": {"x": {"values": [1, 2]}},
              "early_terminate": {"type": "hyperband", "min_iter": 3}}
    with pytest.raises(ValueError, match="early terminate requires"):
        sweeps.stop_runs(config, [sweeps.SweepRun(name="a", state=sweeps.RunState.running,
                                                  config={"x": {"value": 1}},
                                                  history=[{"loss": 1.0}] * 5)])
    with pytest.raises(raysearch.SpecError, match="metric: missing; scheduler 'wandb_hyperband' "
                                                  "ranks? trials by it"):
        load_spec({**config, "program": PROGRAM})


def test_a_wandb_scheduler_for_a_custom_optimizer_says_what_to_use():
    config = BASE | {"method": "custom", "scheduler": {"engine": "optuna", "source": "o.py"}}
    with pytest.raises(raysearch.SpecError, match="scheduler.engine: 'optuna' runs a custom "
                                                  "optimizer in W&B Launch"):
        load_spec({**config, "trainable": "digits_mlp"})


def test_a_grid_enumerates_int_uniform_and_q_uniform_as_wandb_does():
    """The same combinations as W&B's grid (`sweeps.next_runs`), in any order."""
    config = BASE | {"method": "grid", "parameters": {
        "n": {"distribution": "int_uniform", "min": 1, "max": 3},
        "q": {"distribution": "q_uniform", "min": 0.1, "max": 0.5, "q": 0.1},
        "opt": {"values": ["adam", "sgd"]}}}
    theirs = sweeps.next_runs(config, [], validate=True, n=100)
    theirs = sorted((r.config["n"]["value"], r.config["q"]["value"], r.config["opt"]["value"])
                    for r in theirs if r is not None)
    sweep = load_spec({**config, "program": PROGRAM})
    space = {name: p.grid_values() for name, p in sweep.space.items()}
    ours = sorted((n, q, o) for n in space["n"] for q in space["q"] for o in space["opt"])
    assert ours == theirs and sweep.run_cap == len(theirs) == 3 * 4 * 2
