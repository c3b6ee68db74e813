"""A producer duplicate of a chat event (the exact bytes of one customer message of an ended
14-event conversation, produced again at a new offset) leaves everything as it was: one row
per event id, 14 events and 5 customer messages, status ended, no new insight record."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from confluent_kafka import Consumer

from streams import topics
from streams.io.producer import produce_records
from streams.kernel.records import OutputRecord
from tests.integration.conftest import Pipeline, eventually

pytestmark = pytest.mark.integration


def conversation(cid: str, start_ms: int) -> list[OutputRecord]:
    def event(i: int, kind: str, role: str = "SYSTEM", text: str | None = None
              ) -> OutputRecord:
        value: dict[str, Any] = {
            "event_id": f"{cid}-{i}", "conversation_id": cid, "event_type": kind,
            "occurred_at": start_ms + i * 1_000, "channel": "WEB", "sender_role": role,
            "sender_id": "bot-1" if role == "BOT" else None, "text": text, "language": "en",
            "customer": {"customer_id": "cus-7", "email": None, "phone": None,
                         "anonymous_id": None},
            "metadata": {"resolution": "resolved"} if kind == "ENDED" else {}}
        return OutputRecord(topics.CHAT_EVENTS, cid, value)

    said = ["hi, my parcel has not arrived", "order 5531", "it was due on monday",
            "yes the address is right", "great, thank you"]
    answers = ["sorry to hear that", "let me check that order", "I see a delay",
               "a new parcel goes out today", "glad to help"]
    out = [event(0, "STARTED")]
    for n, (question, answer) in enumerate(zip(said, answers, strict=True)):
        out.append(event(1 + 2 * n, "MESSAGE", "CUSTOMER", question))
        out.append(event(2 + 2 * n, "MESSAGE", "BOT", answer))
    out.append(event(11, "MESSAGE", "BOT", "anything else?"))
    out.append(event(12, "MESSAGE", "BOT", "have a nice day"))
    out.append(event(13, "ENDED"))
    assert len(out) == 14
    return out


def insight_records(p: Pipeline, cid: str) -> int:
    consumer = Consumer({"bootstrap.servers": p.settings.kafka_bootstrap_servers,
                         "group.id": f"inspect-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([p.settings.topic(topics.CONVERSATION_INSIGHTS)])
    seen = 0
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 5:
        msg = consumer.poll(0.5)
        if msg is not None and not msg.error():
            quiet_since = time.monotonic()
            seen += msg.key() == cid.encode()
    consumer.close()
    return seen


def test_a_reproduced_customer_message_changes_nothing(pipeline: Pipeline) -> None:
    cid = f"conv-dup-{uuid.uuid4().hex[:6]}"
    records = conversation(cid, int(time.time() * 1000) - 600_000)
    encode = pipeline.codec.encode
    encoded = {r.value["event_id"]: encode(r.topic, r.value) for r in records}
    pipeline.start_worker()
    produce_records(pipeline.settings, iter(records),
                    encode=lambda topic, value: encoded[value["event_id"]])
    q = pipeline.querier()
    state = ("SELECT events, customer_messages, status FROM conversations FINAL"
             " WHERE conversation_id = {c:String}")
    eventually(lambda: q.sql(state, {"c": cid}).rows == [(14, 5, "ended")], timeout=90)
    insights_before = insight_records(pipeline, cid)
    assert insights_before >= 1

    # the exact bytes of the third customer message, produced again
    again = records[5]
    assert again.value["sender_role"] == "CUSTOMER"
    produce_records(pipeline.settings, iter([again]),
                    encode=lambda topic, value: encoded[value["event_id"]])
    eventually(lambda: pipeline.stats("counters").get("events.consumed{chat.events}", 0) >= 15,
               timeout=60)
    time.sleep(2)

    rows = q.sql("SELECT event_id, count() FROM chat_events WHERE conversation_id = {c:String}"
                 " GROUP BY event_id", {"c": cid}).rows
    assert len(rows) == 14 and all(n == 1 for _, n in rows), rows
    assert q.sql(state, {"c": cid}).rows == [(14, 5, "ended")]
    assert q.sql("SELECT max(events) FROM conversation_states WHERE conversation_id ="
                 " {c:String}", {"c": cid}).rows == [(14,)]
    assert insight_records(pipeline, cid) == insights_before
    counters = pipeline.stats("counters")
    assert counters.get("events.dead_lettered{chat.events}", 0) == 0
