"""`wandb.plot`: W&B's preset charts, kept offline as the table each one draws (W&B itself
stores a chart as its table plus the name of a Vega preset). Logged like any table: the file
lands under `media/table/` in the trial's folder, with the preset, the fields it maps and the
title beside the columns and rows, so the chart can be drawn again from it.

The computed charts (confusion matrix, ROC and precision-recall curves) build the same table
as W&B's: the same columns, one row per (actual, predicted) pair or per point of each class's
curve; ROC and PR use scikit-learn's metrics, as W&B's do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import Error, Table

__all__ = ["line", "scatter", "bar", "histogram", "line_series", "confusion_matrix",
           "roc_curve", "pr_curve", "plot_table"]


class Chart(Table):
    """A table with the chart W&B would draw of it."""

    def __init__(self, preset: str, table: Table, fields: dict, title: str | None = None,
                 string_fields: dict | None = None) -> None:
        super().__init__(columns=table.columns, data=table.rows)
        self.preset, self.fields, self.title = preset, dict(fields), title
        self.string_fields = dict(string_fields or {})

    def _bytes(self) -> tuple[bytes, str]:
        return self._json({"columns": self.columns, "data": self.rows,
                           "chart": {"preset": self.preset, "fields": self.fields,
                                     "title": self.title, **self.string_fields}},
                          ".table.json")


def plot_table(vega_spec_name: str, data_table: Table, fields: dict,
               string_fields: dict | None = None, split_table: bool = False) -> Chart:
    """A custom chart: `data_table` drawn with the Vega preset `vega_spec_name`."""
    return Chart(vega_spec_name, data_table, fields,
                 (string_fields or {}).get("title"), string_fields)


def line(table: Table, x: str, y: str, stroke: str | None = None, title: str = "",
         split_table: bool = False) -> Chart:
    return Chart("wandb/line/v0", table, {"x": x, "y": y, "stroke": stroke}, title)


def scatter(table: Table, x: str, y: str, title: str = "", split_table: bool = False) -> Chart:
    return Chart("wandb/scatter/v0", table, {"x": x, "y": y}, title)


def bar(table: Table, label: str, value: str, title: str = "",
        split_table: bool = False) -> Chart:
    return Chart("wandb/bar/v0", table, {"label": label, "value": value}, title)


def histogram(table: Table, value: str, title: str = "", split_table: bool = False) -> Chart:
    return Chart("wandb/histogram/v0", table, {"value": value}, title)


def line_series(xs: Any, ys: Any, keys: Sequence[str] | None = None, title: str = "",
                xname: str = "x", split_table: bool = False) -> Chart:
    """Several lines: `xs` one sequence for all, or one per line in `ys`."""
    ys = [list(y) for y in ys]
    xs = list(xs)
    if not xs or not _is_sequence(xs[0]):
        xs = [xs] * len(ys)
    if len(xs) != len(ys):
        raise Error(f"wandb.plot.line_series: {len(xs)} lists of x values for {len(ys)} "
                    "lines; give one list, or one per line")
    rows = [[x, keys[i] if keys is not None else f"key_{i}", y]
            for i, (line_xs, line_ys) in enumerate(zip(xs, ys, strict=True))
            for x, y in zip(line_xs, line_ys, strict=False)]
    return Chart("wandb/lineseries/v0", Table(columns=["step", "lineKey", "lineVal"], data=rows),
                 {"step": "step", "lineKey": "lineKey", "lineVal": "lineVal"}, title,
                 {"xname": xname})


def confusion_matrix(probs: Any = None, y_true: Any = None, preds: Any = None,
                     class_names: Sequence[str] | None = None,
                     title: str = "Confusion Matrix Curve", split_table: bool = False) -> Chart:
    """Counts of (actual, predicted) class pairs, from `preds` or the argmax of `probs`."""
    if (probs is None) == (preds is None):
        raise Error("wandb.plot.confusion_matrix: give exactly one of probs and preds")
    if y_true is None:
        raise Error("wandb.plot.confusion_matrix: y_true is required")
    y_true = [_scalar(v) for v in y_true]
    if preds is None:
        preds = [max(range(len(row)), key=lambda i, row=row: row[i])
                 for row in _rows(probs)]
    preds = [_scalar(v) for v in preds]
    if len(preds) != len(y_true):
        raise Error(f"wandb.plot.confusion_matrix: {len(preds)} predictions for "
                    f"{len(y_true)} labels")
    classes = sorted(set(preds) | set(y_true))
    if class_names is None:
        class_names = [f"Class_{i + 1}" for i in range(len(classes))]
        index = {c: i for i, c in enumerate(classes)}
    else:
        if classes and (min(classes) < 0 or max(classes) >= len(class_names)):
            raise Error(f"wandb.plot.confusion_matrix: a class index outside 0.."
                        f"{len(class_names) - 1} for {len(class_names)} class_names")
        index = {c: c for c in range(len(class_names))}
    n = len(class_names)
    counts = [[0] * n for _ in range(n)]
    for actual, predicted in zip(y_true, preds, strict=True):
        counts[index[actual]][index[predicted]] += 1
    rows = [[class_names[i], class_names[j], counts[i][j]] for i in range(n) for j in range(n)]
    return Chart("wandb/confusion_matrix/v1",
                 Table(columns=["Actual", "Predicted", "nPredictions"], data=rows),
                 {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"},
                 title)


def roc_curve(y_true: Any = None, y_probas: Any = None, labels: Sequence[str] | None = None,
              classes_to_plot: Sequence | None = None, title: str = "ROC Curve",
              split_table: bool = False) -> Chart:
    """Each class's ROC curve (one against the rest) as rows of (class, fpr, tpr)."""
    from sklearn.metrics import roc_curve as curve

    rows = [[name, round(float(fpr), 3), round(float(tpr), 3)]
            for name, scores, positive, y in _per_class(y_true, y_probas, labels,
                                                          classes_to_plot)
            for fpr, tpr in zip(*curve(y, scores, pos_label=positive)[:2], strict=True)]
    return Chart("wandb/area-under-curve/v0", Table(columns=["class", "fpr", "tpr"], data=rows),
                 {"x": "fpr", "y": "tpr", "class": "class"}, title,
                 {"x-axis-title": "False positive rate", "y-axis-title": "True positive rate"})


