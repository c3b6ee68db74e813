"""Predictions made a kind at a time for the whole batch (``scoring.predict_columns``), the next
best action of a batch (``rules.next_best_actions``) and the rows built column by column
(``scoring.rows_and_records``): the same values, texts and objects as made person by person."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest

from streams.contract.codec import AvroCodec
from streams.io.avro_fast import specialise
from streams.io.avro_profiles import ProfileReader
from streams.predictive import rules, scoring
from streams.predictive.churn import ChurnSignals
from streams.predictive.clv import purchases_if_alive
from streams.predictive.contract import CUSTOMER_PROFILES
from streams.predictive.features import FEATURES
from streams.predictive.features_columns import (
    FeatureRow,
    feature_columns,
    feature_values,
    read_columns,
)
from streams.predictive.models import CDNOW_CLV
from streams.predictive.rfm import RfmSummary, absorb_new, absorb_new_fields, purchase_fields
from streams.predictive.scoring import (
    KINDS,
    SCORE_COLUMNS,
    KindColumns,
    Models,
    Prediction,
    Scored,
    predict,
    predict_columns,
    rows_and_records,
)
from streams.settings import Settings
from tests.unit.predictive.test_profile_decoding import varied
from tests.unit.predictive.test_scoring_batch import encoded
from tests.unit.predictive.test_scoring_golden import GOLDEN, model_sets

_LEAD = (0.0, -0.0, 12.5, 39.99, 40.0, 55.55, 69.99, 70.0, 99.99, 100.0)
_CHURN = (0.0, 20.0, 49.99, 50.0, 50.01, 87.5)
_VALUE = (0.0, 12.345, 99.99, 100.0, 100.005, 2500.0)
_ATTRIBUTES: tuple[dict[str, str], ...] = (
    {}, {"opt_out": "email"}, {"opt_out": "sms, ALL"}, {"unsubscribed": " Yes "},
    {"unsubscribed": "no"})
_TAGS = ((), ("opt_out:email",), ("vip",))


def _one(rng: random.Random) -> tuple[float, float, float, float, float, float,
                                      dict[str, str], tuple[str, ...]]:
    figure = (0.0, 1.0, 2.0, 7.0, math.nan)
    return (rng.choice(figure), rng.choice(figure), rng.choice(figure), rng.choice(_LEAD),
            rng.choice(_CHURN), rng.choice(_VALUE), rng.choice(_ATTRIBUTES), rng.choice(_TAGS))


def test_next_best_actions_are_those_made_one_by_one() -> None:
    rng = random.Random(4)
    people = [_one(rng) for _ in range(2_000)]
    policy = rules.ActionPolicy(churn_at=50.0, hot_lead_at=70.0, warm_lead_at=40.0)
    labels, reasons, figures = rules.next_best_actions(
        [p[0] for p in people], [p[1] for p in people], [p[2] for p in people],
        [p[3] for p in people], [p[4] for p in people], [p[5] for p in people],
        [p[6] for p in people], [p[7] for p in people], policy)
    for (bought, email, chats, lead, churn, value, attributes, tags), label, why, figure in zip(
            people, labels, reasons, figures, strict=True):
        features = {"prior_purchases": bought, "has_email": email, "chat_sessions_30d": chats}
        one = rules.next_best_action(features, lead, churn, value, attributes, tags, policy)
        assert (label, why, figure) == (one.label, one.reasons, one.details)
        assert figure["lead_score"] == f"{lead:.1f}"  # the sign of -0.0 kept
    assert set(labels) == {"retention_offer", "sales_call", "proactive_chat", "nurture_email",
                           "cross_sell", "capture_email", "no_action"}
    assert len({id(f) for f in figures}) == len(figures)  # a dict of its own per person


def test_feature_columns_from_the_matrix_and_from_dicts() -> None:
    matrix = np.random.default_rng(2).normal(size=(7, len(FEATURES)))
    matrix[3, 0] = math.nan
    views = [FeatureRow(matrix, i) for i in range(7)]
    dicts = [dict(zip(FEATURES, row, strict=True)) for row in matrix.tolist()]
    names = ("prior_purchases", FEATURES[0], "has_email")
    from_matrix = feature_columns(views, names, 0.0)
    assert repr(from_matrix) == repr([[v[name] for v in views] for name in names])
    assert repr(from_matrix) == repr(feature_columns(dicts, names, 0.0))
    # a row made with its floats reads them: the same values as from the matrix
    listed = [FeatureRow(matrix, i, row) for i, row in enumerate(matrix.tolist())]
    assert repr([feature_values(v) for v in listed]) == repr([feature_values(v) for v in views])
    assert repr([dict(v) for v in listed]) == repr([dict(v) for v in views]) == repr(dicts)
    assert feature_values(listed[0]) is not listed[0].floats  # a copy for the caller
    # rows that miss a feature read the default
    assert feature_columns([{"has_email": 1.0}, {}], ("has_email", "prior_purchases"), 0.0) == \
        [[1.0, 0.0], [0.0, 0.0]]


def _batch(n: int, seed: int) -> list[Scored]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        features = {name: float(rng.choice((0, 0, 1, 2, 3, 5, 12))) for name in FEATURES}
        features["days_since_last_touch"] = rng.choice((math.nan, 0.5, 3.25, 40.0))
        signals: ChurnSignals = {}
        if rng.random() < 0.3:
            signals = ChurnSignals(failed_payments=rng.randrange(3),
                                   baseline_activity_per_week=rng.uniform(0, 5),
                                   recent_activity_per_week=rng.uniform(0, 5),
                                   baseline_weeks=rng.uniform(0, 30),
                                   escalations=rng.randrange(2))
        summary = None if rng.random() < 0.3 else RfmSummary(
            rng.randrange(6), rng.randrange(0, 300) / 7, rng.randrange(300, 600) / 7,
            rng.choice((0.0, 12.5, 99.999, 1234.5)), rng.choice(("USD", "EUR", "")), "weeks")
        profile: dict[str, Any] = {
            "person_id": f"p{i}", "version": rng.randrange(9), "updated_at": 1_767_225_600_000,
            "attributes": rng.choice(_ATTRIBUTES), "tags": list(rng.choice(_TAGS)),
            "recent": []}
        out.append(Scored(profile, features, signals, summary, rng.random() < 0.2, "t", 1, i))
    return out


def _reference_clv(summary: RfmSummary | None, figures: Prediction) -> None:
    """The lifetime value's texts as formatted person by person."""
    if summary is None:
        assert figures[1:] == (0.0, None, "not_a_customer", ("NO_PURCHASE: no purchase yet",),
                               {}, figures.model_version)
        return
    d = figures.details
    p = figures.probability
    assert p is not None
    assert d["frequency"] == str(summary.frequency)
    assert d["recency_weeks"] == f"{summary.recency:.2f}"
    assert d["age_weeks"] == f"{summary.T:.2f}"
    assert d["currency"] == (summary.currency or "") == figures.label
    assert d["probability_alive"] == f"{p:.4f}"
    assert figures.reasons == (f"REPEAT_PURCHASES: {summary.frequency} repeat purchases",
                               f"ALIVE: {p:.0%} likely still active")
    assert list(d) == ["expected_purchases_12m", "expected_order_value", "probability_alive",
                       "frequency", "recency_weeks", "age_weeks", "currency"]


