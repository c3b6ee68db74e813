"""Probability calibration of a classifier's raw output: isotonic or Platt (identity on request),
chosen on held-out data.

Invariants: a calibrator maps raw probabilities in [0, 1] to calibrated probabilities in
[0, 1], is monotone non-decreasing (so it never changes the ranking, only the scale), and is
plain data (floats) that round-trips through JSON exactly. The method is chosen on time-ordered
halves of the calibration window (fit on one half, score the other, both ways), so the choice
is made on rows that the candidate did not see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

Method = Literal["isotonic", "platt", "identity"]
_EPS = 1e-6


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.clip(p, _EPS, 1.0 - _EPS)
    return np.asarray(np.log(q / (1.0 - q)), dtype=np.float64)


@dataclass(frozen=True)
class Calibrator:
    """``isotonic``: piecewise-linear through (xs, ys); ``platt``: sigmoid(a * logit(p) + b);
    ``identity``: the raw probability (a candidate when the raw model is already calibrated)."""

    method: Method
    xs: tuple[float, ...] = ()
    ys: tuple[float, ...] = ()
    a: float = 1.0
    b: float = 0.0

    def apply(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        p = np.asarray(raw, dtype=np.float64)
        if self.method == "isotonic":
            return np.asarray(np.interp(p, self.xs, self.ys), dtype=np.float64)
        if self.method == "identity":
            return np.asarray(np.clip(p, 0.0, 1.0), dtype=np.float64)
        z = self.a * _logit(p) + self.b
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "xs": list(self.xs), "ys": list(self.ys), "a": self.a, "b": self.b}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Calibrator:
        method = data["method"]
        if method not in ("isotonic", "platt", "identity"):
            raise ValueError(f"unknown calibration method {method!r}")
        xs = tuple(float(x) for x in data["xs"])
        ys = tuple(float(y) for y in data["ys"])
        if method == "isotonic" and (len(xs) < 1 or len(xs) != len(ys)):
            raise ValueError("isotonic calibrator needs as many xs as ys, at least one")
        return Calibrator(method, xs, ys, float(data["a"]), float(data["b"]))


def fit_isotonic(raw: NDArray[np.float64], labels: NDArray[np.float64]) -> Calibrator:
    """Pool-adjacent-violators on rows sorted by raw probability; ties are pooled first."""
    order = np.argsort(raw, kind="mergesort")
    x_sorted, y_sorted = raw[order], labels[order].astype(np.float64)
    xs_unique, start = np.unique(x_sorted, return_index=True)
    weights = np.diff(np.r_[start, x_sorted.size]).astype(np.float64)
    means = np.add.reduceat(y_sorted, start) / weights
    # Blocks of (mean, weight, first x, last x), merged while they violate monotonicity.
    block_mean: list[float] = []
    block_weight: list[float] = []
    block_lo: list[float] = []
    block_hi: list[float] = []
    for m, w, x in zip(means.tolist(), weights.tolist(), xs_unique.tolist(), strict=True):
        block_mean.append(m)
        block_weight.append(w)
        block_lo.append(x)
        block_hi.append(x)
        while len(block_mean) > 1 and block_mean[-2] >= block_mean[-1]:
            w2 = block_weight[-2] + block_weight[-1]
            block_mean[-2] = (block_mean[-2] * block_weight[-2] + block_mean[-1] * block_weight[-1]) / w2
            block_weight[-2] = w2
            block_hi[-2] = block_hi[-1]
            del block_mean[-1], block_weight[-1], block_lo[-1], block_hi[-1]
    xs: list[float] = []
    ys: list[float] = []
    for m, lo, hi in zip(block_mean, block_lo, block_hi, strict=True):
        xs.append(lo)
        ys.append(m)
        if hi != lo:
            xs.append(hi)
            ys.append(m)
    return Calibrator("isotonic", tuple(xs), tuple(ys))


def fit_platt(raw: NDArray[np.float64], labels: NDArray[np.float64], l2: float = 1e-3,
              iterations: int = 50) -> Calibrator:
    """Logistic regression of the label on logit(raw) by Newton's method, Platt's smoothed targets."""
    z = _logit(raw)
    y = labels.astype(np.float64)
    positives, negatives = y.sum(), y.size - y.sum()
    # Platt (1999): targets pulled off 0/1 so that a separable window does not diverge.
    t = np.where(y > 0.5, (positives + 1.0) / (positives + 2.0), 1.0 / (negatives + 2.0))
    a, b = 1.0, 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(a * z + b)))
        r = p - t
        w = p * (1.0 - p)
        grad = np.array([np.dot(r, z) + l2 * a, r.sum()])
        hess = np.array([[np.dot(w, z * z) + l2, np.dot(w, z)], [np.dot(w, z), w.sum() + 1e-12]])
        step = np.linalg.solve(hess, grad)
        a, b = a - float(step[0]), b - float(step[1])
        if np.abs(step).max() < 1e-10:
            break
    return Calibrator("platt", a=a, b=b)


def _fit(method: Method, raw: NDArray[np.float64], labels: NDArray[np.float64]) -> Calibrator:
    if method == "identity":
        return Calibrator("identity")
    return fit_isotonic(raw, labels) if method == "isotonic" else fit_platt(raw, labels)


def choose_calibrator(raw: NDArray[np.float64], labels: NDArray[np.float64],
                      methods: Sequence[Method] = ("isotonic", "platt"),
                      ) -> tuple[Calibrator, dict[str, float]]:
    """Fit each method on the calibration window and keep the one with the lower held-out Brier.

    ``raw`` and ``labels`` are in time order. Returns the chosen calibrator, refitted on the
    whole window, and each method's two-fold Brier score.
    """
    if raw.size < 4 or labels.min() == labels.max():
        raise ValueError("calibration window needs at least 4 rows and both classes")
    half = raw.size // 2
    folds = ((slice(0, half), slice(half, None)), (slice(half, None), slice(0, half)))
    scores: dict[str, float] = {}
    for method in methods:
        squared = 0.0
        for fit_on, score_on in folds:
            calibrated = _fit(method, raw[fit_on], labels[fit_on]).apply(raw[score_on])
            squared += float(np.sum((calibrated - labels[score_on]) ** 2))
        scores[method] = squared / raw.size
    best: Method = min(methods, key=lambda m: scores[m])
    return _fit(best, raw, labels), scores
