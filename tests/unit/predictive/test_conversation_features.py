"""Conversation features: a conversation's intent, escalations and lead signals travel from its
``conversation.insights`` v2 record to the chat touchpoint's attributes, and the lead features
and churn signals read them (sentiment trajectory, intents, escalations, lead signals)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.conversation.rollup import insight_record
from streams.conversation.state import new_record
from streams.customer import contract as customer
from streams.customer import profile as fold
from streams.customer.identity_stage import EVENT_COLUMNS, usable_of
from streams.customer.identity_state import node_key
from streams.customer.inputs_stage import InputsPolicy, observation
from streams.kernel.records import Raw
from streams.predictive.churn import assess
from streams.predictive.features import (
    CHAT_DETAIL_FEATURES,
    CHURN_CHAT_SIGNAL_FEATURES,
    CHURN_FEATURES_WITH_CHAT_DETAILS,
    CHURN_MODEL_FEATURES,
    FEATURES,
    FEATURES_WITH_CHAT_DETAILS,
    LEAD_REASON_CODES,
    read_profile,
)
from streams.predictive.history import HISTORY_SQL, by_person, profile_as_of
from streams.settings import Settings

DAY_MS = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01 UTC


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def ended_conversation(intent: str | None, confidence: float | None, escalations: int,
                       lead: bool) -> dict[str, Any]:
    event = {"event_id": "e1", "conversation_id": "conv_1", "event_type": "STARTED",
             "occurred_at": T0, "channel": "WEB", "language": "en",
             "customer": {"customer_id": "cus_1"}}
    record: dict[str, Any] = dict(new_record(event, 3))
    record["rollup"] = {**record["rollup"], "status": "ended", "sentiment_sum": -1.2,
                        "sentiment_count": 3, "customer_id": "cus_1"}
    record.update(intent=intent, intent_confidence=confidence, escalations=escalations,
                  lead_signaled=lead, events=9, messages=7, customer_messages=3, offset=41)
    return record


def chat(at: int, **attributes: str) -> dict[str, Any]:
    return {"event_id": f"chat:{at}", "kind": "touchpoint", "occurred_at": at,
            "type": "chat_session", "channel": "chat", "campaign_id": None, "value": None,
            "currency": None, "attributes": attributes}


def touch(at: int) -> dict[str, Any]:
    return {"event_id": f"tp:{at}", "kind": "touchpoint", "occurred_at": at, "type": "click",
            "channel": "email", "campaign_id": None, "value": None, "currency": None}


def profile(recent: list[dict[str, Any]]) -> dict[str, Any]:
    return {"person_id": "p_1", "first_seen": T0, "identifiers": ["email:a@b.net"],
            "touchpoints": len(recent), "recent": recent}


def test_the_insight_carries_intent_escalations_and_lead_signals_to_the_chat_touchpoint(
        codec: AvroCodec) -> None:
    record = ended_conversation("pricing", 0.87, 2, True)
    insight = insight_record(record, T0 + 60_000)
    wire = codec.decode(customer.CONVERSATION_INSIGHTS,
                        codec.encode(customer.CONVERSATION_INSIGHTS, insight.value))
    assert (wire["intent"], wire["intent_confidence"], wire["escalations"],
            wire["lead_signals"]) == ("pricing", 0.87, 2, 1)
    raw = Raw(customer.CONVERSATION_INSIGHTS, 3, 41, T0, b"conv_1", None)
    obs = observation(InputsPolicy(), customer.CONVERSATION_INSIGHTS, raw, wire)
    assert obs["channel"] == "chat" and obs["type"] == "chat_session"
    attributes = obs["attributes"]
    assert attributes["intent"] == "pricing" and attributes["intent_confidence"] == "0.8700"
    assert attributes["escalations"] == "2" and attributes["lead_signals"] == "1"
    assert attributes["sentiment_mean"] == "-0.4000"
    # the touchpoint, as an interaction of the profile, gives the features
    features, signals = read_profile(profile([chat(obs["occurred_at"], **attributes)]),
                                     obs["occurred_at"] + DAY_MS)
    assert features["chat_purchase_intent_90d"] == 1.0 and features["chat_lead_signals"] == 1.0
    assert features["chat_escalations_90d"] == 2.0 and features["days_since_buying_chat"] == 1.0
    assert features["chat_last_sentiment"] == pytest.approx(-0.4)
    assert signals["escalations"] == 2 and signals["cancellation_intents"] == 0


def test_a_v1_insight_reads_no_intent_and_zero_counts(codec: AvroCodec) -> None:
    record = ended_conversation(None, None, 0, False)
    value = insight_record(record, T0).value
    v1 = {k: v for k, v in value.items()
          if k not in ("intent", "intent_confidence", "escalations", "lead_signals")}
    raw = Raw(customer.CONVERSATION_INSIGHTS, 0, 1, T0, b"conv_1", None)
    attributes = observation(InputsPolicy(), customer.CONVERSATION_INSIGHTS, raw, v1)["attributes"]
    assert "intent" not in attributes
    assert attributes["escalations"] == "0" and attributes["lead_signals"] == "0"


def test_sentiment_trajectory_intents_and_escalations_as_features() -> None:
    now = T0 + 200 * DAY_MS
    recent = [
        touch(now - 150 * DAY_MS),
        chat(now - 120 * DAY_MS, sentiment_mean="0.6000", intent="pricing", escalations="0",
             lead_signals="1", messages="5"),  # older than 90 days: intent not counted
        chat(now - 60 * DAY_MS, sentiment_mean="0.5000", intent="billing", escalations="1",
             lead_signals="0", messages="4"),
        chat(now - 40 * DAY_MS, sentiment_mean="0.3000", intent="technical_issue",
             escalations="0", lead_signals="0", messages="6"),
        chat(now - 10 * DAY_MS, sentiment_mean="-0.6000", intent="cancellation",
             escalations="1", lead_signals="0", messages="8"),
        chat(now - 3 * DAY_MS, sentiment_mean="-0.4000", intent="cancellation",
             escalations="1", lead_signals="0", messages="7"),
    ]
    features, signals = read_profile(profile(recent), now)
    assert features["chat_sessions_total"] == 5.0
    assert features["chat_last_sentiment"] == pytest.approx(-0.4)
    # the last chat against the mean of the two before it: -0.4 - (0.3 - 0.6) / 2
    assert features["chat_sentiment_trend"] == pytest.approx(-0.4 - (0.3 - 0.6) / 2)
    assert features["chat_escalations_90d"] == 3.0
    assert features["chat_purchase_intent_90d"] == 0.0  # the pricing chat is 120 days old
    assert features["days_since_buying_chat"] == 120.0
    assert features["chat_cancel_intent_90d"] == 1.0
    assert features["chat_lead_signals"] == 1.0
    # churn: the last four weeks against before them
    assert signals["cancellation_intents"] == 2 and signals["escalations"] == 2
    assert signals["recent_sentiment"] == pytest.approx(-0.5)
    assert signals["baseline_sentiment"] == pytest.approx((0.6 + 0.5 + 0.3) / 3)
    assert signals["recent_messages"] == 15
    risk = assess(signals)
    codes = [r.code for r in risk.reasons]
    assert {"cancellation_intent", "sentiment_decline", "escalations"} <= set(codes)
    # full cancellation (2 of 2) and sentiment (a fall of 0.97 >= 0.6) weights, 2 of 3 escalations
    assert risk.score == pytest.approx(25.0 + 15.0 + 10.0 * 2 / 3)


def test_without_conversation_figures_the_details_are_unknown_not_zero() -> None:
    now = T0 + 10 * DAY_MS
    bare = {**chat(now - DAY_MS), "attributes": {}}
    for recent in ([touch(now - DAY_MS)], [bare]):
        features, signals = read_profile(profile(recent), now)
        assert all(math.isnan(features[name]) for name in CHAT_DETAIL_FEATURES)
        assert "cancellation_intents" not in signals and "recent_sentiment" not in signals
    # an interaction dated after the instant is ignored, chat details included
    late = chat(now + DAY_MS, intent="cancellation", escalations="3", sentiment_mean="-0.9000")
    features, _ = read_profile(profile([touch(now - DAY_MS), late]), now)
    assert math.isnan(features["chat_escalations_90d"])


def test_unreadable_figures_count_as_unknown() -> None:
    now = T0 + 10 * DAY_MS
    odd = chat(now - DAY_MS, sentiment_mean="n/a", escalations="", lead_signals="x",
               intent="pricing")
    features, _ = read_profile(profile([odd]), now)
    assert math.isnan(features["chat_last_sentiment"])
    assert features["chat_escalations_90d"] == 0.0 and features["chat_lead_signals"] == 0.0
    assert features["chat_purchase_intent_90d"] == 1.0


def test_the_served_features_are_the_full_ones_chat_details_included() -> None:
    assert FEATURES == FEATURES_WITH_CHAT_DETAILS
    assert CHURN_MODEL_FEATURES == CHURN_FEATURES_WITH_CHAT_DETAILS
    assert set(CHAT_DETAIL_FEATURES) <= set(FEATURES)
    assert set(CHURN_CHAT_SIGNAL_FEATURES) <= set(CHURN_MODEL_FEATURES)
    assert set(CHURN_MODEL_FEATURES) <= set(LEAD_REASON_CODES)


NO_IDS = {"customer_id": None, "email": None, "phone": None, "anonymous_id": None,
          "device_id": None}


def chat_insight(codec: AvroCodec, n: int, at: int, intent: str, escalations: int, lead: bool,
                 sentiment: float) -> dict[str, Any]:
    """An ended conversation's ``conversation.insights`` v2 value, as the wire gives it."""
    value = insight_record(ended_conversation(intent, 0.9, escalations, lead), at).value
    value = {**value, "conversation_id": f"conv_{n}", "first_event_at": at,
             "last_event_at": at + 60_000, "updated_at": at + 60_000, "sentiment_mean": sentiment}
    return codec.decode(customer.CONVERSATION_INSIGHTS,
                        codec.encode(customer.CONVERSATION_INSIGHTS, value))


