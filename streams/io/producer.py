"""Produce simulated (or any) records to Kafka at full speed or at a steady rate.

The value codec is injected (``encode(logical_topic, value) -> bytes``), so this module knows
Kafka and pacing, not Avro. Keys are UTF-8; the partitioner is murmur2 like the Java client and
aiokafka, so a key lands on the same partition whoever produced it. Message timestamps are
left to the client (the time of production).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from confluent_kafka import KafkaError, Producer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from streams.kernel.records import OutputRecord
from streams.settings import Settings

Encode = Callable[[str, Mapping[str, Any]], bytes]

#: Throughput and durability settings layered over the connection settings.
PRODUCER_CONFIG: Final[dict[str, Any]] = {
    "linger.ms": 5,
    "batch.size": 1_000_000,
    "batch.num.messages": 10_000,
    "compression.type": "lz4",
    "partitioner": "murmur2_random",
    "acks": "all",
    "enable.idempotence": True,
}
FLUSH_TIMEOUT_S: Final = 60.0
#: Waits shorter than this are carried as debt instead of slept (sleep granularity).
MIN_SLEEP_S: Final = 0.001
PROGRESS_REFRESH_S: Final = 0.1


class ProduceError(RuntimeError):
    """Some records were not acknowledged by the brokers."""


@dataclass
class ProduceReport:
    counts: dict[str, int]  # logical topic -> records delivered
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def rate(self) -> float:
        """Records per second over the whole run, flush included."""
        return self.total / self.seconds if self.seconds > 0 else 0.0


@dataclass
class TokenBucket:
    """Steady pacing at ``rate`` tokens per second.

    The bucket holds at most ``burst`` tokens (default: 10 ms worth, at least one), so a
    paced producer sends a smooth stream rather than a burst at the start of every second.
    Taking more tokens than are there leaves a debt that the caller waits off; ``clock`` is
    injectable so the arithmetic is testable without sleeping.
    """

    rate: float
    burst: float | None = None
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _last: float = field(init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"rate must be positive, got {self.rate}")
        if self.burst is None:
            self.burst = max(1.0, self.rate / 100)
        self._tokens = self.burst
        self._last = self.clock()

    def take(self, n: float = 1.0) -> float:
        """Take ``n`` tokens now; return how many seconds to wait before using them."""
        assert self.burst is not None
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        self._tokens -= n
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self, n: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> None:
        """Take ``n`` tokens, sleeping off the debt once it is worth a sleep."""
        wait = self.take(n)
        if wait >= MIN_SLEEP_S:
            sleep(wait)


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- ev/s" if speed is None else f"{speed:,.0f} ev/s", style="cyan")


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


def producer_config(settings: Settings) -> dict[str, Any]:
    """librdkafka settings of the simulator's producer."""
    return {**settings.kafka_client_config(), **PRODUCER_CONFIG}


def produce_records(
    settings: Settings,
    records: Iterable[OutputRecord],
    *,
    encode: Encode,
    rate: float | None = None,
    progress: bool = False,
    total: int | None = None,
) -> ProduceReport:
    """Produce ``records`` to their physical topics and wait until all are acknowledged.

    ``rate`` paces production in records per second; ``progress`` shows a progress bar on
    stderr (``total`` sizes it). Raises ``ProduceError`` if any record was not delivered.
    """
    producer = Producer(producer_config(settings))
    failures: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _msg: Any) -> None:
        if err is not None:
            failures.append(err)

    bucket = TokenBucket(rate) if rate else None
    physical: dict[str, str] = {}
    counts: dict[str, int] = {}
    bar = _progress_bar() if progress else None
    task = bar.add_task("producing", total=total) if bar else None
    started = time.perf_counter()
    last_refresh = started
    shown = produced = 0
    if bar:
        bar.start()
    try:
        for rec in records:
            if bucket:
                bucket.acquire()
            topic = physical.get(rec.topic)
            if topic is None:
                topic = physical[rec.topic] = settings.topic(rec.topic)
            value = encode(rec.topic, rec.value)
            key = rec.key.encode()
            while True:
                try:
                    producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
                    break
                except BufferError:  # local queue full: let deliveries drain it
                    producer.poll(0.05)
            producer.poll(0)
            counts[rec.topic] = counts.get(rec.topic, 0) + 1
            produced += 1
            if bar is not None and task is not None:
                now = time.perf_counter()
                if now - last_refresh >= PROGRESS_REFRESH_S:
                    bar.advance(task, produced - shown)
                    shown, last_refresh = produced, now
        remaining = producer.flush(FLUSH_TIMEOUT_S)
        if bar is not None and task is not None:
            bar.advance(task, produced - shown)
    finally:
        if bar:
            bar.stop()
    seconds = time.perf_counter() - started
    if remaining:
        raise ProduceError(f"{remaining} of {produced} records still undelivered after "
                           f"{FLUSH_TIMEOUT_S:.0f} s")
    if failures:
        raise ProduceError(f"{len(failures)} of {produced} records failed; first: "
                           f"{failures[0]}")
    return ProduceReport(counts=counts, seconds=seconds)
