"""The Fellegi-Sunter model: per-field m/u probabilities, fitted without labels.

A comparison vector gives each field a level: 0 disagree, 1 partial agreement, 2 agreement, -1
missing (a missing field adds no evidence). For a field f at level l,
``m[f][l] = P(level l | same person)`` and ``u[f][l] = P(level l | different persons)``; the
field's weight is ``log2(m/u)`` and a pair's match weight is the sum over present fields.
The posterior that a pair is a match is ``1 / (1 + 2^-(weight + log2(λ/(1-λ))))`` where λ is the
prior share of matches among all pairs.

How each part is estimated, with no labels:
- ``u`` from random record pairs (almost all of which are different persons); blocked
  candidates are not used for ``u`` because blocking makes non-matches agree on the blocking
  keys far more often than chance.
- ``m`` and the share of matches among the candidates by EM (a two-class latent mixture with
  conditionally independent fields) over the blocked candidate pairs; the EM's own u is a
  nuisance parameter and is discarded.
- λ = (share of matches among candidates * number of candidates) / number of all pairs.

Everything is deterministic for the same inputs (no random state here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

LEVELS: Final = 3
MISSING: Final = -1
_SMOOTH: Final = 0.5  # pseudo-count per level, so no level has probability 0 (or weight ±inf)

Levels = npt.NDArray[np.int8]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FellegiSunterModel:
    fields: tuple[str, ...]
    m: tuple[tuple[float, ...], ...]
    u: tuple[tuple[float, ...], ...]
    prior: float
    """λ: the prior probability that a random pair of records is the same person."""
    candidate_match_share: float
    iterations: int

    def weight_table(self) -> Floats:
        """log2(m/u), one row per field, one column per level."""
        return np.log2(np.asarray(self.m, dtype=np.float64) / np.asarray(self.u, dtype=np.float64))

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1.0 - self.prior))

    def field_weights(self, levels: Levels) -> Floats:
        """Per-pair, per-field weights (0 where the field is missing)."""
        table = self.weight_table()
        out = np.zeros(levels.shape, dtype=np.float64)
        for j in range(levels.shape[1]):
            present = levels[:, j] >= 0
            out[present, j] = table[j, levels[present, j]]
        return out

    def probability(self, match_weight: Floats) -> Floats:
        return 1.0 / (1.0 + np.exp2(-(match_weight + self.prior_weight)))


def estimate_u(levels: Levels) -> Floats:
    """Level frequencies among (random) non-matching pairs, smoothed; shape (fields, LEVELS)."""
    u = np.empty((levels.shape[1], LEVELS), dtype=np.float64)
    for j in range(levels.shape[1]):
        col = levels[:, j]
        counts = np.bincount(col[col >= 0], minlength=LEVELS)[:LEVELS].astype(np.float64) + _SMOOTH
        u[j] = counts / counts.sum()
    return u


def _one_hot(levels: Levels) -> list[Floats]:
    return [(levels[:, j, None] == np.arange(LEVELS)[None, :]).astype(np.float64)
            for j in range(levels.shape[1])]


def em(
    levels: Levels, max_iterations: int = 200, tolerance: float = 1e-7
) -> tuple[Floats, Floats, float, int]:
    """EM for the two-class mixture over candidate comparison vectors: (m, u, share, iterations)."""
    n, f = levels.shape
    m = np.tile(np.array([0.05, 0.15, 0.80]), (f, 1))
    u = np.tile(np.array([0.80, 0.15, 0.05]), (f, 1))
    share = 0.1
    onehot = _one_hot(levels)
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - the count is returned
        log_m = np.zeros(n)
        log_u = np.zeros(n)
        for j in range(f):
            log_m += onehot[j] @ np.log(m[j])
            log_u += onehot[j] @ np.log(u[j])
        odds = np.clip(log_u - log_m + math.log((1.0 - share) / share), -700.0, 700.0)
        g = 1.0 / (1.0 + np.exp(odds))
        for j in range(f):
            cm = g @ onehot[j] + 1e-3
            cu = (1.0 - g) @ onehot[j] + 1e-3
            m[j] = cm / cm.sum()
            u[j] = cu / cu.sum()
        new_share = float(np.clip(g.mean(), 1e-6, 1.0 - 1e-6))
        if abs(new_share - share) < tolerance:
            share = new_share
            break
        share = new_share
    return m, u, share, iterations


def fit(
    fields: Sequence[str],
    candidate_levels: Levels,
    random_levels: Levels,
    n_records: int,
    max_iterations: int = 200,
) -> FellegiSunterModel:
    """m and the match share by EM on the candidates, u from random pairs, λ from both."""
    m, _, share, iterations = em(candidate_levels, max_iterations)
    u = estimate_u(random_levels)
    all_pairs = max(1.0, n_records * (n_records - 1) / 2.0)
    prior = min(max(share * len(candidate_levels) / all_pairs, 1e-12), 0.5)
    return FellegiSunterModel(
        tuple(fields),
        tuple(tuple(float(x) for x in row) for row in m),
        tuple(tuple(float(x) for x in row) for row in u),
        prior,
        share,
        iterations,
    )
