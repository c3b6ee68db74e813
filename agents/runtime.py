"""What every agent shares: settings, codec, ClickHouse sink, counters, and the steps that
turn a Faust batch into a sunk, acknowledged batch."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import faust

from streams.batch import BatchResult, Raw
from streams.clickhouse import ClickHouse
from streams.codec import AvroCodec
from streams.deadletter import DeadLetter
from streams.metrics import Counters
from streams.publisher import Outgoing, Publisher
from streams.settings import Settings
from streams.sink import Sink

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    codec: AvroCodec
    clickhouse: ClickHouse
    sink: Sink
    publisher: Publisher
    counters: Counters

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        counters = Counters()
        clickhouse = ClickHouse.from_settings(settings)
        sink = Sink(
            clickhouse,
            counters,
            retry_initial_seconds=settings.sink_retry_initial_seconds,
            retry_max_seconds=settings.sink_retry_max_seconds,
        )
        publisher = Publisher(
            settings,
            retry_initial=settings.sink_retry_initial_seconds,
            retry_max=settings.sink_retry_max_seconds,
        )
        return cls(settings, AvroCodec.from_settings(settings), clickhouse, sink, publisher,
                   counters)


def raw_of(event: faust.EventT[Any]) -> Raw:
    message = event.message
    headers: Any = message.headers or ()
    if isinstance(headers, dict):
        headers = headers.items()
    return Raw(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=int(message.timestamp * 1000),
        key=message.key,
        value=message.value,
        headers=tuple((str(k), bytes(v or b"")) for k, v in headers),
    )


def now_ms() -> int:
    return int(time.time() * 1000)


async def finish_batch(
    runtime: Runtime,
    source: str,
    result: BatchResult,
    dead: Sequence[DeadLetter],
    consumed: int,
) -> None:
    """Dead-letter, sink and publish one batch; returns when all of it is durable.

    Dead letters reach their topic first, then ClickHouse gets the rows, then the output
    records are published: when this returns the batch's offsets may be committed.
    """
    for letter in dead:
        log.warning(
            "dead-lettered %s[%d]@%d: %s: %s",
            letter.raw.topic, letter.raw.partition, letter.raw.offset, letter.error, letter.reason,
        )
    await runtime.publisher.publish(
        [Outgoing(letter.dlq_topic, letter.raw.key, letter.raw.value, list(letter.headers()))
         for letter in dead]
    )
    await runtime.sink.write(result.inserts)
    settings = runtime.settings
    encode = runtime.codec.encode
    await runtime.publisher.publish(
        [Outgoing(settings.topic(r.topic), r.key.encode(), encode(r.topic, r.value))
         for r in result.outputs]
    )
    counters = runtime.counters
    counters.incr("batches", source)
    counters.incr("events.consumed", source, consumed)
    counters.incr("events.processed", source, result.processed)
    counters.incr("outputs.produced", source, len(result.outputs))
    if result.dead:
        counters.incr("events.dead_lettered", source, result.dead)
