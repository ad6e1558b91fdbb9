"""`raysearch.sklearn`: scikit-learn's GridSearchCV / RandomizedSearchCV with one import changed,
each candidate a Ray Tune trial; compared with scikit-learn's own classes on the same data."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest
import torch
import yaml
from scipy.stats import loguniform
from sklearn import model_selection
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from skorch import NeuralNetRegressor

import raysearch
from raysearch.cli import main
from raysearch.sklearn import GridSearchCV, RandomizedSearchCV
from tests.sklearn_models import (
    NotThisValue,
    PickyClassifier,
    RegressorModule,
    diabetes,
    digits,
)


def same_results(ours: dict, theirs: dict) -> None:
    """cv_results_ equal key for key (times aside: they are measured), dtypes included."""
    assert set(ours) == set(theirs)
    for key, expected in theirs.items():
        got = ours[key]
        if key == "params":
            assert got == expected
        elif key.endswith("_time"):
            assert got.shape == expected.shape and got.dtype == expected.dtype
        elif isinstance(expected, np.ma.MaskedArray):
            assert got.dtype == expected.dtype and list(got.mask) == list(expected.mask)
            assert [str(v) for v in got] == [str(v) for v in expected], key
        else:
            assert got.dtype == expected.dtype, key
            np.testing.assert_array_equal(got, expected, err_msg=key)


def skorch_net(**overrides) -> NeuralNetRegressor:
    kwargs = dict(module=RegressorModule, max_epochs=6, lr=0.01, optimizer=torch.optim.Adam,
                  train_split=None, verbose=0)
    return NeuralNetRegressor(**{**kwargs, **overrides})


def test_mlp_grid_on_digits_equals_scikit_learn(ray_session, storage):
    """The seed's GridSearchCV(MLPClassifier(), {...}, cv=5): identical scores and choice."""
    X, y = digits()
    grid = {"hidden_layer_sizes": [(16,), (32,)], "alpha": [1e-4, 1e-1]}
    mlp = MLPClassifier(max_iter=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP's ConvergenceWarning at 40 iterations
        ours = GridSearchCV(mlp, grid, cv=5, storage=storage).fit(X, y)
        theirs = model_selection.GridSearchCV(mlp, grid, cv=5).fit(X, y)
    same_results(ours.cv_results_, theirs.cv_results_)
    assert ours.best_params_ == theirs.best_params_ and ours.best_index_ == theirs.best_index_
    assert ours.best_score_ == theirs.best_score_ and ours.n_splits_ == 5
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.score(X, y) == theirs.score(X, y) and ours.refit_time_ > 0
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    # a run folder like any sweep's, with what the search was
    result = raysearch.load(ours.run_path_)
    assert sorted(r["config.candidate"] for r in result.trials.to_pylist()) == [0, 1, 2, 3]
    assert all(r["status"] == "completed" for r in result.trials.to_pylist())
    record = json.loads(open(os.path.join(ours.run_path_, "sklearn.json")).read())
    assert record["candidates"][3] == {"alpha": "0.1", "hidden_layer_sizes": "(32,)"}


def test_multimetric_refit_train_scores_and_failed_fits_equal_scikit_learn(ray_session,
                                                                           storage):
    X, y = digits(400)
    grid = [{"C": [0.1, 1.0]}, {"C": [-1.0]}]  # C=-1 fails to fit: error_score
    kwargs = dict(scoring={"acc": "accuracy", "f1": "f1_macro"}, refit="f1", cv=3,
                  return_train_score=True)
    lr = LogisticRegression(max_iter=200)
    with pytest.warns(FitFailedWarning):
        ours = GridSearchCV(lr, grid, storage=storage, **kwargs).fit(X, y)
    with pytest.warns(FitFailedWarning):
        theirs = model_selection.GridSearchCV(lr, grid, **kwargs).fit(X, y)
    same_results(ours.cv_results_, theirs.cv_results_)
    assert np.isnan(ours.cv_results_["mean_test_acc"][2])
    assert ours.best_params_ == theirs.best_params_ and ours.multimetric_
    assert set(ours.scorer_) == {"acc", "f1"}


def test_error_score_raise_raises_the_fits_own_error_at_once_as_scikit_learn(ray_session,
                                                                           storage, capsys):
    """scikit-learn re-raises the first failed fit's exception, of its own type, and fits
    nothing more; so does the drop-in (the sweep's fail_fast), with the trial's traceback
    chained, and its run folder keeps what ran."""
    X, y = digits(200)
    grid = {"c": [1, 2, 3, 4, 5]}
    with pytest.raises(NotThisValue, match="c=2 cannot be fitted"):
        model_selection.GridSearchCV(PickyClassifier(), grid, cv=2, error_score="raise").fit(X, y)
    search = GridSearchCV(PickyClassifier(), grid, cv=2, error_score="raise", n_jobs=1,
                          storage=storage)
    with pytest.raises(NotThisValue, match="c=2 cannot be fitted") as raised:
        search.fit(X, y)
    assert type(raised.value) is NotThisValue  # the estimator's own, not Ray's wrapper
    assert "raise NotThisValue" in str(raised.value.__cause__)  # where in the fit
    result = raysearch.load(search.run_path_)
    status = {grid["c"][r["config.candidate"]]: r["status"] for r in result.trials.to_pylist()}
    assert status[1] == "completed" and status[2] == "errored"
    assert not any(status.get(c) == "completed" for c in (3, 4, 5)), status  # stopped there
    assert result.failed and "fail_fast stopped the sweep" in result.failures[0]
    # X and y are not in the run folder: resume says so (every trial failed on them before)
    assert main(["resume", search.run_path_]) == 2
    assert "sklearn_candidate takes `data`, which this sweep has no way to give" in \
        capsys.readouterr().err


def test_skorch_regressor_in_randomized_search_r2_on_diabetes(ray_session, storage):
    """The seed's skorch NeuralNetRegressor in RandomizedSearchCV(n_iter=10, scoring='r2')."""
    X, y = diabetes()
    params = {"lr": loguniform(1e-3, 1e-1), "module__num_units": [8, 16, 32]}
    ours = RandomizedSearchCV(skorch_net(), params, n_iter=10, scoring="r2", cv=5,
                              random_state=0, storage=storage).fit(X, y)
    sampled = list(model_selection.ParameterSampler(params, 10, random_state=0))
    assert ours.cv_results_["params"] == sampled  # scikit-learn's own candidates
    theirs = model_selection.RandomizedSearchCV(skorch_net(), params, n_iter=10, scoring="r2",
                                                cv=5, random_state=0).fit(X, y)
    assert set(ours.cv_results_) == set(theirs.cv_results_)
    for key, value in theirs.cv_results_.items():
        assert np.asarray(ours.cv_results_[key]).shape == np.asarray(value).shape, key
    assert ours.best_score_ == max(ours.cv_results_["mean_test_score"]) > 0.2
    assert isinstance(ours.best_estimator_, NeuralNetRegressor)
    assert ours.best_estimator_.module_.net[0].out_features == \
        ours.best_params_["module__num_units"]
    assert ours.predict(X).shape == (len(X), 1) and ours.score(X, y) > 0.2


def test_early_stopping_trains_bad_skorch_candidates_fewer_epochs(ray_session, storage):
    X, y = diabetes()
    params = {"lr": loguniform(1e-4, 1e-1), "module__num_units": [4, 32]}
    search = RandomizedSearchCV(skorch_net(), params, n_iter=8, scoring="r2", cv=3,
                                random_state=1, early_stopping="asha", max_iters=9,
                                storage=storage).fit(X, y)
    iterations = list(search.cv_results_["n_iterations"])
    assert max(iterations) == 9 and min(iterations) < 9, iterations
    result = raysearch.load(search.run_path_)
    history = result.history.to_pylist()
    trials = sorted(result.trials.to_pylist(), key=lambda r: r["config.candidate"])
    for trial, n in zip(trials, iterations, strict=True):
        # each reported iteration is one more epoch on every fold; stopped ones had fewer
        assert len([r for r in history if r["trial_id"] == trial["trial_id"]]) == n
        assert trial["status"] == ("completed" if n == 9 else "stopped")
    with open(os.path.join(search.run_path_, "spec.yaml")) as f:
        spec = yaml.safe_load(f)
    assert spec["scheduler"]["type"] == "asha" and spec["scheduler"]["max_t"] == 9
    # the chosen candidate is the best of those that ran to the end (a stopped one may score
    # higher on fewer epochs: ASHA's choices depend on the order results arrive in)
    scores = search.cv_results_["mean_test_score"]
    assert iterations[search.best_index_] == 9
    assert scores[search.best_index_] == max(s for s, n in zip(scores, iterations, strict=True)
                                               if n == 9)
    assert search.best_score_ == scores[search.best_index_]


def test_with_early_stopping_the_best_is_chosen_among_those_that_ran_furthest():
    """As scikit-learn's HalvingRandomSearchCV picks from its last iteration: the candidate
    stopped at 3 iterations ranks first on its early score, the one chosen ran all 9."""
    results = {"n_iterations": np.array([3, 9, 9]), "rank_test_score": np.array([1, 3, 2])}
    search = GridSearchCV(LogisticRegression(), {"C": [1.0]}, early_stopping="asha")
    assert search._select_best_index(True, "score", results) == 2
    del results["n_iterations"]  # without early stopping: scikit-learn's own choice
    assert search._select_best_index(True, "score", results) == 0
    assert search._select_best_index(lambda r: 0, "score", {"n_iterations": [3, 9],
                                                           "params": [{}, {}]}) == 0


def test_model_based_search_method_with_scipy_and_wandb_distributions(ray_session, storage):
    X, y = digits(400)
    params = {"alpha": loguniform(1e-6, 1e-1),
              "eta0": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1.0},
              "loss": ["hinge", "log_loss"]}
    search = RandomizedSearchCV(SGDClassifier(learning_rate="constant", random_state=0),
                                params, n_iter=6, cv=3, search_method="hyperopt",
                                random_state=3, storage=storage).fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    for p in search.cv_results_["params"]:
        assert 1e-6 <= p["alpha"] <= 1e-1 and 1e-3 <= p["eta0"] <= 1.0
        assert p["loss"] in ("hinge", "log_loss")
    with open(os.path.join(search.run_path_, "spec.yaml")) as f:
        spec = yaml.safe_load(f)
    assert spec["method"] == "hyperopt"
    assert spec["parameters"]["alpha"] == {"distribution": "log_uniform_values", "min": 1e-6,
                                           "max": 0.1}
    assert search.best_score_ == max(search.cv_results_["mean_test_score"])


