"""Escalations, CRM tasks and lead signals from live chat traffic, through the real broker,
worker and engine, compared with the same logic run directly on the same events."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer

from streams import topics
from streams.conversation.effects import Escalate, LeadSignal
from streams.conversation.intelligence import understand
from streams.io.kafka_admin import end_offsets
from streams.io.producer import produce_records
from streams.kernel.records import Raw
from streams.simulators.chat import conversations
from streams.text.sentiment import score_texts
from tests.integration.conftest import Pipeline

pytestmark = pytest.mark.integration


def consume_all(p: Pipeline, logical: str, expected: int, timeout: float = 30) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": p.settings.kafka_bootstrap_servers,
                         "group.id": "inspect", "auto.offset.reset": "earliest"})
    consumer.subscribe([p.settings.topic(logical)])
    keys: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(keys) < expected:
        for m in consumer.consume(500, timeout=0.5):
            if m.error() is None:
                keys.append(m.key() or b"")
    # a little longer, to catch duplicates
    for m in consumer.consume(500, timeout=1.0):
        if m.error() is None:
            keys.append(m.key() or b"")
    consumer.close()
    return keys


def test_escalations_tasks_and_leads_match_the_logic(pipeline: Pipeline) -> None:
    chat = list(conversations(3000, seed=909))
    # what the logic says, run directly (same texts, same order per conversation)
    values = [r.value for r in chat]
    raws = [Raw("chat.events", 0, i, 0, None, None) for i in range(len(values))]
    sentiments = score_texts([v["text"] or "" for v in values])
    messages = [s if v["event_type"] == "MESSAGE" else None for v, s in zip(values, sentiments, strict=True)]
    want = understand(raws, values, messages, lambda _: None)
    want_escalations = {e.escalation_id for e in want.effects if isinstance(e, Escalate)}
    want_leads = {e.signal_id for e in want.effects if isinstance(e, LeadSignal)}
    assert want_escalations, "the simulated traffic should escalate some conversations"

    pipeline.start_worker()
    produce_records(pipeline.settings, iter(chat), encode=pipeline.codec.encode)
    pipeline.wait_sunk({topics.CHAT_EVENTS: end_offsets(pipeline.settings, topics.CHAT_EVENTS)})
    q = pipeline.querier()

    rows = q.sql("SELECT escalation_id, team, priority, reasons FROM escalations FINAL").rows
    assert {r[0] for r in rows} == want_escalations
    assert all(r[1] in ("billing", "technical", "sales", "retention", "general") for r in rows)
    assert all(r[2] in ("P1", "P2", "P3", "P4") and r[3] for r in rows)
    tasks = q.sql("SELECT escalation_id FROM crm_tasks FINAL WHERE task_type = 'escalation'").rows
    assert {t[0] for t in tasks} == want_escalations
    states = q.sql("SELECT count() FROM conversation_states FINAL").rows[0][0]
    assert states == len({v["conversation_id"] for v in values})

    # each escalation is published once, with its task; each lead once
    escalated = consume_all(pipeline, topics.ESCALATIONS, len(want_escalations))
    assert len(escalated) == len(want_escalations)
    leads = consume_all(pipeline, topics.LEAD_SIGNALS, len(want_leads))
    assert len(leads) == len(want_leads)