@pytest.mark.parametrize("models", ["rules", "models"])
def test_predictions_per_kind_are_the_per_person_ones(models: str) -> None:
    chosen = model_sets(GOLDEN)[models]
    chosen = Models(lead=chosen.lead, churn=chosen.churn)  # personalisation reads whole profiles
    batch = _batch(300, seed=9)
    columns = predict_columns(chosen, batch)
    assert [c.kind for c in columns] == list(KINDS)
    per_person = predict(chosen, batch)
    for i, (s, predicted) in enumerate(zip(batch, per_person, strict=True)):
        assert [p.kind for p in predicted] == list(KINDS)
        for c, p in zip(columns, predicted, strict=True):
            assert (c.scores[i], c.probabilities[i], c.labels[i], c.reasons[i], c.details[i],
                    c.model_version) == p[1:]
        lead, churn, value, action = predicted
        _reference_clv(s.summary, value)
        one = rules.next_best_action(s.features, lead.score, churn.score, value.score,
                                     s.profile["attributes"], tuple(s.profile["tags"]))
        assert (action.label, action.reasons, action.details) == \
            (one.label, one.reasons, one.details)
        assert action.score == max(lead.score, churn.score)
    details = [d for c in columns for d in c.details]
    assert len({id(d) for d in details}) == len(details)


