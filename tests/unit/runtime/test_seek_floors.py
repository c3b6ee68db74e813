"""No seek moves a partition past what its position guard still needs.

The stall after a rebalance: the guard of a newly assigned partition asked to re-read it
from the offset its store needs (0), and a later seek of the same consumer (the re-read of
records dropped during the rebalance, at the committed offset another worker had reached;
or the seek to the committed offsets while flow was stopped) moved it forward again: the
re-read never arrived and the guard asked again every few seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from agents.runtime import transport
from agents.runtime.positions import PositionGuard

TOPIC = "chat.events"
P0, P1, LOG = TP(TOPIC, 0), TP(TOPIC, 1), TP("app-changelog", 0)


class FakeApp:
    def __init__(self) -> None:
        self.add_position_floor = transport.App.add_position_floor.__get__(self)


def guard_at(next_offsets: dict[int, int]) -> PositionGuard:
    """A guard that has admitted nothing yet and needs ``next_offsets``."""
    guard = PositionGuard(lambda topic, ps: {p: next_offsets[p] for p in ps},
                          lambda topic, p, o: None, clock=lambda: 0.0)
    # a batch at the committed offset another worker reached: the guard seeks back
    admission = guard.admit([(TOPIC, 0, 4492), (TOPIC, 1, 4100)], lambda e: e)
    assert admission.rewind == {(TOPIC, 0): 0}
    return guard


@pytest.fixture
def consumer(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[dict[TP, int]]]:
    sought: list[dict[TP, int]] = []

    async def seek_wait(self: Any, partitions: Mapping[TP, int]) -> None:
        sought.append(dict(partitions))
        for tp, offset in partitions.items():
            self._read_offset[tp] = offset

    async def perform_seek(self: Any) -> None:  # Faust's: every partition to its commit
        sought.append(dict(self.committed))
        self._read_offset.update(self.committed)

    monkeypatch.setattr(faust_aiokafka.Consumer, "seek_wait", seek_wait)
    monkeypatch.setattr(faust_aiokafka.Consumer, "perform_seek", perform_seek)
    one: Any = object.__new__(transport.BatchingConsumer)
    app = FakeApp()
    guard = guard_at({0: 0, 1: 4100})
    app.add_position_floor(lambda tp: guard.next_offset(tp.topic, tp.partition)
                           if tp.topic == TOPIC else None)
    one.__dict__.update(app=app, _read_offset={}, committed={P0: 4492, P1: 4100, LOG: 77},
                        assignment=lambda: {P0, P1, LOG}, log=logging.getLogger("test"))
    one.start_books()
    return one, sought


def test_a_later_seek_forward_stops_where_the_guard_needs(
        consumer: tuple[Any, list[dict[TP, int]]]) -> None:
    one, sought = consumer
    # the guard's re-read of partition 0 from 0, then the re-read of what was dropped
    asyncio.run(one.seek_wait({P0: 0}))
    asyncio.run(one.seek_wait({P0: 4492, P1: 4200, LOG: 90}))
    assert sought == [{P0: 0}, {P0: 0, P1: 4101, LOG: 90}]


def test_the_seek_to_committed_offsets_goes_back_to_what_the_guard_needs(
        consumer: tuple[Any, list[dict[TP, int]]]) -> None:
    one, sought = consumer
    asyncio.run(one.perform_seek())
    assert sought == [{P0: 4492, P1: 4100, LOG: 77}, {P0: 0}]


def test_a_seek_back_is_never_moved_forward() -> None:
    floors = [lambda tp: 10 if tp == P0 else None]
    assert transport.not_past({P0: 3, P1: 99}, floors) == {P0: 3, P1: 99}
    assert transport.not_past({P0: 30}, floors) == {P0: 10}
    assert transport.not_past({P0: 30}, []) == {P0: 30}


def test_the_guard_says_what_it_needs_until_it_forgets() -> None:
    guard = guard_at({0: 0, 1: 4100})
    assert guard.next_offset(TOPIC, 0) == 0
    assert guard.next_offset(TOPIC, 1) == 4101  # 4100 admitted
    guard.forget()
    assert guard.next_offset(TOPIC, 0) is None


def test_the_consumer_knows_when_the_records_a_seek_asked_for_were_fetched(
        consumer: tuple[Any, list[dict[TP, int]]]) -> None:
    one, _ = consumer
    asyncio.run(one.seek_wait({P0: 0}))
    assert not transport.reread_arrived(one, TOPIC, 0, 0)
    one._fetched(P0, [Record(4492), Record(4493)])  # fetched before the seek, delivered after
    assert not transport.reread_arrived(one, TOPIC, 0, 0)
    one._fetched(P0, [Record(0), Record(1)])
    assert transport.reread_arrived(one, TOPIC, 0, 0)
    assert not transport.reread_arrived(one, TOPIC, 0, 5)  # another offset: not asked for
    asyncio.run(one.seek_wait({P0: 0}))  # sought again: the next fetch is awaited again
    assert not transport.reread_arrived(one, TOPIC, 0, 0)
    assert not transport.reread_arrived(object(), TOPIC, 0, 0)


class Record:
    def __init__(self, offset: int) -> None:
        self.offset = offset
