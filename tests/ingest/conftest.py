"""Ingest tests run WebSocket servers and clients on loopback, and nothing else.

The suite-wide guard refuses every IPv4/IPv6 connect in unit tests; here connects to
127.0.0.1 / ::1 are let through and anything else is still refused.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import pytest

from streams.kernel.deadletter import DeadLetter

T = TypeVar("T")

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@pytest.fixture(autouse=True)
def _no_network_in_unit_tests(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            raise RuntimeError(f"ingest test tried to connect to {address!r}: loopback only")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


def run(coro_fn: Callable[[], Coroutine[Any, Any, T]], timeout: float = 60.0) -> T:
    """Run an async test body on a fresh event loop, with a deadline."""

    async def bounded() -> T:
        async with asyncio.timeout(timeout):
            return await coro_fn()

    return asyncio.run(bounded())


class MemorySink:
    """The ``send`` interface of KafkaEventSink, storing events and dead letters in lists.

    ``gate`` (when given) must be set before a send completes; ``fail_next`` makes the next
    sends raise DeliveryError; ``delay`` simulates a slow broker.
    """

    topic = "chat.events"
    dlq_topic = "chat.events.dlq"

    def __init__(self, gate: asyncio.Event | None = None, delay: float = 0.0) -> None:
        self.events: list[dict[str, Any]] = []
        self.dead_letters: list[DeadLetter] = []
        self.gate = gate
        self.delay = delay
        self.calls = 0
        self.fail_next = 0

    async def send(self, events: Sequence[Mapping[str, Any]],
                   dead_letters: Sequence[DeadLetter] = ()) -> None:
        from streams.ingest.sink import DeliveryError

        self.calls += 1
        if self.fail_next:
            self.fail_next -= 1
            raise DeliveryError("simulated broker failure")
        batch = [dict(e) for e in events]
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.events.extend(batch)
        self.dead_letters.extend(dead_letters)


def dlq_headers(letter: DeadLetter) -> dict[str, str]:
    """The headers a dead letter carries on Kafka, as text."""
    return {k: v.decode() for k, v in letter.headers()}
