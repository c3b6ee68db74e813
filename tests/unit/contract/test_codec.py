"""The Avro codec: wire format, error reasons, schema resolution, and registry mode."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, topic_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from streams import topics as t
from streams.contract.codec import AvroCodec, LocalSchemas, RegistrySchemas, frame
from streams.contract.manifest import TopicSpec, load_topics, read_topics
from streams.kernel.errors import InvalidMessage
from streams.kernel.paths import SCHEMAS_DIR
from streams.settings import Settings

TOPICS = load_topics()


def example(topic: str, index: int = 0) -> dict[str, Any]:
    path = TOPICS[topic].example_paths()[index]
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


@pytest.fixture
def codec() -> AvroCodec:
    return AvroCodec(LocalSchemas(TOPICS), TOPICS)


CHAT = example(t.CHAT_EVENTS, 1)  # a customer message


# --- local ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_round_trip_with_local_ids(codec: AvroCodec, topic: str) -> None:
    for index in range(len(TOPICS[topic].example_paths())):
        record = example(topic, index)
        data = codec.encode(topic, record)
        assert data[0] == 0
        assert int.from_bytes(data[1:5], "big") == TOPICS[topic].latest.id
        assert codec.decode(topic, data) == record


def test_decoded_types_are_plain(codec: AvroCodec) -> None:
    decoded = codec.decode(t.CHAT_EVENTS, codec.encode(t.CHAT_EVENTS, CHAT))
    assert type(decoded["occurred_at"]) is int
    assert decoded["event_type"] == "MESSAGE" and type(decoded["event_type"]) is str


def test_encode_accepts_datetimes(codec: AvroCodec) -> None:
    when = datetime.fromtimestamp(CHAT["occurred_at"] / 1000, tz=UTC)
    data = codec.encode(t.CHAT_EVENTS, {**CHAT, "occurred_at": when})
    assert data == codec.encode(t.CHAT_EVENTS, CHAT)


def test_encode_fills_defaults(codec: AvroCodec) -> None:
    record = {k: v for k, v in CHAT.items() if k not in ("metadata", "sender_id")}
    decoded = codec.decode(t.CHAT_EVENTS, codec.encode(t.CHAT_EVENTS, record))
    assert decoded["metadata"] == {} and decoded["sender_id"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": 5}, "text"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"event_type": "TYPING"}, "event_type"),
        ({"event_id": None}, "event_id"),
        ({"customer": {"customer_id": 42}}, "customer_id"),
    ],
)
def test_encode_names_the_misfit_field(
    codec: AvroCodec, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=field) as caught:
        codec.encode(t.CHAT_EVENTS, {**CHAT, **change})
    assert not isinstance(caught.value, InvalidMessage)
    assert "ChatEvent" in str(caught.value)


def test_encode_names_a_missing_field(codec: AvroCodec) -> None:
    record = {k: v for k, v in CHAT.items() if k != "conversation_id"}
    with pytest.raises(ValueError, match="conversation_id"):
        codec.encode(t.CHAT_EVENTS, record)


def test_unknown_topic(codec: AvroCodec) -> None:
    with pytest.raises(KeyError, match=r"no\.such\.topic"):
        codec.encode("no.such.topic", CHAT)


# --- every reason a message is invalid ---------------------------------------------------------


def _reason(codec: AvroCodec, data: bytes | None, topic: str = t.CHAT_EVENTS) -> str:
    with pytest.raises(InvalidMessage) as caught:
        codec.decode(topic, data)
    [batched] = codec.decode_many(topic, [data])
    assert isinstance(batched, InvalidMessage) and batched.reason == caught.value.reason
    return caught.value.reason


@pytest.mark.parametrize("data", [None, b"", b"\x00\x00\x00", b"\x01\x00\x00\x00\x01abc",
                                  b'{"event_id": "x"}'])
def test_not_framed(codec: AvroCodec, data: bytes | None) -> None:
    assert _reason(codec, data) == "not_framed"


def test_unknown_schema(codec: AvroCodec) -> None:
    data = codec.encode(t.CHAT_EVENTS, CHAT)
    assert _reason(codec, frame(9999, data[5:])) == "unknown_schema"


def test_wrong_schema(codec: AvroCodec) -> None:
    ad_metric = codec.encode(t.AD_METRICS, example(t.AD_METRICS))
    with pytest.raises(InvalidMessage, match="AdMetric") as caught:
        codec.decode(t.CHAT_EVENTS, ad_metric)
    assert caught.value.reason == "wrong_schema"
    assert _reason(codec, ad_metric) == "wrong_schema"


def test_truncated_is_undecodable_and_chained(codec: AvroCodec) -> None:
    data = codec.encode(t.CHAT_EVENTS, CHAT)
    with pytest.raises(InvalidMessage) as caught:
        codec.decode(t.CHAT_EVENTS, data[:-20])
    assert caught.value.reason == "undecodable"
    assert caught.value.__cause__ is not None
    [batched] = codec.decode_many(t.CHAT_EVENTS, [data[:-20]])
    assert isinstance(batched, InvalidMessage) and batched.__cause__ is not None


def test_trailing_bytes_are_undecodable(codec: AvroCodec) -> None:
    data = codec.encode(t.CHAT_EVENTS, CHAT)
    assert _reason(codec, data + b"\x00\x02") == "undecodable"


def test_garbage_is_undecodable(codec: AvroCodec) -> None:
    assert _reason(codec, frame(TOPICS[t.CHAT_EVENTS].latest.id, b"\xff" * 40)) == "undecodable"


def test_decode_many_keeps_order(codec: AvroCodec) -> None:
    good = codec.encode(t.CHAT_EVENTS, CHAT)
    other = codec.encode(t.CHAT_EVENTS, example(t.CHAT_EVENTS, 0))
    out = codec.decode_many(t.CHAT_EVENTS, [good, None, other, good[:-3], good])
    assert out[0] == CHAT and out[2] == example(t.CHAT_EVENTS, 0) and out[4] == CHAT
    assert isinstance(out[1], InvalidMessage) and out[1].reason == "not_framed"
    assert isinstance(out[3], InvalidMessage) and out[3].reason == "undecodable"


# --- schema resolution: data written with an older version ------------------------------------


@pytest.fixture
def evolved(tmp_path: Path) -> dict[str, TopicSpec]:
    """schemas/ with a chat.events v2 (id 100) that adds a field with a default."""
    root = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, root, ignore=shutil.ignore_patterns("clickhouse"))
    v2 = json.loads((root / "avro/chat_event.v1.avsc").read_text())
    v2["fields"].append({"name": "tenant", "type": "string", "default": "default",
                         "doc": "Tenant of the chat service."})
    (root / "avro/chat_event.v2.avsc").write_text(json.dumps(v2))
    manifest = root / "topics/chat.events.yaml"
    manifest.write_text(manifest.read_text().replace(
        "      schema: avro/chat_event.v1.avsc\n",
        "      schema: avro/chat_event.v1.avsc\n"
        "    - version: 2\n      id: 100\n      schema: avro/chat_event.v2.avsc\n"))
    return dict(read_topics(root))


def test_old_versions_still_decode(codec: AvroCodec, evolved: dict[str, TopicSpec]) -> None:
    new = AvroCodec(LocalSchemas(evolved), evolved)
    written_v1 = codec.encode(t.CHAT_EVENTS, CHAT)
    assert new.decode(t.CHAT_EVENTS, written_v1) == {**CHAT, "tenant": "default"}
    written_v2 = new.encode(t.CHAT_EVENTS, {**CHAT, "tenant": "acme"})
    assert written_v2[1:5] == (100).to_bytes(4, "big")
    assert new.decode_many(t.CHAT_EVENTS, [written_v1, written_v2]) == [
        {**CHAT, "tenant": "default"}, {**CHAT, "tenant": "acme"}]
    assert type(new.decode(t.CHAT_EVENTS, written_v1)["occurred_at"]) is int


# --- registry ids ----------------------------------------------------------------------------


def _registry(prefix: str = "") -> tuple[AvroCodec, RegistrySchemas]:
    source = RegistrySchemas.from_url("mock://codec-tests", TOPICS, topic_prefix=prefix)
    return AvroCodec(source, TOPICS), source


def _serializer(source: RegistrySchemas, topic: str) -> AvroSerializer:
    serializer: AvroSerializer = AvroSerializer(
        source.client,
        TOPICS[topic].latest.schema_str,
        conf={
            "auto.register.schemas": False,
            "subject.name.strategy": topic_subject_name_strategy,
        },
    )
    return serializer


def test_registry_ids_come_from_the_registry() -> None:
    codec, source = _registry(prefix="prod.")
    # other schemas first, so that the registry's ids (from 1 up) pass every local one
    for n in range(max(spec.latest.id for spec in TOPICS.values())):
        source.client.register_schema(f"other{n}-value", Schema('"string"', "AVRO"))
    codec.register_all()
    for topic in TOPICS:
        registered = source.client.get_latest_version(f"prod.{topic}-value")
        data = codec.encode(topic, example(topic))
        assert int.from_bytes(data[1:5], "big") == registered.schema_id
        assert registered.schema_id != TOPICS[topic].latest.id
        assert codec.decode(topic, data) == example(topic)


def test_registry_registers_on_first_use() -> None:
    codec, source = _registry()
    data = codec.encode(t.CHAT_EVENTS, CHAT)
    assert source.client.get_latest_version("chat.events-value").schema_id == int.from_bytes(
        data[1:5], "big")


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_byte_identical_to_avro_serializer(topic: str) -> None:
    codec, source = _registry(prefix="prod.")
    codec.register_all()
    serialize = _serializer(source, topic)
    context = SerializationContext(f"prod.{topic}", MessageField.VALUE)
    for index in range(len(TOPICS[topic].example_paths())):
        record = example(topic, index)
        theirs = serialize(record, context)
        assert codec.encode(topic, record) == theirs
        assert codec.decode(topic, theirs) == record


def test_avro_deserializer_reads_what_we_write() -> None:
    codec, source = _registry()
    data = codec.encode(t.CHAT_EVENTS, CHAT)
    decoded = AvroDeserializer(source.client)(
        data, SerializationContext(t.CHAT_EVENTS, MessageField.VALUE))
    assert decoded is not None
    assert decoded["conversation_id"] == CHAT["conversation_id"]
    assert decoded["occurred_at"] == datetime.fromtimestamp(CHAT["occurred_at"] / 1000, tz=UTC)


def test_registry_reasons() -> None:
    codec, source = _registry()
    codec.register_all()
    data = codec.encode(t.CHAT_EVENTS, CHAT)
    with pytest.raises(InvalidMessage) as unknown:
        codec.decode(t.CHAT_EVENTS, frame(4242, data[5:]))
    assert unknown.value.reason == "unknown_schema"
    ad_metric = codec.encode(t.AD_METRICS, example(t.AD_METRICS))
    with pytest.raises(InvalidMessage) as wrong:
        codec.decode(t.CHAT_EVENTS, ad_metric)
    assert wrong.value.reason == "wrong_schema"
    string_id = source.client.register_schema("plain-value", Schema('"string"', "AVRO"))
    with pytest.raises(InvalidMessage) as primitive:
        codec.decode(t.CHAT_EVENTS, frame(string_id, b"\x02a"))
    assert primitive.value.reason == "wrong_schema"


def test_registry_decodes_an_id_it_did_not_write() -> None:
    """A consumer's codec resolves ids written by another producer's registration."""
    producer, source = _registry()
    data = producer.encode(t.CHAT_EVENTS, CHAT)
    consumer = AvroCodec(RegistrySchemas(source.client, TOPICS), TOPICS)
    assert consumer.decode(t.CHAT_EVENTS, data) == CHAT


# --- settings -------------------------------------------------------------------------------


def test_from_settings_picks_the_source() -> None:
    local = AvroCodec.from_settings(Settings(schema_registry_url=None))
    assert isinstance(local.source, LocalSchemas)
    local.register_all()
    assert local.encode(t.CHAT_EVENTS, CHAT)[1:5] == (1).to_bytes(4, "big")

    remote = AvroCodec.from_settings(
        Settings(schema_registry_url="mock://settings", topic_prefix="dev.")
    )
    assert isinstance(remote.source, RegistrySchemas)
    assert remote.source.subject(t.CHAT_EVENTS) == "dev.chat.events-value"
    assert remote.decode(t.CHAT_EVENTS, remote.encode(t.CHAT_EVENTS, CHAT)) == CHAT
