"""Scoring a batch of profiles: lead score, churn risk, lifetime value and next best action,
as rows of ``customer_scores`` and records of ``customer.scores``.

Each person scored gives four predictions (``KINDS``), each one row and one record with the
model (or rule set) that made it in ``model_version``:
- ``lead``: the LightGBM lead model's calibrated probability x 100 with its top positive drivers
  as reasons (per-feature contributions -> reason codes), or, with no model loaded, the
  explained rules (``rules.lead_rules``, version ``rules-v1``, probability None);
- ``churn``: the explained behaviour-change score against the person's own baseline
  (``churn.assess``, version ``churn-rules-v1``), or the LightGBM churn model's probability x 100
  when one is loaded; label ``at_risk`` or ``ok`` with hysteresis from the previous label;
- ``clv``: expected value over 12 months (discounted 1 % a month) from the person's
  frequency/recency/monetary summary (BG/NBD + Gamma-Gamma, in weeks); probability = P(alive);
  a person without a purchase is ``not_a_customer`` with value 0 and says so in its reason;
- ``next_best_action``: ``rules.next_best_action`` over the profile and the three scores;
  score = the larger of lead score and churn risk (how pressing the action is); with a
  personalisation model, its details also hold recommendations and the best contact time
  (``recommend_profile.details``).

Invariants: pure over its inputs (the models are read, never changed); out-of-range features
are clipped to the training range by ``Scorer`` and named in ``details['clipped']``; a row
carries the position of the profile version it scored and ``_version`` = that version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any, Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from streams.kernel.records import Columns, OutputRecord, output_records
from streams.predictive import rules
from streams.predictive.churn import (
    DEFAULT_POLICY,
    ChurnAssessment,
    ChurnPolicy,
    ChurnSignals,
    assess,
    at_risk,
    quiet,
)
from streams.predictive.clv import BgNbdParams, month_ends, purchases_if_alive, value_columns
from streams.predictive.contract import CUSTOMER_SCORES
from streams.predictive.features_columns import feature_matrix
from streams.predictive.model import Scorer
from streams.predictive.models import CDNOW_CLV, ClvModel
from streams.predictive.recommend_profile import Personalisation
from streams.predictive.recommend_profile import details as personal_details
from streams.predictive.rfm import RfmSummary, summary_arrays

KINDS: Final = ("lead", "churn", "clv", "next_best_action")
CHURN_RULES_VERSION: Final = "churn-rules-v1"
WEEKS_12_MONTHS: Final = 365.25 / 7
RECORD_FIELDS: Final = ("person_id", "kind", "score", "probability", "label", "reasons",
                        "details", "model_version", "profile_version", "scored_at")
SCORE_COLUMNS: Final = (*RECORD_FIELDS, "_topic", "_partition", "_offset", "_version")


@dataclass(frozen=True)
class Models:
    """What scores: the loaded LightGBM scorers (None: the rules) and the CLV parameters."""

    lead: Scorer | None = None
    churn: Scorer | None = None
    clv: ClvModel = CDNOW_CLV
    actions: rules.ActionPolicy = rules.DEFAULT_ACTIONS
    churn_policy: ChurnPolicy = DEFAULT_POLICY
    #: recommendations and the best contact time on the next best action (None: none)
    personalisation: Personalisation | None = None


class Scored(NamedTuple):
    """One person's profile version to score and where it came from."""

    profile: Mapping[str, Any]
    features: Mapping[str, float]  # ``lead_features`` as of the profile's ``updated_at``
    signals: ChurnSignals  # ``churn_signals`` as of the same instant
    summary: RfmSummary | None  # the purchases folded so far, in weeks (None: no purchase)
    was_at_risk: bool
    topic: str
    partition: int
    offset: int


class Prediction(NamedTuple):
    """One score of one person (a tuple: four are made per person, a frozen dataclass's
    ``__init__`` cost more than the rest of their making)."""

    kind: str
    score: float
    probability: float | None
    label: str
    reasons: tuple[str, ...]
    details: dict[str, str]
    model_version: str


def _version(scorer: Scorer) -> str:
    return f"{scorer.artefact.name}-{scorer.version}"


def _lead_label(score: float, policy: rules.ActionPolicy) -> str:
    return "hot" if score >= policy.hot_lead_at else "warm" if score >= policy.warm_lead_at \
        else "cold"


