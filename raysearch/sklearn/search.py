"""`GridSearchCV` and `RandomizedSearchCV` that run each candidate as a Ray Tune trial.

They are scikit-learn's own classes (subclasses), with scikit-learn's constructor arguments,
validation, scorers, metadata routing, `_format_results`, best-candidate choice and refit;
only the loop over (candidate, fold) changes: it becomes a raysearch sweep (one trial per
candidate, all its folds in it), so candidates run on any node of a Ray cluster, with the
chosen searcher and, for estimators that train incrementally, early stopping.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
from sklearn import model_selection
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.model_selection import check_cv
from sklearn.utils import indexable
from sklearn.utils.validation import _check_method_params

from raysearch.sklearn.candidate import (
    CANDIDATE,
    CandidateJob,
    decode,
    incremental_kind,
    params_of,
    trainable,
)
from raysearch.sklearn.space import METHODS, Plan, grid_plan, random_plan

EARLY_STOPPING = ("asha", "hyperband", "median")  # schedulers that stop without checkpoints
RAY_ARGS = ("search_method", "early_stopping", "max_iters", "resources", "max_concurrent",
            "address", "storage", "name")  # raysearch's constructor arguments, after sklearn's


class _RaySearch:
    """The fit shared by both searches: scikit-learn's, with the candidates run on Ray."""

    def _plan(self) -> Plan:
        raise NotImplementedError

    def _keep_ray_args(self, values: dict) -> None:
        """Store raysearch's constructor arguments unchanged, as scikit-learn requires."""
        for name in RAY_ARGS:
            setattr(self, name, values[name])

    def _check_ray_args(self) -> None:
        """raysearch's own arguments, as scikit-learn checks its own (before Ray starts)."""
        if self.early_stopping not in (None, False, True, *EARLY_STOPPING):
            raise ValueError(f"early_stopping must be None, True or one of {EARLY_STOPPING}; "
                             f"got {self.early_stopping!r}")
        if self.early_stopping:
            if not isinstance(self.max_iters, int | np.integer) or self.max_iters < 1:
                raise ValueError(f"max_iters must be an int >= 1; got {self.max_iters!r}")
            if incremental_kind(self.estimator) is None:
                raise ValueError(f"early_stopping needs an estimator that trains one "
                                 f"iteration at a time (partial_fit, warm_start with max_iter, "
                                 f"or a skorch net); {type(self.estimator).__name__} does not")
        if self.max_concurrent is not None and (not isinstance(self.max_concurrent, int)
                                                or self.max_concurrent < 1):
            raise ValueError(f"max_concurrent must be an int >= 1; got {self.max_concurrent!r}")

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any = None, **params: Any) -> Any:
        """Run fit with all sets of parameters, each candidate a Ray Tune trial (see
        `sklearn.model_selection.GridSearchCV.fit`)."""
        self._check_ray_args()
        plan = self._plan()
        scorers, refit_metric = self._get_scorers()
        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        routed = self._get_routed_params_for_fit(params)
        self._checked_cv_orig = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        if hasattr(self, "_check_input_parameters"):  # scikit-learn >= 1.8
            self._check_input_parameters(X=X, y=y, split_params=routed.splitter.split)
        self.n_splits_ = self._checked_cv_orig.get_n_splits(X, y, **routed.splitter.split)
        splits = list(self._checked_cv_orig.split(X, y, **routed.splitter.split))
        if len(splits) != self.n_splits_:
            raise ValueError(f"cv.split and cv.get_n_splits return inconsistent results. "
                             f"Expected {self.n_splits_} splits, got {len(splits)}")
        if self.verbose > 0:  # scikit-learn's own first line
            print(f"Fitting {self.n_splits_} folds for each of {plan.run_cap} candidates, "
                  f"totalling {self.n_splits_ * plan.run_cap} fits", flush=True)
        base_estimator = clone(self.estimator)
        _check_candidate_params(base_estimator, plan)
        job = CandidateJob(
            estimator=base_estimator, splits=splits, scorer=scorers,
            fit_params=dict(routed.estimator.fit), score_params=dict(routed.scorer.score),
            return_train_score=self.return_train_score, error_score=self.error_score,
            candidates=plan.candidates, max_iters=self.max_iters if self.early_stopping else None,
            incremental=incremental_kind(self.estimator) if self.early_stopping else None)
        objective = refit_metric if isinstance(refit_metric, str) else \
            next(iter(scorers._scorers)) if isinstance(scorers, _MultimetricScorer) else "score"
        candidate_params, out, iterations = self._run_on_ray(plan, job, X, y, objective)

        results = self._format_results(candidate_params, self.n_splits_, out,
                                       {"n_iterations": iterations} if self.early_stopping
                                       else None)
        first_test_score = out[0]["test_scores"]
        self.multimetric_ = isinstance(first_test_score, dict)
        if callable(self.scoring) and self.multimetric_:
            self._check_refit_for_multimetric(first_test_score)
            refit_metric = self.refit

        if self.refit or not self.multimetric_:
            self.best_index_ = self._select_best_index(self.refit, refit_metric, results)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(base_estimator).set_params(
                **clone(self.best_params_, safe=False))
            start = time.time()
            if y is not None:
                self.best_estimator_.fit(X, y, **routed.estimator.fit)
            else:
                self.best_estimator_.fit(X, **routed.estimator.fit)
            self.refit_time_ = time.time() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = scorers._scorers if isinstance(scorers, _MultimetricScorer) else scorers
        self.cv_results_ = results
        return self

    def _select_best_index(self, refit: Any, refit_metric: str, results: dict) -> int:
        """With early stopping, the best of the candidates that ran furthest: a stopped
        candidate's score is that of fewer iterations, and which ones the scheduler stops
        depends on the order results arrive in (scikit-learn's successive halving picks from
        its last iteration alike). A callable `refit` decides itself, as in scikit-learn."""
        if callable(refit) or "n_iterations" not in results:
            return super()._select_best_index(refit, refit_metric, results)
        iterations = np.asarray(results["n_iterations"])
        furthest = np.flatnonzero(iterations == iterations.max())
        ranks = np.asarray(results[f"rank_test_{refit_metric}"])[furthest]
        return int(furthest[np.argmin(ranks)])

    def _run_on_ray(self, plan: Plan, job: CandidateJob, X: Any, y: Any,
                    objective: str) -> tuple[list[dict], list[dict], list[int]]:
        """The sweep; then each candidate's per-fold results from the run folder's history,
        in the order scikit-learn would list them."""
        import dataclasses

        from raysearch.results import ERRORED
        from raysearch.runner import RunOptions, run_sweep
        from raysearch.spec import load_spec
        from raysearch.types import TrainableInfo

        raw = {"name": self.name or f"{type(self).__name__}-{type(self.estimator).__name__}",
               "trainable": trainable(job), "method": plan.method,
               "metric": {"name": f"mean_test_{objective}", "goal": "maximize"},
               "parameters": plan.parameters, "run_cap": plan.run_cap,
               "resources": dict(self.resources or {"cpu": 1}),
               "max_concurrent": self.max_concurrent or (self.n_jobs if self.n_jobs and
                                                         self.n_jobs > 0 else None),
               "seed": _seed(getattr(self, "random_state", None)),
               # scikit-learn's search raises the first failed fit's error at once
               "fail_fast": isinstance(self.error_score, str) and self.error_score == "raise"}
        if self.early_stopping:
            raw["scheduler"] = {"type": "asha" if self.early_stopping is True
                                else self.early_stopping, "max_t": self.max_iters}
        sweep = load_spec(raw)
        data = (X, y)
        sweep = dataclasses.replace(sweep, trainable_info=TrainableInfo(load_data=lambda: data))
        result = run_sweep(sweep, RunOptions(
            address=self.address, storage=self.storage,
            progress_every_s=10.0 if self.verbose else None))
        self.run_path_ = result.path
        _write_candidates(result.path, self, plan)

        raises = isinstance(self.error_score, str) and self.error_score == "raise"
        if raises:  # the fit that failed (and stopped the sweep: fail_fast), as it raised
            for trial in result.trials.to_pylist():
                if trial["status"] == ERRORED and \
                        (error := result.trial_error(trial["trial_id"])) is not None:
                    raise error
        history: dict[str, dict] = {}
        for row in result.history.to_pylist():
            last = history.get(row["trial_id"])
            if last is None or row["iteration"] >= last["iteration"]:
                history[row["trial_id"]] = row
        rows = []
        for trial in result.trials.to_pylist():
            config = {k[len("config."):]: v for k, v in trial.items()
                      if k.startswith("config.") and v is not None}
            row = history.get(trial["trial_id"])
            if trial["status"] == ERRORED or row is None:
                if raises:
                    raise ValueError(f"candidate {params_of(job, config)} failed: "
                                     f"{trial.get('error') or 'no result'}")
                outs = [{"n_test_samples": len(test), "fit_time": 0.0, "score_time": 0.0,
                         "fit_error": trial.get("error") or "the trial ended without a result",
                         "test_scores": self.error_score,
                         **({"train_scores": self.error_score} if self.return_train_score
                            else {})} for _, test in job.splits]
                iterations = 0
            else:
                outs = decode(row, len(job.splits))
                iterations = int(row["iteration"])
            rows.append((_order(trial, config), params_of(job, config), outs, iterations))
        if not rows:
            raise ValueError("no candidate was evaluated")
        rows.sort(key=lambda r: r[0])
        _warn_fit_failures([out for _, _, outs, _ in rows for out in outs], self.error_score)
        return ([r[1] for r in rows], [out for r in rows for out in r[2]],
                [r[3] for r in rows])