def pr_curve(y_true: Any = None, y_probas: Any = None, labels: Sequence[str] | None = None,
             classes_to_plot: Sequence | None = None, interp_size: int = 21,
             title: str = "Precision-Recall Curve", split_table: bool = False) -> Chart:
    """Each class's precision against recall, interpolated at `interp_size` recall values."""
    import numpy as np
    from sklearn.metrics import precision_recall_curve as curve

    grid = np.linspace(0, 1, interp_size)[::-1]
    rows = []
    for name, scores, positive, y in _per_class(y_true, y_probas, labels, classes_to_plot):
        precision, recall, _ = curve(y, scores, pos_label=positive)
        # the best precision at that recall or above (interpolated precision)
        rows += [[name, round(float(r), 3), round(float(precision[recall >= r].max()), 3)]
                 for r in grid]
    return Chart("wandb/area-under-curve/v0",
                 Table(columns=["class", "recall", "precision"], data=rows),
                 {"x": "recall", "y": "precision", "class": "class"}, title,
                 {"x-axis-title": "Recall", "y-axis-title": "Precision"})


def _per_class(y_true: Any, y_probas: Any, labels: Sequence[str] | None,
               classes_to_plot: Sequence | None) -> list[tuple[Any, Any, Any, Any]]:
    """(name, that class's scores, the class, the labels) for each class to draw."""
    import numpy as np

    if y_true is None or y_probas is None:
        raise Error("y_true and y_probas are required")
    y, probas = np.asarray(y_true), np.asarray(y_probas)
    if probas.ndim != 2 or len(probas) != len(y):
        raise Error(f"y_probas: expected one row of class scores per label ({len(y)} rows), "
                    f"got shape {probas.shape}")
    classes = np.unique(y)
    wanted = classes if classes_to_plot is None else classes_to_plot
    return [(labels[c] if labels is not None and isinstance(c, int | np.integer) else
             _scalar(c), probas[:, i], c, y)
            for i, c in enumerate(classes) if c in wanted]


def _rows(values: Any) -> list[list[float]]:
    tolist = getattr(values, "tolist", None)
    return tolist() if callable(tolist) else [list(row) for row in values]


def _scalar(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _is_sequence(value: Any) -> bool:
    """A list, tuple or array of values (not a string)."""
    return not isinstance(value, str) and hasattr(value, "__len__") and \
        hasattr(value, "__getitem__")
