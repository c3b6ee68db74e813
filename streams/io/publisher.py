"""Publishing output and dead-letter records from a worker, durably, one batch at a time.

A librdkafka producer (confluent-kafka) does the per-message work in C; ``publish`` returns
only when the broker has acknowledged every record of the batch, so a batch's outputs are on
Kafka before its offsets can be committed. Delivery failures are infrastructure faults: they
are retried with back-off, never dropped.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, Message, Producer

from streams.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str  # physical topic
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, str | bytes | None]] | None = None
    partition: int | None = None  # None: the partitioner's choice (by key)


class PublishError(RuntimeError):
    pass


class Publisher:
    def __init__(self, settings: Settings, *, retry_initial: float = 0.2, retry_max: float = 10.0,
                 on_retry: Callable[[str], None] | None = None) -> None:
        """``on_retry(topic)``: called for the first record's topic of a batch retried."""
        self._producer = Producer({
            **settings.kafka_client_config(),
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 2,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",
            "log_level": 3,
        })
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._on_retry = on_retry

    def _send_all(self, records: Sequence[Outgoing]) -> list[str]:
        errors: list[str] = []

        def on_delivery(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                errors.append(str(err))

        produce = self._producer.produce
        poll = self._producer.poll
        for r in records:
            while True:
                try:
                    produce(r.topic, key=r.key, value=r.value,
                            partition=-1 if r.partition is None else r.partition,  # -1: by key
                            headers=list(r.headers) if r.headers else None,
                            on_delivery=on_delivery)
                    break
                except BufferError:
                    poll(0.05)
        remaining = self._producer.flush(30)
        if remaining:
            errors.append(f"{remaining} records still undelivered after 30 s")
        return errors

    async def publish(self, records: Sequence[Outgoing]) -> None:
        """Deliver every record; retries the whole batch on failure (duplicates are possible,
        losses are not: outputs are at-least-once like everything else)."""
        if not records:
            return
        loop = asyncio.get_running_loop()
        delay = self._retry_initial
        while True:
            errors = await loop.run_in_executor(None, self._send_all, records)
            if not errors:
                return
            log.warning("publishing %d records failed (%s); retrying in %.1fs",
                        len(records), errors[0], delay)
            if self._on_retry is not None:
                self._on_retry(records[0].topic)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self._retry_max)

    def close(self) -> None:
        self._producer.flush(10)