def test_the_streamed_profile_gives_the_features_training_reads_from_customer_events(
        codec: AvroCodec) -> None:
    """The same events, once folded by the customer stage into a ``customer.profiles`` v2 record
    (through Avro) and once as ``customer_events`` rows rebuilt by training: the same lead
    features and churn signals, the chat details real values in both."""
    now = T0 + 200 * DAY_MS
    ids = {**NO_IDS, "customer_id": "cus_1"}
    inputs = [
        (customer.CONVERSIONS, {"conversion_id": "cv_1", "occurred_at": now - 120 * DAY_MS,
                                "type": "purchase", "value": 49.0, "currency": "EUR",
                                "order_id": "o1", "identifiers": ids,
                                "properties": {"items": "1"}}),
        (customer.TOUCHPOINTS, {"touchpoint_id": "tp_1", "occurred_at": now - 70 * DAY_MS,
                                "type": "email_open", "channel": "email", "platform": None,
                                "campaign_id": "c1", "identifiers": ids,
                                "properties": {"subject": "spring"}}),
        (customer.CONVERSATION_INSIGHTS,
         chat_insight(codec, 1, now - 60 * DAY_MS, "pricing", 0, True, 0.5)),
        (customer.CONVERSATION_INSIGHTS,
         chat_insight(codec, 2, now - 20 * DAY_MS, "billing", 1, False, 0.1)),
        (customer.TOUCHPOINTS, {"touchpoint_id": "tp_2", "occurred_at": now - 5 * DAY_MS,
                                "type": "visit", "channel": "direct", "platform": None,
                                "campaign_id": None, "identifiers": ids, "properties": {}}),
        (customer.CONVERSATION_INSIGHTS,
         chat_insight(codec, 3, now - 2 * DAY_MS, "cancellation", 2, False, -0.6)),
    ]
    events = [observation(InputsPolicy(), topic, Raw(topic, 0, n, T0, b"k", None), value)
              for n, (topic, value) in enumerate(inputs)]
    # the stream: the profile stage's fold, its record through customer.profiles v2
    working = fold.new_profile("p_1")
    for event in events:
        assert fold.absorb(working, event, fold.DEFAULT_PROFILE_POLICY)
    streamed = codec.decode(customer.CUSTOMER_PROFILES,
                            codec.encode(customer.CUSTOMER_PROFILES, fold.record(working)))
    chats = [i for i in streamed["recent"] if i["channel"] == "chat"]
    assert [c["attributes"]["intent"] for c in chats] == ["pricing", "billing", "cancellation"]
    assert all(i["attributes"] == {} for i in streamed["recent"] if i["channel"] != "chat")
    # training: the customer_events rows the identity stage writes, as HISTORY_SQL reads them
    selected = [c.strip().split(" AS ")[-1].split(".")[-1]
                for c in HISTORY_SQL.split("SELECT", 1)[1].split("FROM", 1)[0].split(",")]
    rows = []
    for event in events:
        row = {name: event[name] for name in EVENT_COLUMNS[1:14]}
        row.update(person_id="p_1", identifiers=[node_key(k, v) for k, v in usable_of(event)])
        rows.append({name: row[name] for name in selected})
    history = by_person(rows)["p_1"]
    rebuilt = profile_as_of("p_1", history, len(history) - 1)
    assert rebuilt["updated_at"] == streamed["updated_at"]
    served, served_signals = read_profile(streamed, streamed["updated_at"])
    trained, trained_signals = read_profile(rebuilt, rebuilt["updated_at"])
    for name in FEATURES:
        assert served[name] == pytest.approx(trained[name], nan_ok=True), name
    assert served_signals == trained_signals
    assert served["chat_cancel_intent_90d"] == 1.0 and served["chat_escalations_90d"] == 3.0
    assert served["chat_purchase_intent_90d"] == 1.0 and served["chat_lead_signals"] == 1.0
    assert served["days_since_buying_chat"] == 58.0  # as of the last chat, 2 days before now
    assert served["chat_last_sentiment"] == pytest.approx(-0.6)
    assert served_signals["cancellation_intents"] == 1 and served_signals["escalations"] == 3
    assert served_signals["recent_sentiment"] == pytest.approx(-0.25)
    assert not any(math.isnan(served[name]) for name in CHAT_DETAIL_FEATURES)