def _model_predictions(scorer: Scorer, rows: Sequence[Mapping[str, float]], kind: str,
                       label: Any) -> list[Prediction]:
    # rows that are a batch's feature matrix (``features_columns``) go in at once
    matrix = feature_matrix(rows, scorer.feature_names)
    lines = scorer.score_lines(scorer.matrix(rows) if matrix is None else matrix)
    version = _version(scorer)
    out = []
    for score, p, positive, negative, clipped in zip(lines.scores, lines.probabilities,
                                                     lines.positive, lines.negative,
                                                     lines.clipped, strict=True):
        details = {"negative": "; ".join(negative)}
        if clipped:
            details["clipped"] = ",".join(clipped)
        out.append(Prediction(kind, score, p, label(score), positive, details, version))
    return out


#: ``clv.purchases_if_alive`` at the 12 month ends and the horizon, per (parameters, repeat
#: purchases, age in weeks): the costly part of a lifetime value (13 hypergeometric functions)
#: depends on nothing else, and few pairs recur (ages are whole days), so a person rescored
#: the same day, or a customer like another, reuses it. A memo of a pure function: the same
#: numbers as computing them again; cleared when it holds ``_IF_ALIVE_LIMIT`` entries.
_IF_ALIVE: dict[tuple[BgNbdParams, float, float], NDArray[np.float64]] = {}
_IF_ALIVE_LIMIT: Final = 200_000
_IF_ALIVE_AT: Final = (*month_ends("weeks"), WEEKS_12_MONTHS)


def _if_alive(params: BgNbdParams, x: NDArray[np.float64], T: NDArray[np.float64]
              ) -> NDArray[np.float64]:
    """(13, customers): purchases if alive at each of ``_IF_ALIVE_AT``, from the memo."""
    keys = [(params, a, b) for a, b in zip(x.tolist(), T.tolist(), strict=True)]
    missing = sorted({k[1:] for k in keys if k not in _IF_ALIVE})
    if missing:
        if len(_IF_ALIVE) + len(missing) > _IF_ALIVE_LIMIT:
            _IF_ALIVE.clear()
        mx, mT = (np.asarray(c, dtype=np.float64) for c in zip(*missing, strict=True))
        computed = purchases_if_alive(params, _IF_ALIVE_AT, mx, mT)
        for j, (a, b) in enumerate(missing):
            _IF_ALIVE[(params, a, b)] = computed[:, j]
    if not keys:
        return np.zeros((len(_IF_ALIVE_AT), 0))
    return np.stack([_IF_ALIVE[k] for k in keys], axis=1)


#: per count of repeat purchases, its text and reason line (counts are small integers)
_REPEATS: dict[int, tuple[str, str]] = {}
_REPEATS_LIMIT: Final = 4_096


def _clv(models: Models, summaries: Sequence[RfmSummary | None]) -> list[Prediction]:
    customers = [s for s in summaries if s is not None]
    if {s.unit for s in customers} - {"weeks"}:
        raise ValueError("the CLV parameters are in weeks; summaries must be too")
    x, t_x, T, m = summary_arrays(customers)
    bgnbd = models.clv.bgnbd
    purchases, alive, order_value, lifetime = (
        c.tolist() for c in value_columns(bgnbd, models.clv.gamma_gamma, x, t_x, T, m,
                                          WEEKS_12_MONTHS, "weeks",
                                          if_alive=_if_alive(bgnbd, x, T)))
    version = models.clv.version
    out = []
    i = 0
    for summary in summaries:
        if summary is None:
            out.append(Prediction("clv", 0.0, None, "not_a_customer",
                                  ("NO_PURCHASE: no purchase yet",), {}, version))
            continue
        p_alive = alive[i]
        frequency = summary.frequency
        repeats = _REPEATS.get(frequency)
        if repeats is None:
            repeats = (str(frequency), f"REPEAT_PURCHASES: {frequency} repeat purchases")
            if len(_REPEATS) < _REPEATS_LIMIT:
                _REPEATS[frequency] = repeats
        details = {"expected_purchases_12m": f"{purchases[i]:.4f}",
                   "expected_order_value": f"{order_value[i]:.2f}",
                   "probability_alive": f"{p_alive:.4f}",
                   "frequency": repeats[0], "recency_weeks": f"{summary.recency:.2f}",
                   "age_weeks": f"{summary.T:.2f}", "currency": summary.currency or ""}
        reasons = (repeats[1], f"ALIVE: {p_alive:.0%} likely still active")
        out.append(Prediction("clv", round(lifetime[i], 2), p_alive, summary.currency or "",
                              reasons, details, version))
        i += 1
    return out


def _churn_prediction(a: ChurnAssessment) -> Prediction:
    return Prediction("churn", round(a.score, 2), None, "at_risk" if a.at_risk else "ok",
                      tuple(f"{r.code.upper()}: {r.text}" for r in a.reasons), {},
                      CHURN_RULES_VERSION)


