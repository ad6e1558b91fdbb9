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


@pytest.mark.parametrize("method", ["optuna"])
def test_a_trial_the_scheduler_stopped_is_pruned_for_optuna_a_finished_one_complete(method):
    """Driven as Tune drives it: the result that makes a scheduler stop a trial reaches the
    searcher only in on_trial_complete. Stopped before the spec's epochs: PRUNED with how far
    it got (TPE ranks it below finished trials), not COMPLETE with its epoch-1 value as if
    that were final; a finished trial: COMPLETE."""
    from optuna.trial import TrialState

    from raysearch.search import build_search

    sweep = load_spec(digits_spec(method=method, scheduler={"type": "asha"},
                                  parameters={**MIXED, "epochs": {"value": 3}}))
    search_alg, _ = build_search(sweep)
    assert search_alg.trial_length == 3  # from the spec's constant epochs
    for trial_id, last in (("stopped", 1), ("finished", 3), ("failed", 2)):
        assert search_alg.suggest(trial_id)["epochs"] == 3
        for step in range(1, last + 1):
            result = {"val_accuracy": step / 10, "training_iteration": step}
            if step < last:  # the last one decided the stop (ASHA stops at max_t too)
                search_alg.on_trial_result(trial_id, result)
        if trial_id == "failed":  # Tune tells an error without a result
            search_alg.on_trial_complete(trial_id, error=True)
        else:
            search_alg.on_trial_complete(trial_id, result=result)
    stopped, finished, failed = search_alg._ot_study.get_trials(deepcopy=False)
    assert stopped.state == TrialState.PRUNED and stopped.intermediate_values == {1: 0.1}
    assert finished.state == TrialState.COMPLETE and finished.value == pytest.approx(0.3)
    assert finished.intermediate_values == {1: 0.1, 2: 0.2}
    assert failed.state == TrialState.FAIL

    # no length known (the trial decides): every ended trial is COMPLETE, as in Ray's own
    open_ended = load_spec(digits_spec(method=method, parameters={
        **MIXED, "epochs": {"values": [1, 2]}}))
    search_alg, _ = build_search(open_ended)
    assert search_alg.trial_length is None
    search_alg.suggest("t")
    search_alg.on_trial_complete("t", result={"val_accuracy": 0.5, "training_iteration": 1})
    assert search_alg._ot_study.get_trials(deepcopy=False)[0].state == TrialState.COMPLETE


def test_bayes_counts_a_stopped_trial_with_its_last_value():
    """The GP leaves pruned trials out of its model, which measured worse: `bayes` keeps Ray's
    OptunaSearch behaviour (BENCHMARKS.md §2)."""
    from optuna.trial import TrialState

    from raysearch.search import build_search

    sweep = load_spec(digits_spec(method="bayes", scheduler={"type": "asha"},
                                  parameters={**MIXED, "epochs": {"value": 3}}))
    search_alg, _ = build_search(sweep)
    search_alg.suggest("stopped")
    search_alg.on_trial_complete("stopped", result={"val_accuracy": 0.1, "training_iteration": 1})
    trial = search_alg._ot_study.get_trials(deepcopy=False)[0]
    assert trial.state == TrialState.COMPLETE and trial.value == pytest.approx(0.1)