def _reference_rows(batch: list[Scored], predicted: list[list[Prediction]], at: int
                    ) -> list[dict[str, Any]]:
    rows = []
    for s, person in zip(batch, predicted, strict=True):
        for p in person:
            score = p.score if math.isfinite(p.score) else 0.0
            probability = None if p.probability is None else min(1.0, max(0.0, p.probability))
            rows.append({"person_id": s.profile["person_id"], "kind": p.kind, "score": score,
                         "probability": probability, "label": p.label,
                         "reasons": list(p.reasons), "details": p.details,
                         "model_version": p.model_version,
                         "profile_version": s.profile["version"], "scored_at": at,
                         "_topic": s.topic, "_partition": s.partition, "_offset": s.offset,
                         "_version": s.profile["version"]})
    return rows


def test_rows_and_records_column_by_column_are_those_made_row_by_row() -> None:
    batch = _batch(50, seed=3)
    columns = list(predict_columns(model_sets(GOLDEN)["rules"], batch))
    # scores out of range and probabilities to clip, in one kind
    lead = columns[0]
    columns[0] = lead._replace(scores=[math.nan, math.inf, *lead.scores[2:]],
                               probabilities=[1.5, -0.5, None, *[0.25] * (len(batch) - 3)])
    rows, records = rows_and_records(batch, columns, 77)
    expected = _reference_rows(batch, [list(p) for p in zip(
        *(c.predictions() for c in columns), strict=True)], 77)
    assert list(rows) == list(SCORE_COLUMNS)
    assert [{name: rows[name][r] for name in SCORE_COLUMNS} for r in range(len(expected))] == \
        expected
    leads = slice(0, None, len(KINDS))
    assert rows["score"][leads][:2] == [0.0, 0.0]
    assert rows["probability"][leads][:3] == [1.0, 0.0, None]
    assert [(r.key, r.value) for r in records] == [
        (e["person_id"], {k: e[k] for k in list(SCORE_COLUMNS)[:10]}) for e in expected]
    # the record holds the row's objects
    assert all(r.value["details"] is d for r, d in zip(records, rows["details"], strict=True))
    assert rows_and_records([], (), 1) == ({name: [] for name in SCORE_COLUMNS}, [])


def test_kind_columns_give_predictions() -> None:
    kinds = KindColumns("churn", [1.0, 2.0], [None, 0.5], ["ok", "at_risk"], [(), ("A",)],
                        [{}, {"x": "y"}], "v1")
    assert kinds.predictions() == [Prediction("churn", 1.0, None, "ok", (), {}, "v1"),
                                   Prediction("churn", 2.0, 0.5, "at_risk", ("A",),
                                              {"x": "y"}, "v1")]


def test_purchases_if_alive_from_the_memo_also_when_it_is_emptied(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scoring, "_IF_ALIVE", {})
    monkeypatch.setattr(scoring, "_IF_ALIVE_LIMIT", 3)
    params = CDNOW_CLV.bgnbd
    for x, T in (([1.0, 2.0, 1.0], [10.0, 20.0, 10.0]),
                 ([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]),  # past the limit: emptied
                 ([4.0, 0.0], [40.0, 5.0])):
        xs, Ts = np.asarray(x), np.asarray(T)
        expected = purchases_if_alive(params, scoring._IF_ALIVE_AT, xs, Ts)
        assert scoring._if_alive(params, xs, Ts).tobytes() == expected.tobytes()
        assert all(len(memo) <= 4 for memo in scoring._IF_ALIVE.values())
    assert scoring._if_alive(params, np.zeros(0), np.zeros(0)).shape == (13, 0)


def test_purchases_read_as_fields_are_those_of_the_interactions() -> None:
    codec = specialise(AvroCodec.from_settings(Settings()), CUSTOMER_PROFILES)
    values = varied(60, seed=4)
    raws = encoded(codec, values)
    columns = ProfileReader(codec).read(raws, codec.decoder(CUSTOMER_PROFILES))
    index = np.arange(len(columns.profile))
    items = columns.items(index, False)
    assert len(items) > 100
    fields = columns.purchases(index)
    assert repr(fields) == repr(purchase_fields(items))
    assert any(f[2] is None for f in fields) and any(f[3] is None for f in fields)
    # each profile's purchases as read_columns gives them: those of its purchase interactions
    for n, (_, _, bought) in enumerate(read_columns(columns)):
        kept = [i for i in values[n]["recent"] if i["kind"] == "conversion"
                and i["type"] == "purchase" and i["occurred_at"] <= values[n]["updated_at"]]
        assert repr(bought) == repr(purchase_fields(kept))
        if bought:
            assert absorb_new_fields(bought, values[n]["updated_at"], "weeks") == \
                absorb_new(kept, values[n]["updated_at"], "weeks")
