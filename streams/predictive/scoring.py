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

A batch is predicted a kind at a time (``predict_columns``: one ``KindColumns`` per kind, each
figure computed and its text formatted for the whole batch at once), and its rows are those
columns interleaved person by person (``rows_and_records``); ``predict`` gives the same
predictions person by person.

Invariants: pure over its inputs (the models are read, never changed); out-of-range features
are clipped to the training range by ``Scorer`` and named in ``details['clipped']``; a row
carries the position of the profile version it scored and ``_version`` = that version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
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
from streams.predictive.features_columns import feature_columns, feature_matrix
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


class KindColumns(NamedTuple):
    """One kind's predictions for a whole batch, as columns (entry i: the batch's person i):
    what ``predict_columns`` makes and ``rows_and_records`` reads, with no object per person."""

    kind: str
    scores: list[float]
    probabilities: list[float | None]
    labels: list[str]
    reasons: list[tuple[str, ...]]
    details: list[dict[str, str]]  # a dict of its own per person
    model_version: str

    def predictions(self) -> list[Prediction]:
        kind, version = self.kind, self.model_version
        return [Prediction(kind, s, p, label, r, d, version) for s, p, label, r, d in zip(
            self.scores, self.probabilities, self.labels, self.reasons, self.details,
            strict=True)]


def _version(scorer: Scorer) -> str:
    return f"{scorer.artefact.name}-{scorer.version}"


def _lead_labels(scores: Sequence[float], policy: rules.ActionPolicy) -> list[str]:
    hot, warm = policy.hot_lead_at, policy.warm_lead_at
    return ["hot" if s >= hot else "warm" if s >= warm else "cold" for s in scores]


def _model_predictions(scorer: Scorer, rows: Sequence[Mapping[str, float]], kind: str
                       ) -> KindColumns:
    """A LightGBM model's predictions (labels left to the caller: ``""``)."""
    # rows that are a batch's feature matrix (``features_columns``) go in at once
    matrix = feature_matrix(rows, scorer.feature_names)
    lines = scorer.score_lines(scorer.matrix(rows) if matrix is None else matrix)
    details = [{"negative": "; ".join(negative)} for negative in lines.negative]
    for d, clipped in zip(details, lines.clipped, strict=True):
        if clipped:
            d["clipped"] = ",".join(clipped)
    return KindColumns(kind, lines.scores, list(lines.probabilities), [""] * len(details),
                       lines.positive, details, _version(scorer))


#: ``clv.purchases_if_alive`` at the 12 month ends and the horizon, per (parameters, repeat
#: purchases, age in weeks): the costly part of a lifetime value (13 hypergeometric functions)
#: depends on nothing else, and few pairs recur (ages are whole days), so a person rescored
#: the same day, or a customer like another, reuses it. A memo of a pure function: the same
#: numbers as computing them again; cleared when it holds ``_IF_ALIVE_LIMIT`` entries.
_IF_ALIVE: dict[BgNbdParams, dict[tuple[float, float], NDArray[np.float64]]] = {}
_IF_ALIVE_LIMIT: Final = 200_000
_IF_ALIVE_AT: Final = (*month_ends("weeks"), WEEKS_12_MONTHS)


def _if_alive(params: BgNbdParams, x: NDArray[np.float64], T: NDArray[np.float64]
              ) -> NDArray[np.float64]:
    """(13, customers): purchases if alive at each of ``_IF_ALIVE_AT``, from the memo (one
    per parameters: a key is two floats, hashed in C, not the parameters' dataclass)."""
    memo = _IF_ALIVE.get(params)
    if memo is None:
        if len(_IF_ALIVE) >= 8:  # parameters come and go with models: keep the few in use
            _IF_ALIVE.clear()
        memo = _IF_ALIVE[params] = {}
    keys = list(zip(x.tolist(), T.tolist(), strict=True))
    missing = set(keys).difference(memo)
    if missing and len(memo) + len(missing) > _IF_ALIVE_LIMIT:
        memo.clear()
        missing = set(keys)
    if missing:
        ordered = sorted(missing)
        mx, mT = (np.asarray(c, dtype=np.float64) for c in zip(*ordered, strict=True))
        computed = purchases_if_alive(params, _IF_ALIVE_AT, mx, mT)
        for j, key in enumerate(ordered):
            memo[key] = computed[:, j]
    if not keys:
        return np.zeros((len(_IF_ALIVE_AT), 0))
    # one array of the rows, transposed into the (13, customers) layout np.stack gives (the
    # same bytes; np.stack makes a view per row first)
    return np.ascontiguousarray(np.array(list(map(memo.__getitem__, keys))).T)


