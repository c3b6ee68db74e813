"""Quality of probability forecasts on a held-out window: ranking, precision and calibration.

Invariants: every function takes binary labels (0/1) and probabilities in [0, 1] of the same
length, is pure and deterministic, and treats tied predictions as one threshold (so a constant
forecast has ROC-AUC 0.5). The reliability table always has ``bins`` rows over equal-width
probability bins; an empty bin has count 0 and ``None`` for its means.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    mean_predicted: float | None
    observed_rate: float | None
    count: int


@dataclass(frozen=True)
class Evaluation:
    rows: int
    positives: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    brier: float
    reliability: tuple[ReliabilityBin, ...]

    @property
    def expected_calibration_error(self) -> float:
        """Count-weighted mean gap between predicted and observed rate over the bins."""
        total = sum(b.count for b in self.reliability)
        gaps = sum(b.count * abs((b.mean_predicted or 0.0) - (b.observed_rate or 0.0))
                   for b in self.reliability)
        return gaps / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reliability"] = [asdict(b) for b in self.reliability]
        out["expected_calibration_error"] = self.expected_calibration_error
        return out


def _checked(labels: ArrayLike, probabilities: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    y = np.asarray(labels, dtype=np.float64).ravel()
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels ({y.size}) and probabilities ({p.size}) differ in length")
    if y.size == 0:
        raise ValueError("nothing to evaluate: no rows")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if not np.isfinite(p).all() or p.min() < 0.0 or p.max() > 1.0:
        raise ValueError("probabilities must be finite and within [0, 1]")
    return y, p


def _by_threshold(y: NDArray[np.float64], p: NDArray[np.float64]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cumulative true and false positives at each distinct threshold, highest first."""
    order = np.argsort(-p, kind="mergesort")
    y_sorted, p_sorted = y[order], p[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(p_sorted)), y_sorted.size - 1]
    tps = np.cumsum(y_sorted)[last_of_tie]
    fps = (last_of_tie + 1) - tps
    return tps, fps


def roc_auc(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """Area under the ROC curve (trapezoids, so ties count half); NaN with one class only."""
    y, p = _checked(labels, probabilities)
    positives = y.sum()
    negatives = y.size - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    tps, fps = _by_threshold(y, p)
    tpr = np.r_[0.0, tps / positives]
    fpr = np.r_[0.0, fps / negatives]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def pr_auc(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """Average precision: precision at each threshold weighted by the recall it adds."""
    y, p = _checked(labels, probabilities)
    positives = y.sum()
    if positives == 0:
        return float("nan")
    tps, fps = _by_threshold(y, p)
    precision = tps / (tps + fps)
    recall = tps / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier(labels: ArrayLike, probabilities: ArrayLike) -> float:
    y, p = _checked(labels, probabilities)
    return float(np.mean((p - y) ** 2))


def reliability_table(labels: ArrayLike, probabilities: ArrayLike, bins: int = 10
                      ) -> tuple[ReliabilityBin, ...]:
    """Mean predicted probability, observed rate and count in equal-width probability bins."""
    y, p = _checked(labels, probabilities)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)  # p == 1.0 goes in the last bin
    counts = np.bincount(index, minlength=bins)
    sum_p = np.bincount(index, weights=p, minlength=bins)
    sum_y = np.bincount(index, weights=y, minlength=bins)
    table = []
    for b in range(bins):
        n = int(counts[b])
        table.append(ReliabilityBin(
            lower=b / bins, upper=(b + 1) / bins,
            mean_predicted=float(sum_p[b] / n) if n else None,
            observed_rate=float(sum_y[b] / n) if n else None,
            count=n))
    return tuple(table)


def evaluate(labels: ArrayLike, probabilities: ArrayLike, bins: int = 10) -> Evaluation:
    y, p = _checked(labels, probabilities)
    return Evaluation(rows=int(y.size), positives=int(y.sum()), base_rate=float(y.mean()),
                      roc_auc=roc_auc(y, p), pr_auc=pr_auc(y, p), brier=brier(y, p),
                      reliability=reliability_table(y, p, bins))