def predict(models: Models, batch: Sequence[Scored]) -> list[list[Prediction]]:
    """Per person of ``batch``, the four predictions in ``KINDS`` order."""
    features = [s.features for s in batch]
    policy = models.actions
    if models.lead is not None:
        lead = _model_predictions(models.lead, features, "lead",
                                  lambda score: _lead_label(score, policy))
    else:
        lead = []
        for f in features:
            r = rules.lead_rules(f)
            lead.append(Prediction("lead", r.score, None, _lead_label(r.score, policy), r.reasons,
                                   {}, rules.LEAD_RULES_VERSION))
    signals = [s.signals for s in batch]
    if models.churn is not None:
        churn_rows = [{**f, **{k: float(v) for k, v in sig.items()}}  # type: ignore[arg-type]
                      for f, sig in zip(features, signals, strict=True)]
        risk = _model_predictions(models.churn, churn_rows, "churn", lambda score: "")
        risk = [Prediction(p.kind, p.score, p.probability,
                           "at_risk" if at_risk(p.score, s.was_at_risk, models.churn_policy)
                           else "ok", p.reasons, p.details, p.model_version)
                for p, s in zip(risk, batch, strict=True)]
    else:
        risk = []
        # a quiet customer's assessment is that of no signals: one each way of ``was_at_risk``,
        # and so is its prediction (made afresh per person: each has a ``details`` of its own)
        calm = {was: _churn_prediction(assess(ChurnSignals(), was, models.churn_policy))
                for was in (False, True)}
        for sig, s, still in zip(signals, batch, quiet(signals, models.churn_policy).tolist(),
                                 strict=True):
            if still:
                c = calm[s.was_at_risk]
                risk.append(Prediction(c.kind, c.score, None, c.label, c.reasons, {},
                                       CHURN_RULES_VERSION))
            else:
                risk.append(_churn_prediction(assess(sig, s.was_at_risk, models.churn_policy)))
    value = _clv(models, [s.summary for s in batch])
    out = []
    personal = models.personalisation
    for i, s in enumerate(batch):
        action = rules.next_best_action(
            features[i], lead[i].score, risk[i].score, value[i].score,
            s.profile.get("attributes") or {}, tuple(s.profile.get("tags") or ()), policy)
        if personal is not None:
            action.details.update(personal_details(personal, s.profile,
                                                   int(s.profile["updated_at"])))
        out.append([lead[i], risk[i], value[i], Prediction(
            "next_best_action", max(lead[i].score, risk[i].score), None, action.label,
            action.reasons, action.details, rules.NBA_VERSION)])
    return out


def rows_and_records(batch: Sequence[Scored], predictions: Sequence[Sequence[Prediction]],
                     scored_at: int) -> tuple[Columns, list[OutputRecord]]:
    """The rows, built column by column, and one record per row whose value holds the same
    objects as the row (nothing downstream changes either; every prediction's ``details`` is
    a dict of its own, so none is copied). The columns are the predictions transposed in one
    pass (``zip``); a score not finite is 0, a probability clipped to [0, 1]."""
    counts = [len(predicted) for predicted in predictions]
    flat = [p for predicted in predictions for p in predicted]
    if not flat:
        return {name: [] for name in SCORE_COLUMNS}, []

    def spread(values: Iterable[Any]) -> list[Any]:
        """One value per profile -> one per row."""
        return list(chain.from_iterable(map(repeat, values, counts)))

    persons = spread(str(s.profile["person_id"]) for s in batch)
    versions = spread(int(s.profile["version"]) for s in batch)
    kinds, scores, probabilities, labels, reasons, details, models = (
        list(c) for c in zip(*flat, strict=True))
    raw = np.asarray(scores, dtype=np.float64)  # float() of each, as one array
    finite = np.where(np.isfinite(raw), raw, 0.0).tolist()
    clipped = [None if p is None else min(1.0, max(0.0, p)) for p in probabilities]
    reason_lists = list(map(list, reasons))
    at = [scored_at] * len(flat)
    columns: Columns = {
        "person_id": persons, "kind": kinds, "score": finite, "probability": clipped,
        "label": labels, "reasons": reason_lists, "details": details, "model_version": models,
        "profile_version": versions, "scored_at": at,
        "_topic": spread(s.topic for s in batch), "_partition": spread(s.partition for s in batch),
        "_offset": spread(s.offset for s in batch), "_version": list(versions)}
    values = [{"person_id": a, "kind": b, "score": c, "probability": d, "label": e, "reasons": f,
               "details": g, "model_version": h, "profile_version": i, "scored_at": j}
              for a, b, c, d, e, f, g, h, i, j in zip(persons, kinds, finite, clipped, labels,
                                                      reason_lists, details, models, versions,
                                                      at, strict=True)]
    return columns, output_records(CUSTOMER_SCORES, persons, values)
