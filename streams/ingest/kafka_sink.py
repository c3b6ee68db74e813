"""Produce chat events to ``chat.events`` (and dead letters to its dead-letter topic) and wait
for the brokers' acknowledgements.

One confluent-kafka producer (idempotent, ``acks=all``, murmur2 partitioner, so a key lands
where the Java client would put it) is polled by a daemon thread; delivery reports are
counted per ``send`` call in that thread and the caller's future is completed on its event
loop with ``call_soon_threadsafe``. Retries are librdkafka's (with idempotence they neither
duplicate nor reorder); a message it gives up on fails its ``send`` with ``DeliveryError``.

Backpressure: at most ``max_in_flight`` messages are produced but unacknowledged. ``send``
waits for room before producing, in call order, so a slow cluster slows whoever feeds the
sink instead of growing a queue.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Final

from confluent_kafka import KafkaError, Producer

from streams import topics
from streams.contract.codec import AvroCodec
from streams.ingest.sink import DeliveryError
from streams.io.producer import PRODUCER_CONFIG
from streams.kernel.deadletter import DeadLetter
from streams.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MAX_IN_FLIGHT: Final = 20_000
DEFAULT_DELIVERY_TIMEOUT_S: Final = 60.0
POLL_INTERVAL_S: Final = 0.05
#: Pause before producing again when librdkafka's local queue is full.
QUEUE_FULL_PAUSE_S: Final = 0.01

_Headers = list[tuple[str, str | bytes | None]]


class _Pending:
    """Delivery reports of one ``send`` call, counted in the poll thread."""

    __slots__ = ("error", "failed", "future", "lock", "loop", "remaining", "size")

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        # a failure nobody awaits any more (the caller was cancelled) is not an error to report
        self.future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.size = size
        self.remaining = size
        self.failed = 0
        self.error: KafkaError | None = None
        self.lock = threading.Lock()


class KafkaEventSink:
    """An ``EventSink`` writing Avro ChatEvents to the physical ``chat.events`` topic and
    dead letters to ``chat.events.dlq``."""

    def __init__(
        self,
        settings: Settings,
        *,
        codec: AvroCodec | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        delivery_timeout_s: float = DEFAULT_DELIVERY_TIMEOUT_S,
        logical_topic: str = topics.CHAT_EVENTS,
        producer_overrides: Mapping[str, Any] | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        self._codec = codec or AvroCodec.from_settings(settings)
        self._logical = logical_topic
        self.topic = settings.topic(logical_topic)
        self.dlq_topic = settings.topic(topics.dlq(logical_topic))
        self.max_in_flight = max_in_flight
        config: dict[str, Any] = {
            **settings.kafka_client_config(),
            **PRODUCER_CONFIG,
            "partitioner": "murmur2_random",
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "message.timeout.ms": int(delivery_timeout_s * 1000),
            "log_level": 4,
            **(producer_overrides or {}),
        }
        self._producer = Producer(config)
        self._in_flight = 0
        self._room: asyncio.Future[None] | None = None
        self._order: asyncio.Lock | None = None
        self._closed = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-event-sink-poll",
                                        daemon=True)
        self._poller.start()
        self.delivered = 0  # events and dead letters acknowledged

    @property
    def in_flight(self) -> int:
        """Messages produced and not yet acknowledged."""
        return self._in_flight

    def _poll(self) -> None:
        while not self._closed.is_set():
            self._producer.poll(POLL_INTERVAL_S)

    async def send(self, events: Sequence[Mapping[str, Any]],
                   dead_letters: Sequence[DeadLetter] = ()) -> None:
        """Produce ``events`` keyed by conversation id, and ``dead_letters`` with their raw
        key, value and dead-letter headers; return when all are acknowledged."""
        if not events and not dead_letters:
            return
        if self._closed.is_set():
            raise DeliveryError("the sink is closed")
        if self._order is None:
            self._order = asyncio.Lock()
        values: list[tuple[str, bytes | None, bytes | None, _Headers | None]] = [
            (self.topic, event["conversation_id"].encode(),
             self._codec.encode(self._logical, event), None)
            for event in events
        ]
        values.extend(letter.message() for letter in dead_letters)
        loop = asyncio.get_running_loop()
        pending = _Pending(loop, len(values))
        on_delivery = self._reporter(pending)
        async with self._order:  # wait for room and produce in call order
            # a batch larger than the limit goes alone
            while self._in_flight and self._in_flight + len(values) > self.max_in_flight:
                self._room = loop.create_future()
                await self._room
            self._in_flight += len(values)
            for topic, key, value, headers in values:
                while True:
                    try:
                        self._producer.produce(topic, value=value, key=key, headers=headers,
                                               on_delivery=on_delivery)
                        break
                    except BufferError:  # librdkafka's queue is full: let it drain
                        await asyncio.sleep(QUEUE_FULL_PAUSE_S)
        # a cancelled caller leaves the delivery running; its slots are freed all the same
        await asyncio.shield(pending.future)

    def _reporter(self, pending: _Pending) -> Any:
        def on_delivery(err: KafkaError | None, _msg: Any) -> None:  # poll thread
            with pending.lock:
                pending.remaining -= 1
                if err is not None:
                    pending.failed += 1
                    pending.error = pending.error or err
                done = pending.remaining == 0
            if done:
                pending.loop.call_soon_threadsafe(self._complete, pending)

        return on_delivery

    def _complete(self, pending: _Pending) -> None:  # event loop
        self._in_flight -= pending.size
        self.delivered += pending.size - pending.failed
        if self._room is not None and not self._room.done():
            self._room.set_result(None)
        if pending.future.done():
            return
        if pending.failed:
            pending.future.set_exception(DeliveryError(
                f"{pending.failed} of {pending.size} messages not acknowledged by Kafka "
                f"({self.topic}, {self.dlq_topic}): {pending.error}"
            ))
        else:
            pending.future.set_result(None)

    async def close(self, flush_seconds: float = 30.0) -> int:
        """Flush what is in flight, stop polling; returns the events still undelivered."""
        self._closed.set()
        await asyncio.to_thread(self._poller.join)
        remaining: int = await asyncio.to_thread(self._producer.flush, flush_seconds)
        return remaining

    async def __aenter__(self) -> KafkaEventSink:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
