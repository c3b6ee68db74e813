"""`touchstream simulate`: synthetic traffic into the input topics, plus bad messages on
request (to show dead-lettering)."""

from __future__ import annotations

import itertools
import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import fastavro
from confluent_kafka import Producer

from streams import topics
from streams.contract.codec import AvroCodec
from streams.io.producer import ProduceReport, produce_records
from streams.kernel.records import OutputRecord
from streams.settings import Settings
from streams.simulators.chat import ad_metrics, conversations


def interleave(*streams: Iterator[OutputRecord]) -> Iterator[OutputRecord]:
    """Round-robin over several record streams until all are exhausted."""
    sentinel = object()
    for group in itertools.zip_longest(*streams, fillvalue=sentinel):
        for item in group:
            if item is not sentinel:
                assert isinstance(item, OutputRecord)
                yield item


# A chat event written without most of its fields: decoding it with the real schema fails.
_TRUNCATED_CHAT = fastavro.parse_schema({
    "type": "record", "name": "TruncatedChatEvent", "namespace": "io.touchstream.test",
    "fields": [{"name": "event_id", "type": "string"},
               {"name": "conversation_id", "type": "string"}],
})


@dataclass(frozen=True)
class BadMessage:
    topic: str
    key: bytes | None
    value: bytes
    kind: str


def bad_messages(codec: AvroCodec, logical_topic: str, count: int, seed: int = 3) -> list[BadMessage]:
    """Messages that must be dead-lettered: garbage, another topic's schema, missing fields,
    a contract violation. Cycles through the kinds."""
    import io

    rng = random.Random(seed)
    chat = next(conversations(2, seed=seed))
    metric = next(ad_metrics(1, seed=seed))
    out: list[BadMessage] = []
    for i in range(count):
        kind = ("garbage", "wrong_schema", "missing_fields", "contract")[i % 4]
        if kind == "garbage":
            value = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
            if value[:1] == b"\x00":
                value = b"\xff" + value
        elif kind == "wrong_schema":
            other = topics.AD_METRICS if logical_topic == topics.CHAT_EVENTS else topics.CHAT_EVENTS
            value = codec.encode(other, (metric if other == topics.AD_METRICS else chat).value)
        elif kind == "missing_fields":
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, _TRUNCATED_CHAT, {"event_id": f"bad-{i}",
                                                              "conversation_id": "c"})
            schema_id = struct.unpack(">I", codec.encode(logical_topic, (
                chat if logical_topic == topics.CHAT_EVENTS else metric).value)[1:5])[0]
            value = b"\x00" + struct.pack(">I", schema_id) + buf.getvalue()
        else:
            if logical_topic == topics.CHAT_EVENTS:
                record = dict(chat.value, event_type="MESSAGE", text="   ", event_id=f"bad-{i}")
            else:
                record = dict(metric.value, impressions=-5)
            value = codec.encode(logical_topic, record)
        # a contract violation carries a proper key, so that only the broken rule trips
        key = (chat.key if logical_topic == topics.CHAT_EVENTS else metric.key) \
            if kind == "contract" else f"bad-{i}"
        out.append(BadMessage(logical_topic, key.encode(), value, kind))
    return out


def produce_bad(settings: Settings, messages: list[BadMessage]) -> None:
    producer = Producer({**settings.kafka_client_config(), "partitioner": "murmur2_random"})
    for m in messages:
        producer.produce(settings.topic(m.topic), key=m.key, value=m.value)
    if producer.flush(30):
        raise RuntimeError("bad messages were not delivered")


def run_simulation(
    settings: Settings,
    chat_events: int,
    ad_metric_count: int,
    *,
    rate: float | None = None,
    seed: int = 7,
    bad: int = 0,
    progress: bool = False,
) -> ProduceReport:
    codec = AvroCodec.from_settings(settings)
    records = interleave(
        conversations(chat_events, seed=seed), ad_metrics(ad_metric_count, seed=seed + 1)
    )
    report = produce_records(settings, records, encode=codec.encode, rate=rate,
                             progress=progress, total=chat_events + ad_metric_count)
    if bad:
        messages = [
            *bad_messages(codec, topics.CHAT_EVENTS, bad, seed),
            *bad_messages(codec, topics.AD_METRICS, bad, seed),
        ]
        produce_bad(settings, messages)
        for m in messages:
            report.counts[m.topic + " (bad)"] = report.counts.get(m.topic + " (bad)", 0) + 1
    return report
