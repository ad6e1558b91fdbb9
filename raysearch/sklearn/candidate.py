"""One candidate of a search, as one Ray Tune trial: its fits on every CV fold, scored the way
scikit-learn scores them, reported as one flat result (`split0_test_score`, ...,
`mean_test_score`) that the run folder's history keeps and the driver turns back into
`cv_results_`.

Without early stopping each fold is `sklearn.model_selection._validation._fit_and_score`, the
function `GridSearchCV` itself runs, so the scores are the same. With early stopping the folds
train one iteration at a time (`partial_fit`, or `warm_start` with `max_iter=1`; a skorch net
one epoch) and every iteration is a result the scheduler judges.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CANDIDATE = "candidate"  # the config key of a candidate given by index (sklearn's own sampling)
MULTIMETRIC = "multimetric"  # 1 when the scorer returned a dict of scores


@dataclass(frozen=True)
class CandidateJob:
    """Everything a trial needs besides the data (which travels once, in the object store)."""

    estimator: Any  # unfitted, cloned per fold
    splits: Sequence[tuple[np.ndarray, np.ndarray]]
    scorer: Any
    fit_params: Mapping[str, Any]
    score_params: Mapping[str, Any]
    return_train_score: bool
    error_score: Any
    candidates: Sequence[dict] | None  # sampled in the driver (grid / sklearn's random), or
    # None: the config is the candidate (raysearch's searchers)
    max_iters: int | None = None  # early stopping: iterations per candidate
    incremental: str | None = None  # "partial_fit" | "warm_start" | "skorch"


def params_of(job: CandidateJob, config: Mapping[str, Any]) -> dict:
    if job.candidates is not None:
        return dict(job.candidates[int(config[CANDIDATE])])
    return {k: v for k, v in config.items() if k != CANDIDATE}


def fit_candidate(config: dict, data: tuple, job: CandidateJob) -> None:
    """The Ray Tune function: every fold of one candidate."""
    from ray import tune

    X, y = data
    params = params_of(job, config)
    estimator = _placed(job.estimator)
    if job.max_iters is None:
        from sklearn.base import clone
        from sklearn.model_selection._validation import _fit_and_score

        outs = [_fit_and_score(clone(estimator), X, y, scorer=job.scorer, train=train, test=test,
                               verbose=0, parameters=params, fit_params=dict(job.fit_params),
                               score_params=dict(job.score_params),
                               return_train_score=job.return_train_score,
                               return_n_test_samples=True, return_times=True,
                               error_score=job.error_score)
                for train, test in job.splits]
        tune.report(encode(outs))
        return
    folds = [_IncrementalFold(estimator, params, X, y, train, test, job)
             for train, test in job.splits]
    for _ in range(job.max_iters):
        tune.report(encode([fold.step() for fold in folds]))


def _placed(estimator: Any) -> Any:
    """A skorch net (anything with a `device` parameter) on the GPU Ray gave this trial (Ray
    set CUDA_VISIBLE_DEVICES to it); unchanged without one, or where CUDA is not usable."""
    import ray

    if "device" not in estimator.get_params(deep=False) or not ray.get_gpu_ids():
        return estimator
    import torch

    if not torch.cuda.is_available():
        return estimator
    from sklearn.base import clone

    return clone(estimator).set_params(device="cuda")


class _IncrementalFold:
    """One fold trained an iteration at a time; `step()` trains one more and scores."""

    def __init__(self, estimator: Any, params: dict, X: Any, y: Any, train: np.ndarray,
                 test: np.ndarray, job: CandidateJob) -> None:
        from sklearn.base import clone, is_classifier
        from sklearn.utils.metaestimators import _safe_split

        self.job = job
        self.model = clone(estimator).set_params(**clone(params, safe=False))
        if job.incremental == "skorch":
            self.model.set_params(max_epochs=1)  # partial_fit: one more epoch
        elif job.incremental == "warm_start":
            self.model.set_params(warm_start=True, max_iter=1)
        self.X_train, self.y_train = _safe_split(self.model, X, y, train)
        self.X_test, self.y_test = _safe_split(self.model, X, y, test, train)
        self.classes = np.unique(y) if is_classifier(self.model) and y is not None else None
        self.fit_time = 0.0
        self.error: str | None = None

    def step(self) -> dict:
        from sklearn.model_selection._validation import _score
        from sklearn.utils.validation import _num_samples

        start = time.time()
        if self.error is None:
            try:
                self._train_one()
            except Exception as exc:  # as _fit_and_score: error_score, or raise
                if self.job.error_score == "raise":
                    raise
                self.error = f"{type(exc).__name__}: {exc}"
        self.fit_time += time.time() - start
        out = {"fit_time": self.fit_time, "n_test_samples": _num_samples(self.X_test)}
        start = time.time()
        if self.error is None:
            score = dict(self.job.score_params)
            out["test_scores"] = _score(self.model, self.X_test, self.y_test, self.job.scorer,
                                        score, self.job.error_score)
            if self.job.return_train_score:
                out["train_scores"] = _score(self.model, self.X_train, self.y_train,
                                             self.job.scorer, score, self.job.error_score)
        else:
            out["test_scores"] = self.job.error_score
            if self.job.return_train_score:
                out["train_scores"] = self.job.error_score
        out["score_time"] = time.time() - start
        out["fit_error"] = self.error
        return out

    def _train_one(self) -> None:
        fit_params = dict(self.job.fit_params)
        if self.job.incremental == "warm_start":
            import warnings

            from sklearn.exceptions import ConvergenceWarning

            with warnings.catch_warnings():  # one iteration never "converges"
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.model.fit(self.X_train, self.y_train, **fit_params)
        elif self.classes is not None and self.job.incremental == "partial_fit":
            self.model.partial_fit(self.X_train, self.y_train, classes=self.classes, **fit_params)
        else:
            self.model.partial_fit(self.X_train, self.y_train, **fit_params)


def incremental_kind(estimator: Any) -> str | None:
    """How `estimator` trains one iteration at a time, or None when it cannot."""
    params = estimator.get_params(deep=False)
    if hasattr(estimator, "partial_fit") and "max_epochs" in params:
        return "skorch"
    if hasattr(estimator, "partial_fit"):
        return "partial_fit"
    if "warm_start" in params and "max_iter" in params:
        return "warm_start"
    return None


# ------------------------------------------------------------- one flat result per candidate

def encode(outs: Sequence[dict]) -> dict:
    """`_fit_and_score`'s per-fold dicts as one flat result of numbers (and error strings)."""
    result: dict[str, Any] = {}
    multimetric = isinstance(outs[0]["test_scores"], Mapping)
    result[MULTIMETRIC] = int(multimetric)
    for i, out in enumerate(outs):
        for kind in ("test", "train"):
            scores = out.get(f"{kind}_scores")
            if scores is None:
                continue
            for name, value in _named(scores).items():
                result[f"split{i}_{kind}_{name}"] = float(value)
        result[f"split{i}_n_test"] = int(out["n_test_samples"])
        result[f"split{i}_fit_time"] = float(out["fit_time"])
        result[f"split{i}_score_time"] = float(out["score_time"])
        if out.get("fit_error"):
            result[f"split{i}_fit_error"] = str(out["fit_error"])
    for name in _named(outs[0]["test_scores"]):
        result[f"mean_test_{name}"] = float(np.mean([result[f"split{i}_test_{name}"]
                                                     for i in range(len(outs))]))
    return result


def decode(row: Mapping[str, Any], n_splits: int) -> list[dict]:
    """The per-fold dicts back, as `_format_results` takes them."""
    multimetric = bool(row.get(MULTIMETRIC))
    outs = []
    for i in range(n_splits):
        out: dict[str, Any] = {"n_test_samples": int(row[f"split{i}_n_test"]),
                               "fit_time": float(row[f"split{i}_fit_time"]),
                               "score_time": float(row[f"split{i}_score_time"]),
                               "fit_error": row.get(f"split{i}_fit_error")}
        for kind in ("test", "train"):
            prefix = f"split{i}_{kind}_"
            scores = {k[len(prefix):]: _float(v) for k, v in row.items()
                      if k.startswith(prefix)}
            if scores:
                out[f"{kind}_scores"] = scores if multimetric else scores["score"]
        outs.append(out)
    return outs


def _named(scores: Any) -> dict:
    return dict(scores) if isinstance(scores, Mapping) else {"score": scores}


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def trainable(job: CandidateJob) -> Callable:
    """`fit_candidate` bound to `job` (Ray pickles it once with the trainable)."""
    def sklearn_candidate(config: dict, data: tuple) -> None:
        fit_candidate(config, data, job)

    return sklearn_candidate
