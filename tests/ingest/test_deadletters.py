"""The ingest dead-letter format, and dead letters through KafkaEventSink (producer faked)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from streams import topics
from streams.contract.codec import AvroCodec, LocalSchemas
from streams.contract.manifest import load_topics
from streams.ingest import kafka_sink
from streams.ingest.deadletters import (
    MAX_VALUE_BYTES,
    conversation_key,
    ingest_dead_letter_columns,
    rejected,
    replay_value,
    source_url,
)
from streams.ingest.kafka_sink import KafkaEventSink
from streams.ingest.validate import event_from_json
from streams.kernel.deadletter import HEADER_PREFIX, origin, replay_count
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Raw
from streams.settings import Settings
from tests.ingest.conftest import run

TOPICS = load_topics()
NOW_MS = 1_741_946_500_000


def codec() -> AvroCodec:
    return AvroCodec(LocalSchemas(TOPICS), TOPICS)


def event(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "event_id": "evt-1", "conversation_id": "conv-1", "event_type": "MESSAGE",
        "occurred_at": 1_741_946_412_350, "channel": "WEB", "sender_role": "CUSTOMER",
        "text": "where is my order?", "customer": {},
    }
    value.update(changes)
    return value


def letter(value: str, *, cursor: int | None = 7, key: bytes | None = b"conv-1") -> Any:
    return rejected(value, InvalidMessage("invalid_field", "field channel: 'FAX'"),
                    mode="client", source="ws://chat.example/v1/events",
                    topic="dev.chat.events", dlq_topic="dev.chat.events.dlq", now_ms=NOW_MS,
                    key=key, cursor=cursor)


def test_source_url_keeps_credentials_and_query_out() -> None:
    assert source_url("wss://bot:pw@chat.example:8443/v1/events?token=abc#x") == (
        "wss://chat.example:8443/v1/events")
    assert source_url("ws://[::1]:8766/v1/events") == "ws://[::1]:8766/v1/events"


@pytest.mark.parametrize(("item", "key"), [
    ({"conversation_id": "c-9"}, b"c-9"),
    ({"type": "event", "cursor": 3, "event": {"conversation_id": "c-9"}}, b"c-9"),
    ({"conversation_id": " "}, None),
    ({"conversation_id": 12}, None),
    ([{"conversation_id": "c-9"}], None),
    (None, None),
])
def test_conversation_key(item: object, key: bytes | None) -> None:
    assert conversation_key(item) == key


def test_dead_letter_headers_name_the_origin_that_replay_sends_back_to() -> None:
    dead = letter(json.dumps(event(channel="FAX")))
    headers = dict(dead.headers())
    assert origin(headers) == ("dev.chat.events", -1, -1)
    assert replay_count(dead.headers()) == 0
    assert headers["touchstream.dlq.failed_at"] == b"2025-03-14T10:01:40+00:00"
    # what replay keeps (everything outside the dead-letter prefix): where it came from
    assert [(k, v) for k, v in dead.headers() if not k.startswith(HEADER_PREFIX)] == [
        ("touchstream.ingest.mode", b"client"),
        ("touchstream.ingest.source", b"ws://chat.example/v1/events"),
        ("touchstream.ingest.cursor", b"7"),
    ]


def test_ingest_dead_letters_read_back_from_their_topic_become_rows_keyed_by_that_position(
) -> None:
    value = json.dumps(event(channel="FAX"))
    dead = letter(value)
    topic, key, data, headers = dead.message()
    on_dlq = Raw(topic, 2, 41, NOW_MS + 5, key, data,
                 tuple((k, v if isinstance(v, bytes) else b"") for k, v in headers))
    # a dead letter the worker itself made (its row is in the table already) is skipped
    own = Raw(topic, 2, 42, NOW_MS, b"k", b"\x00bad", (("touchstream.dlq.error", b"undecodable"),))
    cols = ingest_dead_letter_columns([on_dlq, own])
    assert cols["_topic"] == ["dev.chat.events.dlq"] and cols["dlq_topic"] == cols["_topic"]
    assert (cols["_partition"], cols["_offset"]) == ([2], [41])
    assert cols["error"] == ["invalid_field"] and cols["reason"] == ["field channel: 'FAX'"]
    assert cols["failed_at"] == [NOW_MS]
    assert cols["value"] == [value.encode()] and cols["key"] == [b"conv-1"]
    assert cols["headers"][0]["touchstream.ingest.mode"] == "client"


def test_a_huge_value_is_cut_to_fit_a_kafka_message() -> None:
    huge = json.dumps(event(channel="FAX", metadata={"pad": "x" * 1_000_000}))
    dead = letter(huge)
    assert dead.raw.value == huge.encode()[:MAX_VALUE_BYTES]
    assert dict(dead.headers())["touchstream.ingest.truncated"] == str(len(huge)).encode()
    assert "touchstream.ingest.truncated" not in dict(letter(json.dumps(event())).headers())


def test_replay_value_turns_now_valid_json_into_a_chat_event() -> None:
    avro = codec()
    frame = json.dumps({"type": "event", "cursor": 7, "event": event()})
    for value in (frame, json.dumps(event())):
        dead = letter(value)
        replayed = replay_value(dead.headers(), dead.raw.value, avro)
        assert avro.decode(topics.CHAT_EVENTS, replayed) == event_from_json(event())


def test_replay_value_leaves_what_is_still_bad_or_not_from_ingest_alone() -> None:
    avro = codec()
    still_bad = letter(json.dumps(event(channel="FAX")))
    assert replay_value(still_bad.headers(), still_bad.raw.value, avro) == still_bad.raw.value
    not_json = letter("{not json", cursor=None, key=None)
    assert replay_value(not_json.headers(), not_json.raw.value, avro) == b"{not json"
    pipeline_letter = [(HEADER_PREFIX + "error", b"not_framed")]
    assert replay_value(pipeline_letter, json.dumps(event()).encode(), avro) == (
        json.dumps(event()).encode())
    assert replay_value(still_bad.headers(), None, avro) is None


class FakeProducer:
    """confluent-kafka's ``Producer`` as KafkaEventSink uses it, acknowledging everything."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.produced: list[tuple[str, bytes | None, bytes | None, Any]] = []
        self._callbacks: list[Any] = []
        self._lock = threading.Lock()

    def produce(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                headers: Any = None, on_delivery: Any = None) -> None:
        with self._lock:
            self.produced.append((topic, key, value, headers))
            self._callbacks.append(on_delivery)

    def poll(self, timeout: float) -> int:
        with self._lock:
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(None, None)
        if not callbacks:
            time.sleep(timeout)
        return len(callbacks)

    def flush(self, timeout: float) -> int:
        self.poll(0)
        return 0


def test_kafka_sink_produces_dead_letters_to_the_dead_letter_topic(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_sink, "Producer", FakeProducer)
    settings = Settings(topic_prefix="dev.")

    async def body() -> FakeProducer:
        async with KafkaEventSink(settings, codec=codec()) as sink:
            assert (sink.topic, sink.dlq_topic) == ("dev.chat.events", "dev.chat.events.dlq")
            dead = letter(json.dumps(event(channel="FAX")))
            await sink.send([event_from_json(event())], [dead])
            assert sink.delivered == 2 and sink.in_flight == 0
            await sink.send([], [dead])  # dead letters alone are stored too
            producer: FakeProducer = sink._producer  # type: ignore[assignment]
            return producer

    producer = run(body)
    (topic, key, value, headers), *letters = producer.produced
    assert (topic, key, headers) == ("dev.chat.events", b"conv-1", None)
    assert codec().decode(topics.CHAT_EVENTS, value)["event_id"] == "evt-1"
    dead = letter(json.dumps(event(channel="FAX")))
    assert letters == [("dev.chat.events.dlq", b"conv-1", dead.raw.value, dead.headers())] * 2
