"""Dead-letter replay: move dead-lettered messages back to the topic they came from.

Reads a dead-letter topic from the replay consumer group's committed position up to its end,
re-produces each message's original key, value and headers to its original topic (with a
replay count), flushes, and only then commits. ``dry_run`` lists what would move and commits
nothing. A message that is still bad is simply dead-lettered again, with its count raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from streams.contract.codec import AvroCodec
from streams.ingest.deadletters import replay_value
from streams.kernel.deadletter import H_ERROR, H_REASON, H_REPLAYS, HEADER_PREFIX, origin, replay_count
from streams.settings import Settings
from streams.topics import dlq


def _as_bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else value


@dataclass(frozen=True)
class ReplayItem:
    dlq_partition: int
    dlq_offset: int
    target_topic: str
    original_partition: int
    original_offset: int
    error: str
    reason: str


@dataclass
class ReplayReport:
    dlq_topic: str
    items: list[ReplayItem] = field(default_factory=list)
    skipped: int = 0  # messages without dead-letter headers (left alone, still committed)
    dry_run: bool = False


def replay(
    settings: Settings,
    logical_topic: str,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    on_item: Callable[[ReplayItem], None] | None = None,
    timeout: float = 30.0,
) -> ReplayReport:
    dlq_topic = settings.topic(dlq(logical_topic))
    report = ReplayReport(dlq_topic=dlq_topic, dry_run=dry_run)
    conf = settings.kafka_client_config()
    consumer = Consumer({
        **conf,
        "group.id": f"{settings.app_id}.dlq-replay",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
    })
    producer = Producer({**conf, "acks": "all", "enable.idempotence": True, "linger.ms": 5})
    codec = AvroCodec.from_settings(settings)
    try:
        metadata = consumer.list_topics(dlq_topic, timeout=timeout)
        partitions = metadata.topics[dlq_topic].partitions
        if not partitions:
            return report
        consumer.assign([TopicPartition(dlq_topic, p) for p in partitions])
        committed = consumer.committed(
            [TopicPartition(dlq_topic, p) for p in partitions], timeout=timeout
        )
        ends: dict[int, int] = {}
        for tp in committed:
            low, high = consumer.get_watermark_offsets(tp, timeout=timeout)
            start = tp.offset if tp.offset >= 0 else low
            if start < high:
                ends[tp.partition] = high
                consumer.seek(TopicPartition(dlq_topic, tp.partition, start))
        positions: dict[int, int] = {}
        deadline = time.monotonic() + timeout
        while ends and time.monotonic() < deadline:
            if limit is not None and len(report.items) >= limit:
                break
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            error = msg.error()
            partition, offset = msg.partition(), msg.offset()
            if partition is None or offset is None:
                continue
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    ends.pop(partition, None)
                    continue
                raise RuntimeError(f"consuming {dlq_topic}: {error}")
            if partition not in ends:
                continue
            if offset >= ends[partition] - 1:
                ends.pop(partition, None)
            raw_headers: Any = msg.headers() or []
            headers = [(str(k), _as_bytes(v)) for k, v in raw_headers]
            as_map = dict(headers)
            where = origin(as_map)
            positions[partition] = offset + 1
            if where is None:
                report.skipped += 1
                continue
            target, orig_partition, orig_offset = where
            item = ReplayItem(
                dlq_partition=partition, dlq_offset=offset, target_topic=target,
                original_partition=orig_partition, original_offset=orig_offset,
                error=as_map.get(H_ERROR, b"").decode(), reason=as_map.get(H_REASON, b"").decode(),
            )
            report.items.append(item)
            if on_item:
                on_item(item)
            if not dry_run:
                kept: list[tuple[str, str | bytes | None]] = [
                    (k, v) for k, v in headers if not k.startswith(HEADER_PREFIX)
                ]
                kept.append((H_REPLAYS, str(replay_count(headers) + 1).encode()))
                # ingest dead letters hold the JSON as received: Avro once it passes
                value = replay_value(headers, msg.value(), codec)
                producer.produce(target, key=msg.key(), value=value, headers=kept)
                producer.poll(0)
        if not dry_run and positions:
            remaining = producer.flush(timeout)
            if remaining:
                raise RuntimeError(f"{remaining} replayed messages were not delivered; not committing")
            consumer.commit(
                offsets=[TopicPartition(dlq_topic, p, o) for p, o in positions.items()],
                asynchronous=False,
            )
    finally:
        consumer.close()
    return report