def _raised(make, X, y):
    try:
        make().fit(X, y)
    except Exception as exc:  # noqa: BLE001 - what each raises is the point
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("arguments", [
    {"param_grid": {"C": 1.0}},
    {"param_grid": {"C": []}},
    {"param_grid": {"C": [1.0]}, "scoring": "no_such_score"},
    {"param_grid": {"C": [1.0]}, "cv": 1},
    {"param_grid": [{"C": [1.0]}, {"Cx": [1.0]}]},  # a name the estimator lacks
    {"param_grid": {"C": [1.0]}, "refit": "nope", "scoring": ["accuracy", "f1_macro"]},
])
def test_bad_input_raises_as_scikit_learn_does_before_any_trial(arguments, storage):
    X, y = digits(100)
    ours = _raised(lambda: GridSearchCV(LogisticRegression(), storage=storage, **arguments),
                   X, y)
    theirs = _raised(lambda: model_selection.GridSearchCV(LogisticRegression(), **arguments),
                     X, y)
    assert theirs is not None and ours == theirs
    assert not os.path.exists(storage)  # failed before the sweep


@pytest.mark.parametrize("make, message", [
    (lambda s: GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 3]},
                            early_stopping="asha", storage=s),
     "early_stopping needs an estimator that trains one iteration at a time"),
    (lambda s: GridSearchCV(LogisticRegression(), {"C": [1.0]}, early_stopping="pbt",
                            storage=s), "early_stopping must be None, True or one of"),
    (lambda s: RandomizedSearchCV(LogisticRegression(), {"tol": loguniform(1e-4, 1e-2),
                                                         "Cx": [0.1, 1.0]},
                                  search_method="optuna", storage=s),
     "Invalid parameter 'Cx' for estimator LogisticRegression()"),
    (lambda s: RandomizedSearchCV(LogisticRegression(), {"C": [1.0]},
                                  search_method="nope", storage=s),
     "search_method must be one of"),
    (lambda s: GridSearchCV(LogisticRegression(), {"C": [1.0]}, search_method="hyperopt",
                            storage=s), "use RandomizedSearchCV(..., search_method='hyperopt'"),
    (lambda s: RandomizedSearchCV(LogisticRegression(), {"C": loguniform(1e-3, 1).dist},
                                  search_method="optuna", storage=s),
     "has no equivalent in the W&B grammar"),
])
def test_raysearch_arguments_are_checked_before_any_trial(make, message, storage):
    X, y = digits(100)
    with pytest.raises(ValueError) as info:
        make(storage).fit(X, y)
    assert message in str(info.value)
    assert not os.path.exists(storage)


