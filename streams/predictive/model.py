"""Batched lead scoring with a verified model artefact: score 0-100, reasons, model version.

Invariants: a ``Scorer`` exists only for an artefact that loaded and verified (see
``model_artefact``), so a broken model raises instead of scoring 0. Every result carries the
artefact's version. Inputs outside the range seen in training are clipped to it before
scoring and named in ``clipped``; reasons quote the value as received. NaN means missing and is
scored as LightGBM learnt to treat missing values. Score = calibrated probability * 100, where
the raw probability is the sigmoid of the summed contributions (``model_contributions``:
TreeSHAP by default, path attribution on request), so score and reasons come from one pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

from streams.predictive.model_artefact import ArtefactError, ModelArtefact, load_artefact
from streams.predictive.model_contributions import Contributions, PathAttribution, shap_contributions
from streams.predictive.reasons import Reason, ReasonCode, reason_codes_for, reason_lines, top_reasons


@dataclass(frozen=True)
class ScoreResult:
    score: float  # 0-100
    probability: float  # calibrated
    model_version: str
    positive: tuple[Reason, ...]  # drivers raising the score, strongest first
    negative: tuple[Reason, ...]  # drivers lowering it, strongest first
    clipped: tuple[str, ...]  # features whose value was outside the training range


@dataclass(frozen=True, slots=True)
class ScoreLines:
    """A batch's scores as columns, one entry per row."""

    scores: list[float]  # 0-100
    probabilities: list[float]  # calibrated
    positive: list[tuple[str, ...]]  # "CODE: text" of the drivers raising the score
    negative: list[tuple[str, ...]]  # of those lowering it, strongest first
    clipped: list[tuple[str, ...]]  # features whose value was outside the training range


@dataclass(frozen=True, eq=False)
class Scorer:
    artefact: ModelArtefact
    booster: lgb.Booster
    version: str
    codes: tuple[ReasonCode, ...]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    top_k: int = 3
    num_threads: int = 1
    path: PathAttribution | None = None  # set: path attribution; None: TreeSHAP
    min_effect: float = 0.05  # log-odds; smaller pushes are not worth a reason

    @staticmethod
    def from_artefact(artefact: ModelArtefact, reason_codes: Mapping[str, ReasonCode] | None = None,
                      top_k: int = 3, num_threads: int = 1, contributions: Contributions = "shap"
                      ) -> Scorer:
        try:
            booster = lgb.Booster(model_str=artefact.model_text)
        except lgb.basic.LightGBMError as error:
            raise ArtefactError(f"model {artefact.version}: LightGBM cannot read the model: {error}"
                                ) from error
        if tuple(booster.feature_name()) != artefact.feature_names:
            raise ArtefactError(f"model {artefact.version}: the model's features differ from features.json")
        names = artefact.feature_names
        return Scorer(artefact, booster, artefact.version, reason_codes_for(names, reason_codes or {}),
                      np.array([f.minimum for f in artefact.features]),
                      np.array([f.maximum for f in artefact.features]), top_k, num_threads,
                      PathAttribution.from_booster(booster) if contributions == "path" else None)

    @staticmethod
    def load(directory: Path, reason_codes: Mapping[str, ReasonCode] | None = None, top_k: int = 3,
             num_threads: int = 1, contributions: Contributions = "shap") -> Scorer:
        return Scorer.from_artefact(load_artefact(directory), reason_codes, top_k, num_threads, contributions)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.artefact.feature_names

    def matrix(self, rows: Sequence[Mapping[str, float | None]]) -> NDArray[np.float64]:
        """Rows as dicts to the model's column order; absent or None values become NaN."""
        names = self.feature_names
        if not rows:
            return np.full((0, len(names)), np.nan)
        # numpy reads None as NaN in a float array, so one conversion of nested lists does it
        if len(names) > 1:
            pick = itemgetter(*names)  # every name at once, in C: rows usually have them all
            try:
                return np.array([pick(row) for row in rows], dtype=np.float64)
            except KeyError:
                pass
        return np.array([[row.get(name) for name in names] for row in rows], dtype=np.float64)

    def _checked(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        x = np.asarray(values, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.codes):
            raise ValueError(f"expected (rows, {len(self.codes)}) values, got {x.shape}")
        return x

    def _scored(self, values: NDArray[np.float64], reasons: bool
                ) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64] | None,
                           NDArray[np.float64]]:
        """(values, out of range, contributions without the bias or None, calibrated
        probability) of a (rows, features) matrix in the model's feature order."""
        x = self._checked(values)
        present = ~np.isnan(x)
        out_of_range = present & ((x < self.lower) | (x > self.upper))
        clipped_x = np.where(present, np.clip(x, self.lower, self.upper), np.nan)
        contrib = None
        if reasons:
            # One pass gives the contributions and, summed with the bias, the raw log-odds.
            full = (shap_contributions(self.booster, clipped_x, self.num_threads) if self.path is None
                    else self.path.contributions(self.booster, clipped_x, self.num_threads))
            margin = full.sum(axis=1)
            contrib = full[:, :-1]
        else:
            margin = np.asarray(self.booster.predict(clipped_x, raw_score=True, num_threads=self.num_threads),
                                dtype=np.float64)
        probability = self.artefact.calibrator.apply(1.0 / (1.0 + np.exp(-margin)))
        return x, out_of_range, contrib, probability

    def _clipped(self, out_of_range: NDArray[np.bool_]) -> list[tuple[str, ...]]:
        names = self.feature_names
        out: list[tuple[str, ...]] = [()] * out_of_range.shape[0]
        for i in np.flatnonzero(out_of_range.any(axis=1)).tolist():
            out[i] = tuple(names[j] for j in np.flatnonzero(out_of_range[i]).tolist())
        return out

    def score(self, values: NDArray[np.float64], reasons: bool = True) -> list[ScoreResult]:
        """Score a (rows, features) matrix in the model's feature order."""
        if self._checked(values).shape[0] == 0:
            return []
        x, out_of_range, contrib, probability = self._scored(values, reasons)
        drivers: list[tuple[tuple[Reason, ...], tuple[Reason, ...]]] = (
            top_reasons(self.feature_names, self.codes, x, contrib, self.top_k, self.min_effect)
            if contrib is not None else [((), ())] * x.shape[0])
        return [ScoreResult(round(p * 100.0, 2), p, self.version, positive, negative, clipped)
                for p, (positive, negative), clipped in zip(
                    probability.tolist(), drivers, self._clipped(out_of_range), strict=True)]

    def score_lines(self, values: NDArray[np.float64]) -> ScoreLines:
        """``score`` with reasons for the stream: columns, and each reason as its line
        ``"CODE: text"`` (``reasons.reason_lines``), with no object per row or reason."""
        if self._checked(values).shape[0] == 0:
            return ScoreLines([], [], [], [], [])
        x, out_of_range, contrib, probability = self._scored(values, True)
        assert contrib is not None
        positive, negative = reason_lines(self.codes, x, contrib, self.top_k, self.min_effect)
        p = probability.tolist()
        return ScoreLines(np.round(probability * 100.0, 2).tolist(), p, positive, negative,
                          self._clipped(out_of_range))

    def score_rows(self, rows: Sequence[Mapping[str, float | None]], reasons: bool = True
                   ) -> list[ScoreResult]:
        return self.score(self.matrix(rows), reasons)
