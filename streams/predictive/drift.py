"""Population stability index (PSI) between a training reference and a recent window.

Invariants: bins are cut at quantiles of the reference (training) values only, so the
reference fractions are close to equal and the same cut points are used for every later
window; missing values (NaN) have a bin of their own; empty bins are floored at ``EPSILON``
so the PSI is always finite. PSI = sum((recent - reference) * ln(recent / reference)); the
usual reading is < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 large shift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

EPSILON = 1e-4


@dataclass(frozen=True)
class BinnedReference:
    """Interior cut points and the reference share of each bin; the last share is missing values."""

    cuts: tuple[float, ...]
    fractions: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"cuts": list(self.cuts), "fractions": list(self.fractions)}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> BinnedReference:
        ref = BinnedReference(tuple(float(c) for c in data["cuts"]),
                              tuple(float(f) for f in data["fractions"]))
        if len(ref.fractions) != len(ref.cuts) + 2:
            raise ValueError("a binned reference needs len(cuts) + 2 fractions")
        return ref


def bin_fractions(cuts: Sequence[float], values: ArrayLike) -> NDArray[np.float64]:
    """Share of values per bin: value < cuts[0], ..., >= cuts[-1], then NaN."""
    v = np.asarray(values, dtype=np.float64).ravel()
    missing = np.isnan(v)
    index = np.searchsorted(np.asarray(cuts, dtype=np.float64), v[~missing], side="right")
    counts = np.bincount(index, minlength=len(cuts) + 1).astype(np.float64)
    counts = np.r_[counts, float(missing.sum())]
    return np.asarray(counts / v.size if v.size else counts, dtype=np.float64)


def reference_bins(values: ArrayLike, bins: int = 10) -> BinnedReference:
    """Quantile cut points of the reference values (repeated quantiles merged) and their shares."""
    v = np.asarray(values, dtype=np.float64).ravel()
    present = v[~np.isnan(v)]
    if present.size == 0:
        cuts: tuple[float, ...] = ()
    else:
        # Observed values as cut points, so a discrete feature is cut between its values.
        quantiles = np.quantile(present, np.linspace(0.0, 1.0, bins + 1)[1:-1], method="inverted_cdf")
        # A cut at the minimum would leave its lower bin empty by construction.
        cuts = tuple(float(c) for c in np.unique(quantiles) if c > present.min())
    return BinnedReference(cuts, tuple(float(f) for f in bin_fractions(cuts, v)))


def psi_from_fractions(reference: ArrayLike, recent: ArrayLike) -> float:
    e = np.maximum(np.asarray(reference, dtype=np.float64), EPSILON)
    a = np.maximum(np.asarray(recent, dtype=np.float64), EPSILON)
    if e.shape != a.shape:
        raise ValueError("reference and recent bins differ")
    return float(np.sum((a - e) * np.log(a / e)))


def psi(reference: BinnedReference, recent: ArrayLike) -> float:
    """PSI of recent values against a reference binned from training."""
    return psi_from_fractions(reference.fractions, bin_fractions(reference.cuts, recent))


def psi_between(training: ArrayLike, recent: ArrayLike, bins: int = 10) -> float:
    return psi(reference_bins(training, bins), recent)


@dataclass(frozen=True)
class DriftReference:
    """Per-feature and score references taken at training time, stored with the model."""

    features: dict[str, BinnedReference]
    score: BinnedReference

    def to_dict(self) -> dict[str, Any]:
        return {"features": {k: v.to_dict() for k, v in self.features.items()},
                "score": self.score.to_dict()}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> DriftReference:
        return DriftReference({k: BinnedReference.from_dict(v) for k, v in data["features"].items()},
                              BinnedReference.from_dict(data["score"]))


def drift_reference(names: Sequence[str], values: NDArray[np.float64], scores: ArrayLike,
                    bins: int = 10) -> DriftReference:
    return DriftReference({name: reference_bins(values[:, j], bins) for j, name in enumerate(names)},
                          reference_bins(scores, bins))


def drift_report(reference: DriftReference, names: Sequence[str], values: NDArray[np.float64],
                 scores: ArrayLike) -> dict[str, float]:
    """PSI of every feature (by name) and of the score (key ``"score"``) for a recent window."""
    out = {name: psi(reference.features[name], values[:, j]) for j, name in enumerate(names)}
    out["score"] = psi(reference.score, scores)
    return out


# PSI of the lead score by day against the training reference. Parameters: the reference's
# ``cuts`` and ``expected`` shares without the missing-value bin (a score is never NULL), the
# model version and a [start, end) range. ``sumForEach`` adds up one-hot bin vectors so that a
# bin that is empty on a day still counts (with the EPSILON floor), as in ``psi`` above.
SCORE_PSI_BY_DAY_SQL = """\
WITH
    {cuts:Array(Float64)} AS cuts,
    {expected:Array(Float64)} AS expected,
    0.0001 AS eps
SELECT
    day,
    rows,
    arraySum(
        (a, e) -> (greatest(a, eps) - greatest(e, eps)) * log(greatest(a, eps) / greatest(e, eps)),
        arrayMap(n -> n / rows, counts),
        expected
    ) AS psi
FROM
(
    SELECT
        toDate(scored_at, 'UTC') AS day,
        count() AS rows,
        sumForEach(arrayMap(i -> toUInt64(arrayCount(c -> score >= c, cuts) = i),
                            range(length(cuts) + 1))) AS counts
    FROM lead_scores
    WHERE model_version = {model_version:String}
      AND scored_at >= {start:DateTime64(3, 'UTC')}
      AND scored_at < {end:DateTime64(3, 'UTC')}
    GROUP BY day
)
ORDER BY day
"""
