"""A message dropped unprocessed by one of its subscribers never holds up a revocation.

The stall after a rebalance (issue 15): ``customer.profiles`` is read by two batch agents
(scoring and workflows), so the conductor counts each of its messages twice. One agent took
a message and acknowledged it; the other's buffer was cleared when the partitions were
revoked. The message kept one reference for ever, Faust's ``wait_empty`` waited for it
("wait_empty: Waiting for tasks [(1, <ConsumerMessage: ...customer.profiles... offset=94>)]"
every 10 s in the worker's log), the revocation never finished, the worker never rejoined
the group and every partition stalled until the broker removed it from the group.

A buffer that drops messages releases them: its reference is given up, and a message no
subscriber holds any more is forgotten, not counted as acknowledged (its offset is read
again), so neither the revocation nor the commit waits for or moves past it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.types import TP, Message

from agents.runtime import transport
from agents.runtime.batching import MessageBuffer
from tests.unit.runtime.test_commit_frontier import consumer, message

TOPIC = "customer.profiles"
P4 = TP(TOPIC, 4)


def tracking() -> Any:
    """A batching consumer (``test_commit_frontier.consumer``) that tracks messages."""
    one = consumer()
    one._on_message_in = lambda tp, offset, m: None  # Faust's sensors
    return one


def shared(one: Any, offsets: range) -> tuple[list[Message], MessageBuffer, MessageBuffer]:
    """``offsets`` of a partition two agents read, in both agents' buffers, as the
    conductor delivers them (one reference per subscriber)."""
    release = lambda ms: transport.release(one, ms)  # noqa: E731
    scoring, workflows = MessageBuffer(capacity=100, release=release), MessageBuffer(
        capacity=100, release=release)
    batch = [message(o, P4) for o in offsets]
    for buffer in (scoring, workflows):
        buffer.put_batch(P4, batch, lambda tp: None, lambda tp: None)
    assert all(m.refcount == 2 for m in batch)
    return batch, scoring, workflows


def take_and_acknowledge(one: Any, buffer: MessageBuffer, n: int) -> list[Message]:
    taken, _ = asyncio.run(buffer.take(n, within=0.0))
    for m in taken:
        one.track_message(m)  # as batch_agent does: a revocation waits for its ack
    for m in taken:
        m.ack(one)  # durable
    return taken


def test_a_message_one_agent_acknowledged_and_the_other_dropped_holds_up_nothing() -> None:
    one = tracking()
    transport.note_resumed(one, TOPIC, {4: 94})
    _batch, scoring, workflows = shared(one, range(94, 97))
    take_and_acknowledge(one, scoring, 3)
    assert len(one._unacked_messages) == 3  # the other agent still holds them
    workflows.clear()  # the revocation clears the buffers
    one._clean_unacked_messages()  # what wait_empty does between its waits
    assert not one._unacked_messages  # the revocation does not wait for them
    assert one._new_offset(P4) == 94  # the workflows stage never had them: no commit past
    assert workflows.take_dropped() == {P4: 94}  # read again if the partition stays
    assert not one._released  # nothing left in the books


def test_a_message_dropped_first_and_acknowledged_after_is_not_counted_either() -> None:
    one = tracking()
    transport.note_resumed(one, TOPIC, {4: 94})
    batch, scoring, workflows = shared(one, range(94, 97))
    taken, _ = asyncio.run(scoring.take(3, within=0.0))
    for m in taken:
        one.track_message(m)
    workflows.clear()
    assert all(not m.acked for m in batch)  # the scoring stage still holds them
    for m in taken:
        m.ack(one)  # its write is durable
    one._clean_unacked_messages()
    assert not one._unacked_messages and not one._released
    assert one._new_offset(P4) == 94


def test_a_message_both_agents_acknowledged_moves_the_commit() -> None:
    one = tracking()
    transport.note_resumed(one, TOPIC, {4: 94})
    _batch, scoring, workflows = shared(one, range(94, 97))
    take_and_acknowledge(one, scoring, 3)
    take_and_acknowledge(one, workflows, 3)
    assert not one._unacked_messages
    assert one._new_offset(P4) == 97


def test_a_step_given_up_is_read_again_and_released() -> None:
    one = tracking()
    buffer = MessageBuffer(capacity=100, release=lambda ms: transport.release(one, ms))
    batch = [message(o, P4) for o in range(10, 13)]
    buffer.put_batch(P4, batch, lambda tp: None, lambda tp: None)
    taken, _ = asyncio.run(buffer.take(3, within=0.0))
    for m in taken:
        one.track_message(m)
    buffer.drop(taken)
    one._clean_unacked_messages()
    assert not one._unacked_messages
    assert buffer.take_dropped() == {P4: 10}
    assert one._new_offset(P4) is None or one._new_offset(P4) <= 10  # nothing counted
    assert not one._acked[P4]


def test_faust_alone_waits_for_the_dropped_reference_for_ever() -> None:
    """Without releasing (Faust's own queues just clear), the revocation's wait never ends."""
    one = tracking()
    batch, scoring, workflows = shared(one, range(94, 97))
    take_and_acknowledge(one, scoring, 3)
    workflows._release = lambda ms: None  # type: ignore[method-assign]
    workflows.clear()
    one._clean_unacked_messages()
    assert len(one._unacked_messages) == 3
    assert all(m.refcount == 1 for m in batch)
