"""Hyperparameter importance, as W&B shows it: a random forest's feature importance of each
parameter for the objective, and the parameter's correlation with the objective."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_TRIALS = 4


@dataclass(frozen=True)
class Importance:
    parameter: str
    importance: float  # random-forest impurity importance, sums to 1 over parameters
    correlation: float  # Spearman rank correlation with the objective (NaN if undefined)


def encode(values: list) -> tuple[np.ndarray, list | None]:
    """Numbers stay numbers; anything else becomes category codes (with their labels)."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=float), None
    labels = sorted({str(v) for v in values})
    return np.asarray([labels.index(str(v)) for v in values], dtype=float), labels


def importances(configs: dict[str, list], objective: list[float], seed: int = 0
                ) -> list[Importance]:
    """Importance of each varying parameter for `objective`, most important first; [] when
    there are too few trials to say anything."""
    varying = {k: v for k, v in configs.items() if len({str(x) for x in v}) > 1}
    if len(objective) < MIN_TRIALS or not varying:
        return []
    from scipy.stats import spearmanr
    from sklearn.ensemble import RandomForestRegressor

    columns = {k: encode(v)[0] for k, v in varying.items()}
    x = np.column_stack(list(columns.values()))
    y = np.asarray(objective, dtype=float)
    forest = RandomForestRegressor(n_estimators=200, random_state=seed).fit(x, y)
    out = []
    for (name, column), weight in zip(columns.items(), forest.feature_importances_, strict=True):
        corr = spearmanr(column, y).statistic if np.ptp(y) > 0 else float("nan")
        out.append(Importance(name, float(weight), float(corr)))
    return sorted(out, key=lambda i: -i.importance)
