"""Client mode against the real broker: chat-service simulator (dropping connections and
resending) -> client -> KafkaEventSink -> chat.events, read back with a plain consumer."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from streams import topics
from streams.contract.codec import AvroCodec
from streams.ingest.client import ClientConfig, run_client
from streams.ingest.kafka_sink import KafkaEventSink
from streams.ingest.tokens import issue
from streams.io.kafka_admin import create_topics
from streams.settings import Settings
from streams.simulators.chat_service import ChatService, ChatServiceConfig

pytestmark = pytest.mark.integration

SECRET = "integration-secret"
COUNT = 3_000


def _consume_all(settings: Settings, expected: int, within: float = 60.0) -> list[Any]:
    topic = settings.topic(topics.CHAT_EVENTS)
    consumer = Consumer({**settings.kafka_client_config(), "group.id": f"check-{uuid.uuid4()}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "log_level": 3})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        messages: list[Any] = []
        deadline = time.monotonic() + within
        quiet_until = None
        while time.monotonic() < deadline:
            batch = consumer.consume(1_000, timeout=0.5)
            messages.extend(m for m in batch if m.error() is None)
            if len(messages) >= expected:
                # keep reading briefly: a duplicate would arrive now
                quiet_until = quiet_until or time.monotonic() + 2.0
                if time.monotonic() > quiet_until:
                    break
        return messages
    finally:
        consumer.close()


def test_client_to_kafka_delivers_every_event_exactly_once(broker: str, tmp_path: Path) -> None:
    settings = Settings(kafka_bootstrap_servers=broker,
                        topic_prefix=f"ingest{uuid.uuid4().hex[:8]}.")
    create_topics(settings)

    async def body() -> ChatService:
        service = ChatService(ChatServiceConfig(
            port=0, secret=SECRET, count=COUNT, seed=21, start_ms=1_741_900_000_000,
            drop_probability=0.01, resend=10, rate=5_000))
        await service.start()
        sink = KafkaEventSink(settings, max_in_flight=500)
        stop = asyncio.Event()
        config = ClientConfig(
            url=f"ws://127.0.0.1:{service.port}/events",
            token=issue("touchstream", "chat_service", 600, SECRET, time.time()),
            state_path=tmp_path / "cursor.json", batch_max=100, batch_ms=20,
            backoff_initial=0.02, backoff_max=0.2)
        client = asyncio.create_task(run_client(config, sink, stop))
        try:
            deadline = time.monotonic() + 120
            while service.stats.acked_cursor != COUNT - 1:
                assert time.monotonic() < deadline, "not all events acknowledged in time"
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            stats = await client
            assert await sink.close() == 0
            await service.close()
        assert service.stats.drops > 0 and stats.connections > 1
        assert stats.produced == COUNT and sink.delivered == COUNT
        return service

    service = asyncio.run(body())
    messages = _consume_all(settings, COUNT)
    codec = AvroCodec.from_settings(settings)
    records = [(m.key().decode(), m.partition(), m.offset(), codec.decode(topics.CHAT_EVENTS,
                                                                          m.value()))
               for m in messages]
    ids = [r[3]["event_id"] for r in records]
    assert len(ids) == COUNT and len(set(ids)) == COUNT
    assert set(ids) == {e["event_id"] for e in service.events}
    assert all(key == rec["conversation_id"] for key, _, _, rec in records)
    # per conversation, Kafka order (one partition per key) is the service's order
    expected: dict[str, list[str]] = defaultdict(list)
    for event in service.events:
        expected[event["conversation_id"]].append(event["event_id"])
    got: dict[str, list[str]] = defaultdict(list)
    for _, _, _, rec in sorted(records, key=lambda r: (r[1], r[2])):
        got[rec["conversation_id"]].append(rec["event_id"])
    assert got == expected