#: per count of repeat purchases, its text and reason line (counts are small integers)
_REPEATS: dict[int, tuple[str, str]] = {}
_REPEATS_LIMIT: Final = 4_096


def _repeats(frequency: int) -> tuple[str, str]:
    repeats = _REPEATS.get(frequency)
    if repeats is None:
        repeats = (str(frequency), f"REPEAT_PURCHASES: {frequency} repeat purchases")
        if len(_REPEATS) < _REPEATS_LIMIT:
            _REPEATS[frequency] = repeats
    return repeats


_NO_PURCHASE: Final = ("NO_PURCHASE: no purchase yet",)


def _clv(models: Models, summaries: Sequence[RfmSummary | None]) -> KindColumns:
    """Lifetime values, each figure computed and formatted for the batch's customers at once
    (``format`` mapped over a column: the text an f-string gives each value)."""
    customers = [s for s in summaries if s is not None]
    if {s.unit for s in customers} - {"weeks"}:
        raise ValueError("the CLV parameters are in weeks; summaries must be too")
    x, t_x, T, m = summary_arrays(customers)
    bgnbd = models.clv.bgnbd
    purchases, alive, order_value, lifetime = (
        c.tolist() for c in value_columns(bgnbd, models.clv.gamma_gamma, x, t_x, T, m,
                                          WEEKS_12_MONTHS, "weeks",
                                          if_alive=_if_alive(bgnbd, x, T)))
    repeats = [_repeats(s.frequency) for s in customers]
    currencies = [s.currency or "" for s in customers]
    details = [{"expected_purchases_12m": a, "expected_order_value": b, "probability_alive": c,
                "frequency": d[0], "recency_weeks": e, "age_weeks": f, "currency": g}
               for a, b, c, d, e, f, g in zip(
                   map(format, purchases, repeat(".4f")), map(format, order_value, repeat(".2f")),
                   map(format, alive, repeat(".4f")), repeats,
                   map(format, [s.recency for s in customers], repeat(".2f")),
                   map(format, [s.T for s in customers], repeat(".2f")), currencies, strict=True)]
    reasons: list[tuple[str, ...]] = [
        (r[1], "ALIVE: " + share + " likely still active")
        for r, share in zip(repeats, map(format, alive, repeat(".0%")), strict=True)]
    scores = list(map(round, lifetime, repeat(2)))
    probabilities: list[float | None] = list(alive)
    if len(customers) < len(summaries):  # people without a purchase in their places
        def placed(column: list[Any], missing: Any) -> list[Any]:
            made = iter(column)
            return [missing if s is None else next(made) for s in summaries]

        scores, probabilities = placed(scores, 0.0), placed(probabilities, None)
        currencies, reasons = placed(currencies, "not_a_customer"), placed(reasons, _NO_PURCHASE)
        made = iter(details)
        details = [{} if s is None else next(made) for s in summaries]
    return KindColumns("clv", scores, probabilities, currencies, reasons, details,
                       models.clv.version)


def _churn_prediction(a: ChurnAssessment) -> Prediction:
    return Prediction("churn", round(a.score, 2), None, "at_risk" if a.at_risk else "ok",
                      tuple(f"{r.code.upper()}: {r.text}" for r in a.reasons), {},
                      CHURN_RULES_VERSION)


def _churn(models: Models, batch: Sequence[Scored]) -> KindColumns:
    features = [s.features for s in batch]
    signals = [s.signals for s in batch]
    policy = models.churn_policy
    if models.churn is not None:
        churn_rows = [{**f, **{k: float(v) for k, v in sig.items()}}  # type: ignore[arg-type]
                      for f, sig in zip(features, signals, strict=True)]
        risk = _model_predictions(models.churn, churn_rows, "churn")
        return risk._replace(labels=[
            "at_risk" if at_risk(score, s.was_at_risk, policy) else "ok"
            for score, s in zip(risk.scores, batch, strict=True)])
    # a quiet customer's assessment is that of no signals: one each way of ``was_at_risk``
    calm = {was: _churn_prediction(assess(ChurnSignals(), was, policy)) for was in (False, True)}
    made = [calm[s.was_at_risk] if still else _churn_prediction(assess(sig, s.was_at_risk, policy))
            for sig, s, still in zip(signals, batch, quiet(signals, policy).tolist(), strict=True)]
    return KindColumns("churn", [p.score for p in made], [None] * len(made),
                       [p.label for p in made], [p.reasons for p in made],
                       [{} for _ in made], CHURN_RULES_VERSION)


