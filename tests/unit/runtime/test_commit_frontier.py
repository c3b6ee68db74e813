"""The committed offset of a guarded partition never passes what is durable.

Faust commits the first run of consecutive acknowledged offsets, counting the gaps it noted
between one read offset and the next record as done. After a position guard sought a
partition back, the records fetched before the seek (refused by the guard, yet acknowledged
with their batch) and a gap from the sought offset to such a record moved the group's
committed offset past events no store held; a worker taking the partition over resumes from
that offset, so they would be lost. The batching consumer commits a guarded partition's
durable frontier instead: where its guard resumed, moved past every acknowledged record the
guard did not refuse."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any
from weakref import WeakSet

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, ConsumerMessage, Message
from intervaltree import IntervalTree  # type: ignore[import-untyped]

from agents.runtime import transport
from agents.runtime.positions import PositionGuard

TOPIC = "chat.events"
P0 = TP(TOPIC, 0)


class Topics:
    def acks_enabled_for(self, topic: str) -> bool:
        return True


class FakeApp:
    topics = Topics()


def consumer(committed: int | None = None) -> Any:
    """A batching consumer with Faust's ack and commit books and nothing started."""
    one: Any = object.__new__(transport.BatchingConsumer)
    books: defaultdict[TP, int | None] = defaultdict(lambda: None)
    if committed is not None:
        books[P0] = committed
    one.__dict__.update(
        app=FakeApp(), log=logging.getLogger("test"), _committed_offset=books,
        _acked=defaultdict(list), _acked_index=defaultdict(set),
        _gap=defaultdict(IntervalTree), _unacked_messages=WeakSet(), _n_acked=0,
        _waiting_for_ack=None)
    one.start_books()
    return one


def message(offset: int, tp: TP = P0) -> Message:
    return ConsumerMessage(tp.topic, tp.partition, offset, 0.0, 0, None, None, b"", None, tp=tp)


def stale_after_a_seek_back(one: Any) -> list[Message]:
    """The guard resumes at 0; a batch fetched from the committed offset of another worker
    (4492..4494) arrives, is refused (the guard seeks back to 0) and acknowledged with its
    batch; Faust noted a gap from the sought offset to it."""
    guard = PositionGuard(lambda topic, ps: {p: 0 for p in ps}, lambda t, p, o: None,
                          clock=lambda: 0.0)
    stale = [message(o) for o in (4492, 4493, 4494)]
    admission = guard.admit(stale, lambda m: (m.topic, m.partition, m.offset))
    assert admission.admitted == [] and admission.refused == stale
    assert admission.rewind == {(TOPIC, 0): 0}
    transport.note_resumed(one, TOPIC, {0: 0})
    transport.refuse(one, admission.refused)
    asyncio.run(one._add_gap(P0, 1, 4491))  # as the drain loop notes a jump of the read offset
    for m in stale:
        m.ack(one)
    return stale


def test_faust_alone_commits_past_the_refused_records() -> None:
    one = consumer()
    stale = stale_after_a_seek_back(one)
    # Faust's own arithmetic over the same books: offsets 0..4494 counted as done
    assert faust_aiokafka.Consumer._new_offset(one, P0) == 4495
    assert all(m.acked for m in stale)


def test_refused_records_move_no_commit_and_leave_no_one_waiting() -> None:
    one = consumer()
    stale_after_a_seek_back(one)
    assert one._new_offset(P0) == 0  # nothing durable past where the guard resumed
    assert not one._unacked_messages  # revocation does not wait for them
    assert not one._refused  # forgotten once acknowledged
    assert not one._acked[P0] and not one._gap.get(P0)  # Faust's books do not grow


def test_admitted_records_move_the_commit_once_acknowledged() -> None:
    one = consumer()
    stale_after_a_seek_back(one)
    reread = [message(o) for o in range(5)]
    for m in reread[:3]:  # the first step's write is done; the second's is not
        m.ack(one)
    assert one._new_offset(P0) == 3
    for m in reread[3:]:
        m.ack(one)
    assert one._new_offset(P0) == 5


def test_a_guard_resuming_ahead_of_the_committed_offset_commits_from_there() -> None:
    one = consumer(committed=100)
    transport.note_resumed(one, TOPIC, {0: 250})  # the state says the last owner got to 250
    redelivered = message(100)  # below where the guard resumed: skipped, then acknowledged
    redelivered.ack(one)
    assert one._new_offset(P0) == 250


def test_a_partition_two_stages_read_commits_from_the_lower_resume_point() -> None:
    """customer.profiles is read by the scoring and the workflows stages: after a SIGKILL one
    may have made more durable than the other. Committing from the higher resume point would
    let a taker skip the other stage's events it had not made durable yet."""
    one = consumer(committed=100)
    one.app = type("App", (), {"topics": Topics(), "consumer_generation_id": 3})()
    transport.note_resumed(one, TOPIC, {0: 250})  # the workflows state got to 250
    transport.note_resumed(one, TOPIC, {0: 180})  # the scoring state to 180
    assert one._new_offset(P0) == 180
    for o in range(180, 200):
        message(o).ack(one)  # both stages acknowledged them
    assert one._new_offset(P0) == 200
    one.app.consumer_generation_id = 4  # a rebalance kept the partition; seeded again
    transport.note_resumed(one, TOPIC, {0: 260})
    assert one._new_offset(P0) == 260


def test_unguarded_partitions_keep_faust_commits() -> None:
    one = consumer()
    other = TP("plain", 0)
    for o in range(3):
        message(o, other).ack(one)
    assert one._new_offset(other) == 3


def test_the_frontier_of_a_revoked_partition_is_dropped_after_the_revocation_commit(
        monkeypatch: Any) -> None:
    seen: list[int | None] = []

    async def revoked(self: Any, tps: set[TP]) -> None:  # Faust's: commits, then forgets
        seen.append(self._new_offset(P0))

    monkeypatch.setattr(faust_aiokafka.Consumer, "on_partitions_revoked", revoked)
    one = consumer()
    transport.note_resumed(one, TOPIC, {0: 7})
    message(7).ack(one)
    asyncio.run(one.on_partitions_revoked({P0}))
    assert seen == [8]
    assert P0 not in one._frontier


def test_committed_offsets_are_read_from_the_consumer_books() -> None:
    one = consumer()
    one._committed_offset.update({P0: 42, TP(TOPIC, 1): None, TP(TOPIC, 2): 0})
    assert transport.committed_offsets(one, TOPIC, [0, 1, 2, 3]) == {0: 42}
    assert transport.committed_offsets(object(), TOPIC, [0]) == {}


def test_a_commit_the_books_lack_after_an_assignment_is_taken_from_the_broker() -> None:
    # Faust drops a revoked partition's books and reads them back only when it seeks; records
    # of a partition kept through the rebalance can come first, and without the broker's word
    # the partition was sent back to its log start (re-read from 0 again and again)
    one = consumer()
    one._committed_offset.update({P0: 42})
    got = transport.committed_offsets(one, TOPIC, [0, 1, 2], on_broker={0: 40, 1: 396, 2: 0})
    assert got == {0: 42, 1: 396}
    assert transport.committed_offsets(one, TOPIC, [0], on_broker={0: 50}) == {0: 50}
