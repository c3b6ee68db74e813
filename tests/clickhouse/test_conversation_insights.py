"""Conversation-intelligence tables and insights on the embedded engine, with a small dataset
folded by the real code and hand-computed expectations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from streams.conversation import records
from streams.conversation.effects import Escalate
from streams.conversation.rollup import event_columns
from streams.conversation.state import ConversationRecord, MessageSignals, fold
from streams.io.clickhouse import ClickHouse
from streams.io.insights import run_insight
from streams.kernel.records import Raw
from streams.text.emotion import Emotions
from streams.text.intent import IntentPrediction
from streams.text.sentiment import Sentiment, label_for

T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
DAY = 86_400_000
MINUTE = 60_000
NO_EMOTION = Emotions(0.0, 0.0, 0.0, 0.0, 0.0, False)


def _event(cid: str, kind: str, role: str, at: int, channel: str, text: str | None = None
           ) -> dict[str, Any]:
    return {"event_id": f"{cid}-{at}", "conversation_id": cid, "event_type": kind,
            "occurred_at": at, "channel": channel, "sender_role": role, "sender_id": None,
            "text": text, "language": "en",
            "customer": {"customer_id": f"cust-{cid}", "email": None, "phone": None,
                         "anonymous_id": None},
            "metadata": {}}


def _says(compound: float, intent: str, confidence: float, human: bool = False
          ) -> MessageSignals:
    emotions = NO_EMOTION._replace(human_request=human)
    return MessageSignals(compound, emotions, IntentPrediction(intent, confidence, {}), "en")


# (event, signals): c1 WEB asks for a human while negative (P2, never handled: breach);
# c2 WEB refund demanded with an ultimatum (P3, handed off in time); c3 SMS refund asked
# vaguely (no escalation);
# c4 SMS legal threat (P1, an agent answers 5 minutes after the 15-minute deadline).
SCRIPT: list[tuple[dict[str, Any], MessageSignals | None]] = [
    (_event("c1", "STARTED", "SYSTEM", T0, "WEB"), None),
    (_event("c1", "MESSAGE", "CUSTOMER", T0 + 1000, "WEB", "my parcel is late again"),
     _says(-0.6, "complaint", 0.7)),
    (_event("c1", "MESSAGE", "BOT", T0 + 3000, "WEB", "Let me check that for you."),
     MessageSignals(0.0)),
    (_event("c1", "MESSAGE", "CUSTOMER", T0 + 5000, "WEB", "useless, get me a person"),
     _says(-0.7, "human_request", 0.9, human=True)),
    (_event("c2", "MESSAGE", "CUSTOMER", T0 + 10_000, "WEB",
            "refund order 12 by tomorrow or I will dispute the charge"),
     _says(0.2, "refund", 0.9)),
    (_event("c2", "MESSAGE", "BOT", T0 + 14_000, "WEB", "Connecting you to billing."),
     MessageSignals(0.0)),
    (_event("c2", "HANDOFF", "SYSTEM", T0 + 20_000, "WEB"), None),
    (_event("c3", "MESSAGE", "CUSTOMER", T0 + DAY, "SMS", "can i get money back maybe"),
     _says(0.5, "refund", 0.55)),
    (_event("c3", "MESSAGE", "AGENT", T0 + DAY + 10_000, "SMS", "Sure, which order?"),
     MessageSignals(0.3)),
    (_event("c4", "MESSAGE", "CUSTOMER", T0 + DAY + 1000, "SMS", "I will call my lawyer"),
     _says(-0.2, "complaint", 0.8)),
    (_event("c4", "MESSAGE", "AGENT", T0 + DAY + 1000 + 20 * MINUTE, "SMS", "I'm here."),
     MessageSignals(0.0)),
]


def at(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).replace(tzinfo=None)


@pytest.fixture
def loaded(migrated: ClickHouse) -> ClickHouse:
    states: dict[str, ConversationRecord] = {}
    escalations: list[Escalate] = []
    history: list[ConversationRecord] = []
    raws = []
    for offset, (event, signals) in enumerate(SCRIPT):
        cid = event["conversation_id"]
        state, effects = fold(states.get(cid), event, 0, offset, signals)
        states[cid] = state
        history.append(state)
        escalations.extend(e for e in effects if isinstance(e, Escalate))
        raws.append(Raw("chat.events", 0, offset, event["occurred_at"], cid.encode(), b""))
    sentiments = [None if s is None else Sentiment(s.compound, 0.0, 1.0, 0.0,
                                                   label_for(s.compound)) for _, s in SCRIPT]
    tasks = [r.value for r in records.records_for(escalations) if r.topic == "crm.tasks"]
    for _ in range(2):  # redelivered: FINAL keeps one row per key
        migrated.insert("chat_events", event_columns(raws, [e for e, _ in SCRIPT], sentiments))
        migrated.insert("conversation_states", records.state_columns(history))
        migrated.insert("escalations", records.escalation_columns(escalations))
        migrated.insert("crm_tasks", records.task_columns(tasks))
    return migrated


def rows(ch: ClickHouse, name: str, **overrides: str) -> list[dict[str, Any]]:
    return [{k: v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v
             for k, v in d.items()} for d in run_insight(ch, name, overrides).dicts()]


def test_tables_hold_one_row_per_key(loaded: ClickHouse) -> None:
    states = loaded.query(
        "SELECT conversation_id, status, first_response_ms, bot_turns, agent_turns, handoff,"
        " intent, escalations, journey_state FROM conversation_states FINAL"
        " ORDER BY conversation_id").rows
    assert states == [
        ("c1", "open", 2000, 1, 0, False, "complaint", 1, "negative"),
        ("c2", "handoff", 4000, 1, 0, True, "refund", 1, "positive"),
        ("c3", "handoff", 10_000, 0, 1, True, "refund", 0, "positive"),
        ("c4", "handoff", 1_200_000, 0, 1, True, "complaint", 1, "negative"),
    ]
    escalations = loaded.query(
        "SELECT escalation_id, reasons, team, priority, sla_deadline, intent,"
        " JSONExtractString(context, 'recent_messages', -1, 'text')"
        " FROM escalations FINAL ORDER BY escalation_id").rows
    assert [(e[0], e[1], e[2], e[3], e[4].replace(tzinfo=None), e[5], e[6])
            for e in escalations] == [
        ("c1:e1", ["human_request", "sentiment_worsening"], "general", "P2",
         at(T0 + 5000 + 60 * MINUTE), "complaint", "useless, get me a person"),
        ("c2:e1", ["sentiment_worsening"], "billing", "P3", at(T0 + 10_000 + 240 * MINUTE),
         "refund", "refund order 12 by tomorrow or I will dispute the charge"),
        ("c4:e1", ["policy_topic"], "general", "P1", at(T0 + DAY + 1000 + 15 * MINUTE),
         "complaint", "I will call my lawyer"),
    ]
    tasks = loaded.query("SELECT task_id, task_type, status, due_at FROM crm_tasks FINAL"
                         " ORDER BY task_id").rows
    assert [(t[0], t[1], t[2]) for t in tasks] == [
        ("c1:e1", "escalation", "open"), ("c2:e1", "escalation", "open"),
        ("c4:e1", "escalation", "open")]


def test_sentiment_by_channel_day(loaded: ClickHouse) -> None:
    assert rows(loaded, "sentiment_by_channel_day") == [
        {"channel": "WEB", "day": dt.date(2026, 1, 1), "customer_messages": 3,
         "avg_compound": -0.3667, "share_negative": 0.6667, "share_positive": 0.3333},
        {"channel": "SMS", "day": dt.date(2026, 1, 2), "customer_messages": 2,
         "avg_compound": 0.15, "share_negative": 0.5, "share_positive": 0.5},
    ]


def test_escalation_rate_by_intent_team(loaded: ClickHouse) -> None:
    assert rows(loaded, "escalation_rate_by_intent_team") == [
        {"intent": "complaint", "team": "general", "escalations": 2,
         "escalated_conversations": 2, "conversations": 2, "escalation_rate": 1.0},
        {"intent": "refund", "team": "billing", "escalations": 1,
         "escalated_conversations": 1, "conversations": 2, "escalation_rate": 0.5},
    ]


def test_sla_breaches(loaded: ClickHouse) -> None:
    got = rows(loaded, "sla_breaches")
    assert [(r["escalation_id"], r["priority"], r["handled_at"]) for r in got] == [
        ("c4:e1", "P1", at(T0 + DAY + 1000 + 20 * MINUTE)),
        ("c1:e1", "P2", None),
    ]
    assert got[0]["minutes_late"] == 5.0
    assert got[1]["minutes_late"] > 0


def test_first_response_time(loaded: ClickHouse) -> None:
    assert rows(loaded, "first_response_time") == [
        {"channel": "SMS", "conversations": 2, "p50_seconds": 605.0, "p90_seconds": 1081.0,
         "mean_seconds": 605.0},
        {"channel": "WEB", "conversations": 2, "p50_seconds": 3.0, "p90_seconds": 3.8,
         "mean_seconds": 3.0},
    ]


def test_emotional_journey(loaded: ClickHouse) -> None:
    got = rows(loaded, "emotional_journey", conversation_id="c1")
    assert [(r["occurred_at"], r["sentiment_compound"], r["change"], r["running_mean"],
             r["lowest_so_far"], r["escalated_here"], r["journey_state"], r["resolution"])
            for r in got] == [
        (at(T0 + 1000), -0.6, 0.0, -0.6, -0.6, False, "negative", "unknown"),
        (at(T0 + 5000), -0.7, -0.1, -0.65, -0.7, True, "negative", "unknown"),
    ]
    assert rows(loaded, "emotional_journey", conversation_id="nope") == []