def _order(trial: dict, config: dict) -> tuple:
    """scikit-learn's candidate order: the candidate index, else when the trial started."""
    return (int(config[CANDIDATE]),) if CANDIDATE in config else (trial["trial_id"],)


def _check_candidate_params(estimator: Any, plan: Plan) -> None:
    """Each candidate's parameters set on a copy of the estimator, as scikit-learn's
    `_fit_and_score` sets them before it fits: a name the estimator lacks raises that
    ValueError here, before Ray starts, as scikit-learn's search raises it (not a failed
    trial per candidate, scored `error_score`). A searcher's space is checked with one value
    of each parameter: its values are numbers and strings, only the names can be wrong."""
    if plan.candidates is not None:
        for params in plan.candidates:
            clone(estimator).set_params(**clone(params, safe=False))
        return
    one = {}
    for name, spec in plan.parameters.items():
        values = spec.get("values") or [spec.get("value", spec.get("min"))]
        one[name] = values[0]
    clone(estimator).set_params(**one)


def _seed(random_state: Any) -> int | None:
    """A searcher's seed from scikit-learn's random_state (None, an int, a RandomState)."""
    from sklearn.utils import check_random_state

    if random_state is None or isinstance(random_state, int | np.integer):
        return None if random_state is None else int(random_state)
    return int(check_random_state(random_state).randint(2**31 - 1))


