"""Models as the seeds' scikit-learn and skorch users write them, for tests/test_sklearn.py
(importable by Ray workers)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_diabetes, load_digits
from sklearn.preprocessing import StandardScaler
from torch import nn


class RegressorModule(nn.Module):
    """skorch's tutorial regressor: one hidden layer."""

    def __init__(self, num_units: int = 16, nonlin: type[nn.Module] = nn.ReLU) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(10, num_units), nonlin(), nn.Linear(num_units, 1))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)


def diabetes() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled diabetes regression set, standardised, float32 as skorch wants."""
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    y = ((y - y.mean()) / y.std()).astype(np.float32).reshape(-1, 1)
    return X, y


def digits(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


class NotThisValue(RuntimeError):
    """A user's own exception type, raised in a fit."""


class PickyClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; its fit raises NotThisValue when `c` equals `bad`."""

    def __init__(self, c: int = 1, bad: int = 2) -> None:
        self.c, self.bad = c, bad

    def fit(self, X: np.ndarray, y: np.ndarray) -> PickyClassifier:
        if self.c == self.bad:
            raise NotThisValue(f"c={self.c} cannot be fitted")
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.majority_)
