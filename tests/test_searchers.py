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


@pytest.mark.parametrize("method", ["bayes", "optuna", "bohb"])
def test_optuna_methods_leave_out_messages_that_mislead_in_a_sweep(method, monkeypatch):
    """Optuna's "A new study created in memory" (the searcher's own study) and Tune's advice to
    move training out of the space function (the time is the sampler's: the GP's first fit
    imports torch) are not shown; the user's Optuna log level is left as it was."""
    import logging
    import warnings

    import optuna
    from ray.tune.search.optuna import OptunaSearch, optuna_search

    from raysearch.search.optuna_search import SPACE_TIMING_WARNING
    from raysearch.search.searchers import OptunaSpace

    sweep = load_spec(digits_spec(method=method, parameters=MIXED))
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    optuna.logging.get_logger("optuna").addHandler(handler)
    monkeypatch.setattr(optuna_search, "DEFINE_BY_RUN_WARN_THRESHOLD_S", -1.0)  # every call
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        def first_suggestion(searcher) -> list[str]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                assert set(MIXED) - {"batch_size", "epochs"} <= set(searcher.suggest("t1"))
            return [str(w.message) for w in caught if SPACE_TIMING_WARNING in str(w.message)]

        searcher, _ = SEARCHERS.get(method).build(sweep.space, "val_accuracy", "max", 0)
        assert not [r for r in records if "A new study created" in r.getMessage()]
        assert first_suggestion(searcher) == []
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
        # the same with Ray's OptunaSearch: both messages (the test can tell)
        plain = OptunaSearch(space=OptunaSpace(sweep.space), metric="val_accuracy", mode="max")
        assert [r for r in records if "A new study created" in r.getMessage()]
        assert len(first_suggestion(plain)) == 1
    finally:
        optuna.logging.get_logger("optuna").removeHandler(handler)
        optuna.logging.set_verbosity(level)  # the rest of the session as it was


@pytest.mark.parametrize("method", ["bayes", "optuna"])
def test_a_failed_trial_retried_by_resume_is_learned_without_a_warning_per_result(method):
    """Tune tells the searcher a trial failed; resume retries it. Its results used to be a
    warning each (with the whole result) and lost to the model: now the completed retry is
    a finished trial of the study, with the parameters it was asked with."""
    import logging

    import optuna

    sweep = load_spec(digits_spec(method=method, parameters=MIXED))
    searcher, _ = SEARCHERS.get(method).build(sweep.space, "val_accuracy", "max", 0)
    config = searcher.suggest("t1")
    searcher.on_trial_complete("t1", None, error=True)  # the first session: it failed
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    tune_logger = logging.getLogger("ray.tune.search.optuna.optuna_search")  # Ray's own
    tune_logger.addHandler(handler)
    try:
        searcher.on_trial_result("t1", {"val_accuracy": 0.5, "training_iteration": 1})
        searcher.on_trial_complete("t1", {"val_accuracy": 0.7, "training_iteration": 2})
    finally:
        tune_logger.removeHandler(handler)
    assert not [r for r in records if "already finished" in r.getMessage()]
    trials = searcher._ot_study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [optuna.trial.TrialState.FAIL,
                                         optuna.trial.TrialState.COMPLETE]
    assert trials[1].value == 0.7 and trials[1].params == trials[0].params
    assert {k: config[k] for k in trials[1].params} == trials[1].params