def _warn_fit_failures(outs: list[dict], error_score: Any) -> None:
    """scikit-learn's own warning when some fits failed (error_score not 'raise')."""
    from sklearn.model_selection._validation import _warn_or_raise_about_fit_failures

    _warn_or_raise_about_fit_failures(outs, error_score)


def _write_candidates(run_dir: str, search: Any, plan: Plan) -> None:
    """What the search was, beside the run's tables: `sklearn.json` (estimator, scoring, cv
    and, when sampled here, each candidate index's parameters)."""
    from raysearch.results import storage

    record = {"search": type(search).__name__, "estimator": repr(search.estimator),
              "scoring": repr(search.scoring), "cv": repr(search.cv),
              "search_method": plan.method if plan.candidates is None else
              ("grid" if isinstance(search, GridSearchCV) else "random"),
              "early_stopping": search.early_stopping, "max_iters": search.max_iters,
              "candidates": None if plan.candidates is None else
              [{k: repr(v) for k, v in c.items()} for c in plan.candidates]}
    storage.write_text(storage.join(run_dir, "sklearn.json"), json.dumps(record, indent=1))


class GridSearchCV(_RaySearch, model_selection.GridSearchCV):
    """`sklearn.model_selection.GridSearchCV` whose candidates run as Ray Tune trials.

    scikit-learn's arguments keep their meaning (`n_jobs` caps the candidates running at
    once, `verbose > 0` shows raysearch's progress). raysearch's: `early_stopping` (None, True
    or 'asha', 'hyperband', 'median': stop bad candidates early, for estimators that train
    incrementally, over `max_iters` iterations, scored on the CV folds each iteration),
    `resources` per candidate ({'cpu': 1, 'gpu': 0.25}), `max_concurrent`, `address` (a Ray
    cluster; default: the Ray of this process, else a private local one), `storage` (where the
    run folder goes; its path is `run_path_` after fit), `name` (the run's name).
    `search_method` can only be 'grid' here: for other searchers use RandomizedSearchCV."""

    def __init__(self, estimator: Any, param_grid: Any, *, scoring: Any = None,
                 n_jobs: int | None = None, refit: Any = True, cv: Any = None,
                 verbose: int = 0, pre_dispatch: Any = "2*n_jobs", error_score: Any = np.nan,
                 return_train_score: bool = False, search_method: str = "grid",
                 early_stopping: Any = None, max_iters: int = 10,
                 resources: dict | None = None, max_concurrent: int | None = None,
                 address: str | None = None, storage: str = "runs",
                 name: str | None = None) -> None:
        super().__init__(estimator, param_grid, scoring=scoring, n_jobs=n_jobs, refit=refit,
                         cv=cv, verbose=verbose, pre_dispatch=pre_dispatch,
                         error_score=error_score, return_train_score=return_train_score)
        self._keep_ray_args(locals())

    def _plan(self) -> Plan:
        if self.search_method != "grid":
            raise ValueError(f"GridSearchCV runs search_method='grid'; got "
                             f"{self.search_method!r}: use RandomizedSearchCV(..., "
                             f"search_method={self.search_method!r}, n_iter=...)")
        return grid_plan(self.param_grid)