def test_get_params_and_clone_keep_every_argument():
    from sklearn.base import clone

    search = RandomizedSearchCV(LogisticRegression(), {"C": [1.0]}, n_iter=3,
                                search_method="optuna", early_stopping=True, max_iters=4,
                                resources={"cpu": 2}, max_concurrent=2, storage="x", name="n")
    params = clone(search).get_params(deep=False)
    assert {k: params[k] for k in ("search_method", "early_stopping", "max_iters", "resources",
                                   "max_concurrent", "storage", "name", "n_iter")} == {
        "search_method": "optuna", "early_stopping": True, "max_iters": 4,
        "resources": {"cpu": 2}, "max_concurrent": 2, "storage": "x", "name": "n",
        "n_iter": 3}


@pytest.mark.slow
def test_scikit_learns_estimator_checks(ray_session, tmp_path):
    """scikit-learn's own checks, as its test suite runs them on its search estimators."""
    from sklearn.utils.estimator_checks import check_estimator

    search = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, cv=2,
                          storage=str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(search, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert not failed, failed
    assert sum(r["status"] == "passed" for r in results) > 30


@pytest.mark.parametrize("estimator, kind", [
    (SGDClassifier(random_state=0), "partial_fit"),
    (LogisticRegression(), "warm_start"),
])
def test_early_stopping_for_partial_fit_and_warm_start_estimators(estimator, kind, ray_session,
                                                                  storage):
    from raysearch.sklearn.candidate import incremental_kind

    assert incremental_kind(estimator) == kind
    X, y = digits(400)
    # the good candidate first, one at a time: ASHA then has its result at each rung when the
    # worse ones get there (with two at once, who reaches a rung first is a race)
    grid = {"alpha": [1e-4, 1e-1, 10.0]} if kind == "partial_fit" else \
        {"C": [1.0, 1e-2, 1e-4]}
    search = GridSearchCV(estimator, grid, cv=3, early_stopping="asha", max_iters=9,
                          max_concurrent=1, storage=storage).fit(X, y)
    iterations = list(search.cv_results_["n_iterations"])
    assert max(iterations) == 9 and min(iterations) < 9, iterations
    assert iterations[search.best_index_] == 9 and search.best_score_ > 0.5
    history = raysearch.load(search.run_path_).history.to_pylist()
    assert len(history) == sum(iterations)  # one scored result per iteration, every fold


def test_skorch_with_a_logical_gpu_and_no_cuda_stays_on_the_cpu(ray_session, storage):
    """resources {'gpu': 0.5}: Ray gives the trial a (logical) GPU; without CUDA the net
    keeps its device instead of failing."""
    X, y = diabetes()
    search = RandomizedSearchCV(skorch_net(max_epochs=2), {"lr": [0.01, 0.02]}, n_iter=2,
                                cv=2, scoring="r2", resources={"cpu": 1, "gpu": 0.5},
                                storage=storage).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert not np.isnan(search.cv_results_["mean_test_score"]).any()
