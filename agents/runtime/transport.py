"""Faust's Kafka transport with a drain loop that hands whole fetches to batch agents.

This module and ``agents.runtime.books`` (read only) are the ones that use Faust's and
aiokafka's private members (the consumer's drain loop and bookkeeping, the conductor's topic
index, a topic's decoder, the fetcher's settings);
``tests/unit/runtime/test_faust_internals.py`` fails when an upgrade changes them.

Faust's consumer delivers every fetched record on its own: it wraps it in a message, runs
the conductor's callback for it under ``wait_first`` (two tasks and an event-loop round
trip per record) and only then looks at the next. On this path a worker delivers a few
thousand records a second however little the agents do. This consumer keeps Faust's
fetching, offset bookkeeping (read offsets, gaps, acks, commits) and flow control, and
differs where batch agents are concerned:

- the records of a partition whose only subscriber is a ``BatchTopic`` (``agents.runtime.batching``)
  are appended to that topic's buffer as one list;
- such records are never dropped for being below the read offset (the agent's position
  guard skips what it has processed), and records that must be dropped (fetched while
  flow was stopped, or for a partition no longer active) are noted so that the agent reads
  them again;
- fetches wait for data to accumulate (``FetchingThread``);
- no seek moves a partition past the next offset its position guard still needs
  (``App.add_position_floor``): the re-read of dropped records, the seek to the committed
  offsets while flow is stopped or after a table's recovery would otherwise move a
  partition the guard has just sought back forward again, its re-read would never arrive
  and the guard would ask again and again until the partition moved to another worker;
- the committed offset of a guarded partition is its durable frontier, not Faust's: where
  its guard resumed (``note_resumed``), moved past every acknowledged record the guard did
  not refuse (``refuse``). Faust commits the first run of consecutive acknowledged offsets,
  with the gaps it noted between one read offset and the next record taken as done; after
  a seek back, records fetched before it (refused by the guard, yet acknowledged with their
  batch) and a gap reaching from the sought offset to such a record moved the group's
  committed offset past events no store held, and a worker that takes the partition over
  resumes from that offset;
- it notes when the records a seek asked for have been fetched (``reread_arrived``): the
  guard then waits for a re-read on its way through the buffers instead of seeking again
  (``agents.runtime.positions``);
- a message a buffer drops unprocessed (cleared on a revocation or when flow resumes) is
  released (``release``): the buffer's reference to it is given up, and when no subscriber
  holds it any more it is forgotten without counting as acknowledged. A message of a topic
  that two batch agents read is counted once per agent; one agent acknowledged it, the
  other's buffer was cleared, and the revocation then waited for the last reference forever
  (Faust's ``wait_empty``): the worker never rejoined the group and every partition stalled
  until the broker removed it from the group;
- ``unstick`` puts a partition whose re-read makes no progress back into the fetch (the
  position guard's watchdog, ``agents.runtime.core``): resumed where nothing legitimately
  holds it paused, and sought again.

Records of every other partition (table changelogs during recovery, plain Faust agents)
take Faust's own per-record path unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Protocol, cast

import faust
from faust.topics import Topic
from faust.transport import base
from faust.transport.consumer import CONSUMER_FETCHING, Fetcher
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message
from mode import Service

# read-only views of the consumer's books, imported from here by the agents and /metrics
from agents.runtime.books import committed_offsets, consumer_books, fetch_state

__all__ = ["App", "BatchTopic", "BatchingConsumer", "committed_offsets", "consumer_books",
           "fetch_state", "note_resumed", "orphaned", "refuse", "release", "reread_arrived",
           "unstick"]


class Buffer(Protocol):
    """What the conductor and the consumer below use of a batch agent's buffer
    (``agents.runtime.batching.MessageBuffer``)."""

    async def put(self, message: Message) -> None: ...

    def put_batch(self, tp: TP, messages: Sequence[Message], pause: Callable[[TP], None],
                  resume: Callable[[TP], None]) -> None: ...

    def note_dropped(self, tp: TP, offset: int) -> None: ...

    def holds(self, tp: TP) -> bool: ...


class BatchTopic(Topic):  # type: ignore[misc]
    """A topic whose messages go, undecoded and unwrapped, into a ``MessageBuffer``."""

    def __init__(self, app: faust.App, names: Sequence[str], buffer: Buffer) -> None:
        super().__init__(app, topics=list(names), key_type=bytes, value_type=bytes,
                         key_serializer="raw", value_serializer="raw", acks=True)
        self._buffer = buffer

    @property
    def queue(self) -> Buffer:  # type: ignore[override]  # the conductor's chan.queue
        return self._buffer

    def _compile_decode(self) -> None:
        # Faust compiles ``decode`` into an instance attribute; ours hands the message on
        # as it is: the handler decodes a whole batch at once.
        async def decode(message: Message, *, propagate: bool = False) -> Any:
            return message

        self.decode = decode  # type: ignore[method-assign]

    async def put(self, value: Any) -> None:
        await self._buffer.put(value)

    def __hash__(self) -> int:  # the conductor keeps its channels in sets
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other



class FetchingThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, with fetches that wait for data to accumulate.

    Faust's aiokafka consumer answers a fetch as soon as one byte is there: under live
    traffic the consumer thread then parses a stream of tiny fetch responses in Python and
    contends for the GIL with the agents' work on the main thread. Measured with chat
    traffic at 3,200 events/s: a batch's computation took 585 ms (p50) with one-byte fetches
    and 157 ms with 64 KiB / 50 ms ones."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        app = cast(App, self.app)
        # read by AIOKafkaConsumer.start() when it builds its fetcher
        consumer._fetch_min_bytes = app.fetch_min_bytes
        consumer._fetch_max_wait_ms = app.fetch_max_wait_ms
        return consumer


#: a partition -> the next offset a position guard still needs there (None: not guarded)
Floor = Callable[[TP], "int | None"]


def not_past(partitions: Mapping[TP, int], floors: Sequence[Floor]) -> dict[TP, int]:
    """``partitions`` (seek targets) with none past the lowest floor of its partition."""
    out: dict[TP, int] = {}
    for tp, offset in partitions.items():
        lowest = [f for floor in floors if (f := floor(tp)) is not None]
        out[tp] = min([offset, *lowest])
    return out


class BatchingConsumer(faust_aiokafka.Consumer):
    #: per guarded partition, the offset before which every record is durable (the commit)
    _frontier: dict[TP, int]
    #: ids of the records a position guard did not admit (held back behind a hole), until
    #: they are acknowledged: alive until then, so an id is never another record's
    _refused: set[int]
    #: per partition, the offset of the last seek and whether the records from there have
    #: been fetched since (``reread_arrived``)
    _rereads: dict[TP, tuple[int, bool]]
    #: ids of the messages a buffer dropped unprocessed that another subscriber may still
    #: hold (``release``): alive until their last reference is given up
    _released: set[int]
    #: per guarded partition, the consumer generation its frontier was seeded in
    _seeded: dict[TP, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start_books()

    def start_books(self) -> None:
        self._frontier, self._refused, self._rereads = {}, set(), {}
        self._released, self._seeded = set(), {}

    def _new_consumer_thread(self) -> FetchingThread:
        return FetchingThread(self, loop=self.loop, beacon=self.beacon)

    def _sought(self, partitions: Mapping[TP, int]) -> None:
        for tp, offset in partitions.items():
            self._rereads[tp] = (offset, False)

    def _fetched(self, tp: TP, records: Sequence[Any]) -> None:
        """Note that the records a seek asked for have been fetched (into the buffer)."""
        wanted = self._rereads.get(tp)
        if wanted is not None and not wanted[1] and records and (
                records[0].offset <= wanted[0] <= records[-1].offset):
            self._rereads[tp] = (wanted[0], True)

    def reread_arrived(self, tp: TP, offset: int) -> bool:
        """Whether the records from ``offset`` have been fetched since the last seek of
        ``tp`` to it (they are then on their way to the agent)."""
        return self._rereads.get(tp) == (offset, True)

    def resumed(self, tp: TP, offset: int) -> None:
        """A position guard resumes ``tp`` at ``offset``: everything before it is done for
        its stage. Where several stages read one partition (``customer.profiles``), the
        frontier is the lowest of their resume points in this assignment: the highest would
        promise one stage's events to a taker while another stage that resumed lower had
        not made them durable yet. A frontier of an earlier assignment is replaced (the
        guards were seeded again; a commit never moves back)."""
        generation = getattr(self.app, "consumer_generation_id", 0)
        if self._seeded.get(tp) == generation and tp in self._frontier:
            self._frontier[tp] = min(offset, self._frontier[tp])
        else:
            self._frontier[tp] = offset
            self._seeded[tp] = generation

    def refuse(self, messages: Iterable[Message]) -> None:
        """Records a guard did not admit: acknowledging them moves no commit."""
        self._refused.update(map(id, messages))

    def release(self, messages: Iterable[Message]) -> None:
        """Messages a buffer dropped unprocessed: its reference to each is given up. One that
        no subscriber holds any more is forgotten, not acknowledged (its offset is read again,
        ``MessageBuffer.take_dropped``), so that neither a revocation nor a shutdown waits
        for it; one another agent still holds is forgotten when that agent acknowledges it."""
        released = self._released
        for message in messages:
            if not message.acked:
                released.add(id(message))
                message.ack(self)  # the last reference: ``ack`` below forgets it

    def _forget(self, message: Message) -> None:
        self._released.discard(id(message))
        self._refused.discard(id(message))
        message.acked = True  # Faust's wait_empty drops acknowledged messages from its books
        self._unacked_messages.discard(message)

    def ack(self, message: Message) -> bool:
        if message.acked:
            return False
        if self._released and id(message) in self._released:
            # a subscriber dropped it unprocessed: its offset must not count as done
            self._forget(message)
            return False
        counted = bool(super().ack(message))
        at = self._frontier.get(message.tp)
        if at is not None:
            refused = self._refused
            if refused and id(message) in refused:
                refused.discard(id(message))
            elif message.offset >= at:
                # acknowledged once durable, in the order the guard admitted them: all
                # before it is durable too (or was done before the guard resumed)
                self._frontier[message.tp] = message.offset + 1
        return counted

    def _new_offset(self, tp: TP) -> int | None:
        if tp not in self._frontier:
            return super()._new_offset(tp)  # type: ignore[no-any-return]
        # Faust's books of this partition are not used: keep them from growing
        self._acked[tp] = []
        self._acked_index[tp] = set()
        self._gap.pop(tp, None)
        return self._frontier[tp]

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        # the commit on revocation (in Faust's handler) still uses the frontiers
        await super().on_partitions_revoked(revoked)
        for tp in revoked:
            self._frontier.pop(tp, None)
            self._seeded.pop(tp, None)

    def _held_by_buffer(self, tp: TP) -> bool:
        """Whether a batch agent's buffer holds ``tp`` paused (it is full): a pause to keep."""
        channels: Iterable[Any] = self.app.topics._tp_index.get(tp, ())  # type: ignore[attr-defined]
        return any(isinstance(c, BatchTopic) and c.queue.holds(tp) for c in channels)

    def _batch_only(self, tp: TP) -> bool:
        channels = list(self.app.topics._tp_index.get(tp, ()))  # type: ignore[attr-defined]
        return bool(channels) and all(isinstance(c, BatchTopic) for c in channels)

    def orphaned(self) -> set[TP]:
        """Assigned partitions read only by batch agents that are not fetched although
        nothing holds them paused: neither a rebalance (it pauses every partition until the
        tables are recovered) nor a full buffer. Empty while flow is stopped or a rebalance
        is under way."""
        if not self.flow_active or getattr(self.app, "rebalancing", False):
            return set()
        active = self._get_active_partitions()
        return {tp for tp in self.assignment()
                if tp not in active and self._batch_only(tp) and not self._held_by_buffer(tp)}

    async def unstick(self, partitions: Mapping[TP, int]) -> dict[TP, str]:
        """Put ``partitions`` back into the fetch at the given offsets (the position guard's
        watchdog): resumed unless a full buffer holds them paused, then sought (never past a
        guard's floor). Nothing is done while flow is stopped or a rebalance is under way:
        partitions are then paused on purpose and sought again when it ends. Returns, per
        partition, what was done."""
        if not self.flow_active or getattr(self.app, "rebalancing", False):
            return {}
        assigned = self.assignment()
        wanted = {tp: offset for tp, offset in partitions.items() if tp in assigned}
        done: dict[TP, str] = {}
        active = self._get_active_partitions()
        for tp in wanted:
            if self._held_by_buffer(tp):
                done[tp] = "sought; kept paused (its buffer is full)"
                continue
            was = ("paused" if tp in self._paused_partitions else
                   "buffer-paused" if tp in self._buffered_partitions else
                   "inactive" if tp not in active else "active")
            self._paused_partitions.discard(tp)
            self._buffered_partitions.discard(tp)
            active.add(tp)
            done[tp] = f"sought; was {was}"
        if wanted:
            await self.seek_wait(wanted)
        return done

    def _floors(self) -> Sequence[Floor]:
        return cast(Sequence[Floor], getattr(self.app, "position_floors", ()))

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        wanted = dict(partitions)
        held = not_past(wanted, self._floors())
        moved = {tp: (wanted[tp], o) for tp, o in held.items() if o != wanted[tp]}
        if moved:
            self.log.info("seeking where the position guard still needs: %s", moved)
        self._sought(held)
        await super().seek_wait(held)

    async def perform_seek(self) -> None:
        """Faust's seek to the committed offsets, then back to what a position guard still
        needs where that lies before them (the committed offset of a partition this worker
        has just been given was moved by another worker, whose store is not ours)."""
        await super().perform_seek()
        floors = self._floors()
        if not floors:
            return
        committed: dict[TP, int] = {}
        for tp in self.assignment():
            offset = self._read_offset.get(tp)
            if offset is not None:
                committed[tp] = offset
        back = {tp: offset for tp, offset in not_past(committed, floors).items()
                if offset != committed[tp]}
        if back:
            self.log.info("after the seek to committed offsets, back to %s", back)
            self._sought(back)
            await super().seek_wait(back)

    async def _drain_messages(self, fetcher: Fetcher) -> None:  # type: ignore[override]
        callback = self.callback
        consumer_should_stop = cast(Service, self)._stopped.is_set
        fetcher_should_stop = cast(Service, fetcher)._stopped.is_set
        set_flag = self.diag.set_flag
        unset_flag = self.diag.unset_flag
        app = self.app
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                records, active = await self._wait_next_records(1.0)
                await self.sleep(0)
                if records is None or self.should_stop:
                    unset_flag(CONSUMER_FETCHING)
                    continue
                generation = app.consumer_generation_id
                for fetched, batch in records.items():
                    tp = TP(fetched.topic, fetched.partition)  # aiokafka's TopicPartition
                    channel = self._batch_channel(tp)
                    if (not self.flow_active or app.consumer_generation_id != generation
                            or not (active is None or tp in active
                                    or tp in self._buffered_partitions)):
                        # Faust drops such records; a batch agent has them read again
                        if channel is not None and batch:
                            channel.queue.note_dropped(tp, batch[0].offset)
                        continue
                    messages = await self._admit(tp, batch, keep_old=channel is not None)
                    if not messages:
                        continue
                    if channel is not None:
                        self._fetched(tp, messages)
                        await app.flow_control.acquire()
                        await app.producer.buffer.wait_until_ebb()
                        channel.queue.put_batch(tp, messages, self.on_buffer_full,
                                                self.on_buffer_drop)
                    else:
                        for message in messages:
                            await self.wait_first(callback(message), self.suspend_flow.wait())
                if not self.flow_active:
                    # as Faust's getmany: fetched while stopped, so back to the committed
                    # offsets (table changelogs included)
                    try:
                        await self.perform_seek()
                    except Exception as exc:
                        self.log.warning("seeking to committed offsets while stopped: %r", exc)
                unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)

    async def _admit(self, tp: TP, records: Sequence[Any], *, keep_old: bool) -> list[Message]:
        """Faust's per-record bookkeeping of ``_drain_messages``: gaps recorded, the read
        offset moved, commits every ``commit_every`` acks.

        Faust drops a record below the partition's read offset. Batch agents get every
        record (``keep_old``): their position guard skips what was already processed and
        re-reads holes by seeking back, and a record fetched before such a seek would
        otherwise move the read offset past the re-read, which then would be dropped."""
        read = self._read_offset[tp]
        acks_enabled = self.app.topics.acks_enabled_for(tp.topic)
        out: list[Message] = []
        to_message = self._to_message
        for record in records:
            offset = record.offset
            if read is not None and offset < read and not keep_old:
                continue
            if read and offset - read > 1 and acks_enabled:
                await self._add_gap(tp, read + 1, offset)
            out.append(to_message(tp, record))
            read = offset
        if out:
            self._read_offset[tp] = read
            self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            if self._commit_every is not None and self._n_acked >= self._commit_every:
                self._n_acked = 0
                await self.commit()
        return out

    def _batch_channel(self, tp: TP) -> BatchTopic | None:
        channels: Iterable[Any] = self.app.topics._tp_index.get(tp, ())  # type: ignore[attr-defined]
        found = list(channels)
        if len(found) == 1 and isinstance(found[0], BatchTopic):
            return found[0]
        return None


