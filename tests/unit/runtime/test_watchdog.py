"""The watchdog: no partition stays stalled until the next rebalance.

A partition whose re-read makes no progress for ``partition_stall_seconds``, or that the
consumer does not fetch although nothing holds it paused (a resume lost on the way), is put
back into the fetch and sought where its position guard needs it; a partition a full buffer
holds paused stays paused (it is sought), and nothing is touched during a rebalance, which
pauses partitions on purpose."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from agents.runtime import core, transport
from agents.runtime.batching import MessageBuffer
from agents.runtime.positions import PositionGuard

TOPIC = "chat.events"
P0, P1 = TP(TOPIC, 0), TP(TOPIC, 1)
STALL = 30.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def guard_waiting(clock: Clock, arrived: bool = False) -> PositionGuard:
    """A guard that needs partition 0 from 0 and has asked to re-read it (records from 4492
    came first); partition 1 goes on normally."""
    guard = PositionGuard(lambda topic, ps: {0: 0, 1: 4100}, lambda t, p, o: None,
                          arrived=lambda t, p, o: arrived, stall_seconds=STALL, clock=clock)
    admission = guard.admit([(TOPIC, 0, 4492), (TOPIC, 1, 4100)], lambda e: e)
    assert admission.rewind == {(TOPIC, 0): 0}
    return guard


def test_a_re_read_without_progress_is_reported_once_per_stall_period() -> None:
    clock = Clock()
    guard = guard_waiting(clock, arrived=True)  # the consumer says it arrived: overdue trusts it
    clock.now = STALL - 1
    assert guard.stalled() == {} and guard.overdue() == {}
    clock.now = STALL
    assert guard.stalled() == {(TOPIC, 0): 0}
    clock.now = STALL + 1
    assert guard.stalled() == {}  # not again before another period
    clock.now = 2 * STALL
    assert guard.stalled() == {(TOPIC, 0): 0}


def test_progress_ends_the_wait_and_a_retried_step_keeps_it() -> None:
    clock = Clock()
    guard = guard_waiting(clock)
    saved = guard.snapshot()
    guard.admit([(TOPIC, 0, 0)], lambda e: e)  # the re-read came ...
    guard.restore(saved)  # ... but its step raised Unavailable and is computed again
    clock.now = STALL
    assert guard.stalled() == {(TOPIC, 0): 0}
    guard.admit([(TOPIC, 0, 0), (TOPIC, 0, 1)], lambda e: e)
    clock.now = 3 * STALL
    assert guard.stalled() == {}
    guard.forget()
    assert guard.stalled() == {}


class FakeApp:
    def __init__(self, channels: dict[TP, list[Any]]) -> None:
        self.rebalancing = False
        self.topics = type("Topics", (), {"_tp_index": channels})()


def batch_topic(buffer: MessageBuffer) -> transport.BatchTopic:
    topic = object.__new__(transport.BatchTopic)
    topic._buffer = buffer
    return topic


@pytest.fixture
def stuck(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, MessageBuffer, list[dict[TP, int]]]:
    """A batching consumer whose partition 0 is not fetched: paused for a full buffer whose
    resume was lost (the buffer no longer holds it)."""
    sought: list[dict[TP, int]] = []

    async def seek_wait(self: Any, partitions: Mapping[TP, int]) -> None:
        sought.append(dict(partitions))

    monkeypatch.setattr(faust_aiokafka.Consumer, "seek_wait", seek_wait)
    buffer = MessageBuffer(capacity=10)
    channel = batch_topic(buffer)
    one: Any = object.__new__(transport.BatchingConsumer)
    one.__dict__.update(
        app=FakeApp({P0: [channel], P1: [channel]}), log=logging.getLogger("test"),
        flow_active=True, assignment=lambda: {P0, P1}, _active_partitions={P1},
        _paused_partitions=set(), _buffered_partitions={P0}, _read_offset={})
    one.start_books()
    return one, buffer, sought


def test_the_watchdog_puts_a_stuck_partition_back_into_the_fetch(
        stuck: tuple[Any, MessageBuffer, list[dict[TP, int]]]) -> None:
    one, _, sought = stuck
    app = type("App", (), {"consumer": one})()
    guard = guard_waiting(Clock())
    assert transport.orphaned(one) == {P0}
    asyncio.run(core.watchdog(app, guard))  # type: ignore[arg-type]
    assert P0 in one._active_partitions and P0 not in one._buffered_partitions
    assert sought == [{P0: 0}]  # where the guard needs it
    assert transport.orphaned(one) == set()
    asyncio.run(core.watchdog(app, guard))  # type: ignore[arg-type]
    assert sought == [{P0: 0}]  # nothing more to do


def test_a_partition_stalled_while_fetched_is_sought_again_after_the_stall_period(
        stuck: tuple[Any, MessageBuffer, list[dict[TP, int]]]) -> None:
    one, _, sought = stuck
    one._buffered_partitions.clear()
    one._active_partitions.add(P0)
    app = type("App", (), {"consumer": one})()
    clock = Clock()
    guard = guard_waiting(clock, arrived=True)
    asyncio.run(core.watchdog(app, guard))  # type: ignore[arg-type]
    assert sought == []
    clock.now = STALL
    asyncio.run(core.watchdog(app, guard))  # type: ignore[arg-type]
    assert sought == [{P0: 0}]


def test_a_partition_a_full_buffer_holds_stays_paused_and_a_rebalance_is_left_alone(
        stuck: tuple[Any, MessageBuffer, list[dict[TP, int]]]) -> None:
    one, buffer, sought = stuck
    paused: list[TP] = []
    full: Any = [Msg(o) for o in range(10)]
    buffer.put_batch(P0, full, paused.append, lambda tp: None)
    assert paused == [P0] and buffer.holds(P0)
    assert transport.orphaned(one) == set()
    done = asyncio.run(one.unstick({P0: 0}))
    assert P0 in one._buffered_partitions and P0 not in one._active_partitions
    assert sought == [{P0: 0}] and "kept paused" in done[P0]
    one.app.rebalancing = True
    buffer._paused.clear()
    assert transport.orphaned(one) == set()
    assert asyncio.run(one.unstick({P0: 0})) == {} and len(sought) == 1


class Msg:
    def __init__(self, offset: int) -> None:
        self.offset, self.tp, self.refcount = offset, P0, 0
