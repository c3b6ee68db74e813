"""Errors where they belong: a bad message is dead-lettered, an unavailable dependency never
is; the schema registry's failures are told apart (network, 5xx: unavailable; 404: a bad
message; anything else: neither)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.schema_registry.error import SchemaRegistryError

from streams import topics
from streams.contract.codec import AvroCodec, LocalSchemas, RegistrySchemas
from streams.contract.manifest import load_topics
from streams.kernel.deadletter import DeadLetter
from streams.kernel.errors import InvalidMessage, RowsRejected, Unavailable
from streams.kernel.records import BatchResult, Raw
from streams.kernel.step import one_by_one, poison
from streams.simulators.chat import ad_metrics

DLQ = "ad.metrics.dlq"


@dataclass
class Batch:
    result: BatchResult = field(default_factory=BatchResult)
    dead: list[DeadLetter] = field(default_factory=list)


def raw(offset: int, value: bytes | None = b"x") -> Raw:
    return Raw("ad.metrics", 0, offset, 1_700_000_000_000, b"k", value)


def step_failing_on(offset: int, exc: Exception) -> Any:
    def step(r: Raw) -> Batch:
        if r.offset == offset:
            raise exc
        return Batch(result=BatchResult(processed=1))

    return step


def test_a_poison_message_is_dead_lettered_and_the_others_go_through() -> None:
    out = one_by_one(Batch(), [raw(0), raw(1), raw(2)], step_failing_on(1, KeyError("boom")),
                     DLQ, 0)
    assert out.result.processed == 2
    assert [(d.raw.offset, d.error) for d in out.dead] == [(1, "processing_failed")]
    assert "KeyError" in out.dead[0].reason


@pytest.mark.parametrize("exc", [
    Unavailable("schema_registry", "connection refused"),
    ConnectionError("connection refused"),
    TimeoutError("timed out"),
])
def test_an_unavailable_dependency_is_never_dead_lettered(exc: Exception) -> None:
    out = Batch()
    with pytest.raises(type(exc)):
        one_by_one(out, [raw(0), raw(1), raw(2)], step_failing_on(1, exc), DLQ, 0)
    assert out.dead == []
    assert out.result.dead == 0
    with pytest.raises(type(exc)):
        poison(raw(1), exc, DLQ, 0)


def test_rows_rejected_names_table_column_and_a_short_sample_row() -> None:
    error = RowsRejected("campaign_kpis", "ctr", "no such columns ['ctr']",
                         {"campaign_id": "c1", "ctr": 0.5, "text": "x" * 500})
    text = str(error)
    assert "table campaign_kpis" in text and "column ctr" in text
    assert "campaign_id='c1'" in text and "ctr=0.5" in text
    assert len(error.sample["text"]) == 120 and error.sample["text"].endswith("...")
    assert isinstance(error, ValueError)  # an insert that cannot fit is a ValueError too


# --- the schema registry ----------------------------------------------------------------


class FakeRegistry:
    """The three calls the codec makes, failing with ``failure`` until it is cleared."""

    def __init__(self, failure: Exception | None) -> None:
        self.failure = failure
        self.schemas = {v.id: v.schema_str for s in load_topics().values() for v in s.versions}
        self.calls = 0

    def _answer(self) -> None:
        self.calls += 1
        if self.failure is not None:
            raise self.failure

    def get_schema(self, schema_id: int) -> Schema:
        self._answer()
        if schema_id not in self.schemas:
            raise SchemaRegistryError(404, 40403, "Schema not found")
        return Schema(self.schemas[schema_id], "AVRO")

    def lookup_schema(self, subject: str, schema: Schema) -> Any:
        self._answer()
        found = next(i for i, s in self.schemas.items() if s == schema.schema_str)
        return type("Registered", (), {"schema_id": found})()

    def register_schema(self, subject: str, schema: Schema) -> int:
        raise AssertionError("every schema is already registered")


def registry_codec(fake: FakeRegistry) -> AvroCodec:
    specs = load_topics()
    return AvroCodec(RegistrySchemas(cast(SchemaRegistryClient, fake), specs), specs)


def encoded_ads(count: int) -> list[bytes]:
    local = AvroCodec(LocalSchemas(load_topics()))
    return [local.encode(r.topic, r.value) for r in ad_metrics(count, seed=3)]


@pytest.mark.parametrize("failure", [
    httpx.ConnectError("[Errno 111] Connection refused"),
    httpx.ReadTimeout("timed out"),
    ConnectionRefusedError(111, "Connection refused"),
    SchemaRegistryError(503, 50003, "overloaded"),
    SchemaRegistryError(500, 50001, "store error"),
    SchemaRegistryError(429, 42901, "slow down"),
])
def test_a_registry_that_cannot_answer_is_unavailable_until_it_answers(
        failure: Exception) -> None:
    fake = FakeRegistry(failure)
    codec = registry_codec(fake)
    datas = encoded_ads(3)
    with pytest.raises(Unavailable) as caught:
        codec.decode_many(topics.AD_METRICS, datas)
    assert caught.value.dependency == "schema_registry"
    assert caught.value.__cause__ is failure
    with pytest.raises(Unavailable):
        codec.encode(topics.CAMPAIGN_KPIS, {})
    # nothing is remembered of the failure: once the registry answers, all decodes
    fake.failure = None
    decoded = codec.decode_many(topics.AD_METRICS, datas)
    assert all(isinstance(d, dict) for d in decoded)


def test_an_id_the_registry_does_not_know_is_a_bad_message() -> None:
    fake = FakeRegistry(None)
    codec = registry_codec(fake)
    unknown = b"\x00\x00\x00\x7f\xff" + encoded_ads(1)[0][5:]
    [decoded] = codec.decode_many(topics.AD_METRICS, [unknown])
    assert isinstance(decoded, InvalidMessage) and decoded.reason == "unknown_schema"


def test_a_refusal_that_no_retry_fixes_is_neither_unavailable_nor_a_bad_message() -> None:
    fake = FakeRegistry(SchemaRegistryError(401, 40101, "unauthorized"))
    codec = registry_codec(fake)
    with pytest.raises(SchemaRegistryError) as caught:
        codec.decode_many(topics.AD_METRICS, encoded_ads(1))
    assert not isinstance(caught.value, Unavailable | InvalidMessage)


def test_any_schema_source_that_loses_its_connection_is_unavailable() -> None:
    class Flaky(LocalSchemas):
        def schema(self, schema_id: int) -> dict[str, Any] | None:
            raise ConnectionError("registry went away")

    codec = AvroCodec(Flaky(load_topics()))
    with pytest.raises(Unavailable, match="registry went away"):
        codec.decode_many(topics.AD_METRICS, encoded_ads(1))


def test_the_worker_client_fails_fast_instead_of_sleeping_in_the_event_loop() -> None:
    source = RegistrySchemas.from_url("mock://fast", load_topics(), timeout_seconds=2.0)
    rest = source.client._rest_client  # the client keeps its settings there
    assert (rest.max_retries, rest.timeout) == (0, 2.0)
    default = RegistrySchemas.from_url("mock://default", load_topics())
    assert default.client._rest_client.max_retries == 3