class BatchingTransport(faust_aiokafka.Transport):
    Consumer: ClassVar[type[base.Consumer]] = BatchingConsumer  # type: ignore[misc]


class App(faust.App):  # type: ignore[misc]
    """A Faust app whose consumer hands whole fetches to batch agents."""

    #: a fetch is answered when this much data is there, or after ``fetch_max_wait_ms``
    fetch_min_bytes: int = 1
    fetch_max_wait_ms: int = 500
    #: the position guards' next offsets (``add_position_floor``)
    position_floors: list[Floor]

    def add_position_floor(self, floor: Floor) -> None:
        """No seek of the consumer moves a partition past ``floor(tp)``."""
        if "position_floors" not in self.__dict__:
            self.position_floors = []
        self.position_floors.append(floor)

    def _new_transport(self) -> BatchingTransport:
        return BatchingTransport(self.conf.broker_consumer, self)


def reread_arrived(consumer: Any, topic: str, partition: int, offset: int) -> bool:
    """Whether a batching consumer has fetched the records from ``offset`` since it was
    last sought there (False for any other consumer: nothing known)."""
    return isinstance(consumer, BatchingConsumer) and consumer.reread_arrived(
        TP(topic, partition), offset)


def note_resumed(consumer: Any, topic: str, positions: Mapping[int, int]) -> None:
    """Tell a batching consumer where a guard resumed ``topic``'s partitions."""
    if isinstance(consumer, BatchingConsumer):
        for p, offset in positions.items():
            consumer.resumed(TP(topic, p), offset)


def release(consumer: Any, messages: Sequence[Message]) -> None:
    """Tell a batching consumer which messages a buffer dropped unprocessed."""
    if messages and isinstance(consumer, BatchingConsumer):
        consumer.release(messages)


async def unstick(consumer: Any, partitions: Mapping[TP, int]) -> dict[TP, str]:
    """``BatchingConsumer.unstick``; a plain seek for any other consumer."""
    if isinstance(consumer, BatchingConsumer):
        return await consumer.unstick(partitions)
    await consumer.seek_wait(partitions)
    return {tp: "sought" for tp in partitions}


def orphaned(consumer: Any) -> set[TP]:
    """``BatchingConsumer.orphaned``; nothing for any other consumer."""
    return consumer.orphaned() if isinstance(consumer, BatchingConsumer) else set()


def refuse(consumer: Any, messages: Sequence[Message]) -> None:
    """Tell a batching consumer which records a guard did not admit."""
    if messages and isinstance(consumer, BatchingConsumer):
        consumer.refuse(messages)
