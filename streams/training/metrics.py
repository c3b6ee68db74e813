"""Classification figures: accuracy, per-label F1, macro-F1 and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ClassificationMetrics:
    accuracy: float
    macro_f1: float
    per_label_f1: dict[str, float]
    confusion: list[list[int]]  # rows: true label, columns: predicted, in `labels` order
    labels: tuple[str, ...]
    support: int


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str],
                           labels: Sequence[str]) -> ClassificationMetrics:
    """Accuracy, per-label F1 and their unweighted mean over labels present in ``y_true``."""
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for t, p in zip(y_true, y_pred, strict=True):
        confusion[index[t]][index[p]] += 1
    f1: dict[str, float] = {}
    for i, label in enumerate(labels):
        tp = confusion[i][i]
        actual = sum(confusion[i])
        predicted = sum(row[i] for row in confusion)
        if actual == 0:
            continue
        f1[label] = 2 * tp / (actual + predicted) if actual + predicted else 0.0
    correct = sum(confusion[i][i] for i in range(len(labels)))
    total = len(y_true)
    return ClassificationMetrics(correct / total if total else 0.0,
                                 sum(f1.values()) / len(f1) if f1 else 0.0, f1, confusion,
                                 tuple(labels), total)