def predict_columns(models: Models, batch: Sequence[Scored]) -> tuple[KindColumns, ...]:
    """The batch's predictions, one ``KindColumns`` per kind in ``KINDS`` order."""
    features = [s.features for s in batch]
    policy = models.actions
    if models.lead is not None:
        lead = _model_predictions(models.lead, features, "lead")
        lead = lead._replace(labels=_lead_labels(lead.scores, policy))
    else:
        made = [rules.lead_rules(f) for f in features]
        scores = [r.score for r in made]
        lead = KindColumns("lead", scores, [None] * len(made), _lead_labels(scores, policy),
                           [r.reasons for r in made], [{} for _ in made],
                           rules.LEAD_RULES_VERSION)
    risk = _churn(models, batch)
    value = _clv(models, [s.summary for s in batch])
    purchases, emails, chats = feature_columns(features, rules.NBA_FEATURES, 0.0)
    labels, reasons, details = rules.next_best_actions(
        purchases, emails, chats, lead.scores, risk.scores,
        value.scores, [s.profile.get("attributes") or {} for s in batch],
        [s.profile.get("tags") or () for s in batch], policy)
    personal = models.personalisation
    if personal is not None:
        for d, s in zip(details, batch, strict=True):
            d.update(personal_details(personal, s.profile, int(s.profile["updated_at"])))
    action = KindColumns("next_best_action", list(map(max, lead.scores, risk.scores)),
                         [None] * len(batch), labels, reasons, details, rules.NBA_VERSION)
    return lead, risk, value, action


def predict(models: Models, batch: Sequence[Scored]) -> list[list[Prediction]]:
    """Per person of ``batch``, the four predictions in ``KINDS`` order."""
    kinds = [c.predictions() for c in predict_columns(models, batch)]
    return [list(person) for person in zip(*kinds, strict=True)]


def rows_and_records(batch: Sequence[Scored], predictions: Sequence[KindColumns],
                     scored_at: int) -> tuple[Columns, list[OutputRecord]]:
    """The rows, built column by column from ``predict_columns``' (each row column the kinds'
    columns interleaved, person by person in ``KINDS`` order, by slice assignment), and one
    record per row whose value holds the same objects as the row (nothing downstream changes
    either; every prediction's ``details`` is a dict of its own, so none is copied); a score
    not finite is 0, a probability clipped to [0, 1]."""
    n, k = len(batch), len(predictions)
    if not n or not k:
        return {name: [] for name in SCORE_COLUMNS}, []

    def rows(columns: Iterable[Sequence[Any]]) -> list[Any]:
        """One column per kind -> one value per row."""
        out: list[Any] = [None] * (n * k)
        for j, column in enumerate(columns):
            out[j::k] = column
        return out

    def spread(values: Sequence[Any]) -> list[Any]:
        """One value per profile -> one per row."""
        return rows(repeat(values, k))

    persons = spread([str(s.profile["person_id"]) for s in batch])
    versions = spread([int(s.profile["version"]) for s in batch])
    kinds = rows([c.kind] * n for c in predictions)
    raw = np.asarray(rows(c.scores for c in predictions), dtype=np.float64)
    finite = np.where(np.isfinite(raw), raw, 0.0).tolist()  # float() of each, as one array
    clipped = rows(c.probabilities if all(p is None for p in c.probabilities)
                   else [None if p is None else min(1.0, max(0.0, p)) for p in c.probabilities]
                   for c in predictions)
    labels = rows(c.labels for c in predictions)
    reasons = list(map(list, rows(c.reasons for c in predictions)))
    details = rows(c.details for c in predictions)
    models = rows([c.model_version] * n for c in predictions)
    at = [scored_at] * (n * k)
    columns: Columns = {
        "person_id": persons, "kind": kinds, "score": finite, "probability": clipped,
        "label": labels, "reasons": reasons, "details": details, "model_version": models,
        "profile_version": versions, "scored_at": at,
        "_topic": spread([s.topic for s in batch]),
        "_partition": spread([s.partition for s in batch]),
        "_offset": spread([s.offset for s in batch]), "_version": list(versions)}
    values = [{"person_id": a, "kind": b, "score": c, "probability": d, "label": e, "reasons": f,
               "details": g, "model_version": h, "profile_version": i, "scored_at": j}
              for a, b, c, d, e, f, g, h, i, j in zip(persons, kinds, finite, clipped, labels,
                                                      reasons, details, models, versions,
                                                      at, strict=True)]
    return columns, output_records(CUSTOMER_SCORES, persons, values)