class RandomizedSearchCV(_RaySearch, model_selection.RandomizedSearchCV):
    """`sklearn.model_selection.RandomizedSearchCV` whose candidates run as Ray Tune trials.

    `search_method` picks who proposes the `n_iter` candidates: 'random' (default; with lists
    and scipy.stats distributions, scikit-learn's own ParameterSampler with `random_state`, so
    the same candidates as scikit-learn), or raysearch's 'hyperopt', 'bayes', 'optuna' (they
    learn from finished candidates; distributions are lists, scipy.stats uniform / loguniform /
    randint, or W&B-grammar dicts). The other raysearch arguments are GridSearchCV's."""

    def __init__(self, estimator: Any, param_distributions: Any, *, n_iter: int = 10,
                 scoring: Any = None, n_jobs: int | None = None, refit: Any = True,
                 cv: Any = None, verbose: int = 0, pre_dispatch: Any = "2*n_jobs",
                 random_state: Any = None, error_score: Any = np.nan,
                 return_train_score: bool = False, search_method: str = "random",
                 early_stopping: Any = None, max_iters: int = 10,
                 resources: dict | None = None, max_concurrent: int | None = None,
                 address: str | None = None, storage: str = "runs",
                 name: str | None = None) -> None:
        super().__init__(estimator, param_distributions, n_iter=n_iter, scoring=scoring,
                         n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
                         pre_dispatch=pre_dispatch, random_state=random_state,
                         error_score=error_score, return_train_score=return_train_score)
        self._keep_ray_args(locals())

    def _plan(self) -> Plan:
        if self.search_method not in METHODS:
            raise ValueError(f"search_method must be one of {METHODS}; got "
                             f"{self.search_method!r}")
        if self.search_method == "grid":
            raise ValueError("search_method='grid' enumerates a grid: use GridSearchCV")
        return random_plan(self.param_distributions, self.n_iter, self.random_state,
                           self.search_method)
