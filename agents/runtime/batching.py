"""Batches straight from Faust's conductor to an agent's handler.

A Faust stream turns every message into an ``Event``, passes it through a queue and the
stream's processors one coroutine step at a time, and acknowledges it on its own; that
per-event path costs more than everything our agents do with a message. A ``BatchTopic``
is a Faust topic whose messages the conductor appends, as they are, to a buffer; one task
takes them out in batches and hands them to the agent's handler, then acknowledges the
whole batch. Everything else stays Faust's: subscription, partition assignment, pausing a
partition whose buffer is full, clearing buffers on a rebalance, waiting for in-flight
messages before offsets are committed on revocation or shutdown.

Two stages. A step of up to ``step_events`` messages is taken as soon as it is full or
its oldest message has waited ``within`` seconds, and computed at once (decoding, scores,
state in memory): a message waits for its step's computation, not for a whole batch's.
What the step must make durable (ClickHouse rows, dead letters, output records, table
changelogs) goes to a ``GroupCommit``, which writes it while the next steps are computed;
steps that finish while a write is under way are merged into the next write (group
commit, ``agents.runtime.group_commit``), so the per-insert and per-flush costs are paid
once per write, not per step.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import faust
from faust.types import TP, Message

from agents.runtime.fatal import stop_worker
from agents.runtime.group_commit import Durable, GroupCommit, Prepare, Write
from agents.runtime.transport import BatchTopic, release
from streams.kernel.errors import Unavailable
from streams.kernel.metrics import Latencies
from streams.kernel.records import Raw

__all__ = ["Durable", "GroupCommit", "MessageBuffer", "PipelinedCommit", "Prepare", "Write",
           "batch_agent", "raw_of", "where"]
log = logging.getLogger(__name__)


class PipelinedCommit(GroupCommit):
    """A group commit in two steps, so one write's ClickHouse insert overlaps the previous
    write's publish: this commit writes a part's seeks back, dead letters and rows; then
    ``publish`` (a ``GroupCommit`` of its own, writing at once) its output records and table
    changelogs, with its counts. Each step writes in submission order, a part is published
    only once its rows are in, and its future is done only when both are durable: offsets
    are committed after the rows and the published records, in order, as before."""

    def __init__(self, write_rows: Write, publish: GroupCommit, **kwargs: Any) -> None:
        super().__init__(write_rows, **kwargs)
        self.publish = publish

    def submit(self, part: Durable, events: int) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        rest = Durable(outputs=part.outputs, changelog=part.changelog, counts=part.counts)

        def settle(step: asyncio.Future[None]) -> bool:
            """Pass a failed or cancelled step on to ``done``; whether it succeeded."""
            if done.done():
                return False
            if step.cancelled():
                done.cancel()
                return False
            error = step.exception()
            if error is not None:
                done.set_exception(error)
                return False
            return True

        def published(outputs: asyncio.Future[None]) -> None:
            if settle(outputs):
                done.set_result(None)

        def sunk(rows: asyncio.Future[None]) -> None:
            # callbacks run in the order the parts' rows became durable: publish keeps it
            if settle(rows):
                self.publish.submit(rest, events).add_done_callback(published)

        super().submit(Durable(rewind=part.rewind, dead=part.dead, inserts=part.inserts),
                       events).add_done_callback(sunk)
        return done


class MessageBuffer:
    """The queue the conductor fills for a ``BatchTopic``: raw messages with the time they
    arrived. Past ``capacity`` messages the partition that filled it is paused (Faust's
    "pressure"); it is resumed when the buffer has drained to half of that."""

    def __init__(self, *, capacity: int, clock: Callable[[], float] = time.monotonic,
                 release: Callable[[list[Message]], None] = lambda messages: None) -> None:
        self.capacity = capacity
        self._clock = clock
        #: gives up the buffer's reference to messages it drops unprocessed
        #: (``agents.runtime.transport.release``)
        self._release = release
        self._messages: deque[Message] = deque()
        self._arrived: deque[float] = deque()
        self._nonempty = asyncio.Event()
        #: set once ``_wanted`` messages are here: ends ``take``'s wait for a partial step
        self._enough = asyncio.Event()
        self._wanted = 0
        self._room = asyncio.Event()
        self._room.set()
        self._paused: dict[TP, Callable[[], None]] = {}
        #: per partition, the first offset dropped unprocessed (cleared on a rebalance,
        #: fetched while flow was stopped): read again by ``batch_agent``
        self._dropped: dict[TP, int] = {}

    def __len__(self) -> int:
        return len(self._messages)

    def oldest_wait(self) -> float:
        """Seconds the oldest message here has waited (0 when empty)."""
        return self._clock() - self._arrived[0] if self._arrived else 0.0

    def full(self) -> bool:
        """Hard limit: the conductor then waits in ``put`` instead of appending."""
        return len(self._messages) >= 2 * self.capacity

    def put_nowait_enhanced(self, value: Message, *, on_pressure_high: Callable[[], None],
                            on_pressure_drop: Callable[[], None]) -> None:
        self._add(value.tp, (value,), on_pressure_high, on_pressure_drop)

    def put_batch(self, tp: TP, messages: Sequence[Message], pause: Callable[[TP], None],
                  resume: Callable[[TP], None]) -> None:
        """Append a partition's fetched messages at once (``agents.runtime.transport``)."""
        for message in messages:
            message.refcount += 1  # as the conductor counts each subscriber
        self._add(tp, messages, functools.partial(pause, tp), functools.partial(resume, tp))

    async def put(self, message: Message) -> None:
        while self.full():
            self._room.clear()
            await self._room.wait()
        self._add(message.tp, (message,))

    def _add(self, tp: TP, messages: Sequence[Message], pause: Callable[[], None] | None = None,
             resume: Callable[[], None] | None = None) -> None:
        """Append ``messages`` of ``tp``; past capacity, pause ``tp`` until the buffer has
        drained to half (when ``pause``/``resume`` are given)."""
        self._messages.extend(messages)
        self._arrived.extend([self._clock()] * len(messages))
        self._nonempty.set()
        if self._wanted and len(self._messages) >= self._wanted:
            self._enough.set()
        if (pause is not None and resume is not None and len(self._messages) >= self.capacity
                and tp not in self._paused):
            self._paused[tp] = resume
            pause()

    def note_dropped(self, tp: TP, offset: int) -> None:
        self._dropped[tp] = min(offset, self._dropped.get(tp, offset))

    def drop(self, messages: Sequence[Message]) -> None:
        """Messages taken from here that will not be processed: read again (if still
        assigned) and released, as ``clear`` does with what is buffered."""
        for message in messages:
            self.note_dropped(message.tp, message.offset)
        self._release(list(messages))

    def holds(self, tp: TP) -> bool:
        """Whether this buffer holds ``tp`` paused until it has drained to half."""
        return tp in self._paused

    def take_dropped(self) -> dict[TP, int]:
        dropped, self._dropped = self._dropped, {}
        return dropped

    def clear(self) -> None:
        """Drop what is buffered (Faust clears its queues when partitions are revoked and
        when flow resumes). Partitions that stay assigned are read again from the first
        dropped offset (``take_dropped``); the position guard skips what was processed.
        The buffer's reference to each message is given up (``release``): a message another
        agent also reads must not wait for this one's acknowledgement."""
        for message in self._messages:
            self.note_dropped(message.tp, message.offset)
        dropped = list(self._messages)
        self._messages.clear()
        self._arrived.clear()
        self._nonempty.clear()
        self._relieve()
        self._release(dropped)

    def _relieve(self) -> None:
        if len(self._messages) <= self.capacity // 2 and self._paused:
            callbacks = list(self._paused.values())
            self._paused.clear()
            for resume in callbacks:
                resume()
        if not self.full():
            self._room.set()

    async def take(self, max_events: int, within: float) -> tuple[list[Message], list[float]]:
        """Up to ``max_events`` messages and their arrival times, once that many are here or
        the oldest has waited ``within`` seconds, whichever comes first: the wait for a
        partial step ends as soon as the rest of the step arrives."""
        while not self._messages:
            self._nonempty.clear()
            await self._nonempty.wait()
        wait = self._arrived[0] + within - self._clock()
        while len(self._messages) < max_events and wait > 0:
            self._wanted = max_events
            self._enough.clear()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._enough.wait(), min(wait, within))
            finally:
                self._wanted = 0
            if not self._messages:  # cleared meanwhile
                return await self.take(max_events, within)
            wait = self._arrived[0] + within - self._clock()
        n = min(max_events, len(self._messages))
        messages = [self._messages.popleft() for _ in range(n)]
        arrived = [self._arrived.popleft() for _ in range(n)]
        if not self._messages:
            self._nonempty.clear()
        self._relieve()
        return messages, arrived


def batch_agent(app: faust.App, name: str, topics: Sequence[str], prepare: Prepare, *,
                step_events: int, step_events_behind: int, within: float,
                latencies: Latencies, commit: GroupCommit, retry_initial: float = 0.5,
                retry_max: float = 10.0) -> BatchTopic:
    """Subscribe ``app`` to ``topics`` and handle its messages in steps of up to
    ``step_events``, or of up to ``step_events_behind`` while it is behind
    (``commit.behind()``): small steps keep a live message's wait for its computation short,
    large ones cost less an event when a backlog drains.

    ``prepare(messages)`` computes a step synchronously (decoding, state changes in memory)
    and returns what it must make durable, which ``commit`` writes after everything
    submitted before it. Up to two full writes (``2 * commit.max_events``; three with a
    ``PipelinedCommit``) of consumed events may be computed and not yet durable; past that
    the next step waits. The next steps are
    computed while a write is under way: a bound tied to the size of live writes would stop
    the computation behind every write, and the events held back would age in the buffer
    until the agent counts as behind. When a step is
    durable its messages are acknowledged (their offsets may be committed); if its write
    fails, the worker crashes without acknowledging them, and they are read again after the
    restart.

    When ``prepare`` raises ``Unavailable`` (a dependency such as the schema registry is
    down), the agent pauses: it waits, with back-off from ``retry_initial`` to ``retry_max``
    seconds, and calls ``prepare`` again with the same messages (``prepare`` must leave no
    trace when it raises; ``agents.runtime.core.error_policy`` puts the position guards
    back). The outage is logged once, when it starts and when it ends, and every wait is
    counted (``<name>.unavailable`` in the latencies). A step still paused when a rebalance
    or a shutdown begins is given up and read again (``MessageBuffer.drop``): Faust waits
    for every message taken to be acknowledged before it lets partitions go. Any other
    exception stops the worker.
    """
    buffer = MessageBuffer(capacity=max(4 * commit.max_events, 4096),
                           release=lambda messages: release(app.consumer, messages))
    channel = BatchTopic(app, topics, buffer)
    app.flow_control.manage_queue(buffer)  # type: ignore[arg-type]
    commit.lag = buffer.oldest_wait
    app.topics.add(channel)
    pending: deque[tuple[asyncio.Future[None], int]] = deque()

    def acknowledge(messages: list[Message], arrived: list[float],
                    done: asyncio.Future[None]) -> None:
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            log.error("%s: a batch could not be made durable; stopping the worker", name,
                      exc_info=error)
            app.add_future(stop_worker(app, error, messages))
            return
        consumer = app.consumer
        for message in messages:
            message.ack(consumer)
        mono, wall = time.monotonic(), time.time()
        latencies.observe_since(f"{name}.in_worker", arrived, mono)
        # produce to arrival in the worker: what happened before the buffer (the producer's
        # linger, the broker, the fetch, a partition paused while the buffer was full)
        shift = wall - mono
        latencies.observe(f"{name}.before_worker", [
            (a + shift - m.timestamp) * 1000.0
            for m, a in zip(messages, arrived, strict=True) if m.timestamp])
        # produce to durable: the Kafka timestamp (the producer's clock, or the broker's
        # with LogAppendTime) to now on the wall clock; a record without one is not counted
        latencies.observe_since(f"{name}.produce_to_durable",
                                [m.timestamp for m in messages if m.timestamp], time.time())

    async def run() -> None:
        consumer = app.consumer
        waiting = 0  # consumed events computed and not yet durable
        messages: list[Message] = []  # the step being computed
        try:
            while True:
                # a pipelined commit holds a write's worth more: one publishing, one inserting
                limit = (3 if isinstance(commit, PipelinedCommit) else 2) * commit.max_events
                while pending and (waiting >= limit or pending[0][0].done()):
                    # removed here, not in its callback: a finished future returns from
                    # ``await`` without yielding, and this loop must not spin on it
                    oldest, size = pending.popleft()
                    await asyncio.wait([oldest])
                    waiting -= size
                behind = commit.behind()
                messages, arrived = await buffer.take(
                    step_events_behind if behind else step_events, within)
                # how long a step's oldest message waited in the buffer, and which steps
                # were taken while the agent was behind
                latencies.observe_repeated(f"{name}.step_buffered",
                                           (time.monotonic() - arrived[0]) * 1000.0, 1)
                if behind:
                    latencies.observe_repeated(f"{name}.step_events_behind",
                                               float(len(messages)), 1)
                for message in messages:
                    consumer.track_message(message)  # revocation waits for its ack
                # Faust's livelock check reads when a stream last took an event of a
                # partition; without it every batch partition was reported as "Stream has
                # not started processing" whenever it had a backlog, stalled or not
                inbound, now = app.monitor.stream_inbound_time, time.monotonic()
                for tp in {message.tp for message in messages}:
                    inbound[tp] = now
                delay = retry_initial
                outage_started: float | None = None
                retries = 0
                abandoned = False
                while True:
                    started = time.monotonic()
                    cpu_started = time.thread_time()
                    try:
                        part = prepare(messages)
                    except Unavailable as exc:
                        # not these messages' fault: nothing of them is acknowledged; wait
                        # and compute the same step again
                        if outage_started is None:
                            outage_started = started
                            log.warning("%s: %s; pausing and retrying until it answers",
                                        name, exc)
                        retries += 1
                        wait = delay * random.uniform(0.8, 1.2)
                        latencies.observe_repeated(f"{name}.unavailable", wait * 1000.0, 1)
                        await asyncio.sleep(wait)
                        delay = min(delay * 2, retry_max)
                        if getattr(app, "rebalancing", False) or not getattr(
                                consumer, "flow_active", True):
                            # nothing of the step was applied: give it up, or a revocation
                            # (or a shutdown) waits for it as long as the outage lasts and
                            # the worker drops out of the group; what stays assigned is read
                            # again
                            log.warning("%s: a rebalance or shutdown began while paused; the "
                                        "step is given up and read again", name)
                            buffer.drop(messages)
                            abandoned = True
                            break
                        continue
                    break
                if abandoned:
                    continue
                if outage_started is not None:
                    log.warning("%s: available again after %.1f s (%d retries); going on",
                                name, time.monotonic() - outage_started, retries)
                took_ms = (time.monotonic() - started) * 1000.0
                latencies.observe_repeated(f"{name}.processing_cpu",
                                           (time.thread_time() - cpu_started) * 1000.0,
                                           len(messages))
                # each message waits for its step's computation ...
                latencies.observe_repeated(f"{name}.processing", took_ms, len(messages))
                # ... which costs this much a message
                latencies.observe_repeated(f"{name}.cost_per_message",
                                           took_ms / len(messages), len(messages))
                latencies.observe_repeated(f"{name}.step_events", float(len(messages)), 1)
                durable = commit.submit(part, len(messages))
                pending.append((durable, len(messages)))
                waiting += len(messages)
                durable.add_done_callback(functools.partial(acknowledge, messages, arrived))
                await asyncio.sleep(0)  # let the writer start
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("%s: a batch failed; stopping the worker", name)
            # the step being computed: never acknowledged, read again after a restart
            await stop_worker(app, exc, messages)

    async def reread_dropped() -> None:
        dropped = buffer.take_dropped()
        assigned = app.consumer.assignment()
        again = {tp: offset for tp, offset in dropped.items() if tp in assigned}
        if again:
            log.warning("%s: reading again what was dropped unprocessed: %s", name, again)
            await app.consumer.seek_wait(again)

    run.__name__ = run.__qualname__ = name
    app.task(run)
    app.timer(interval=1.0, name=f"{name}_reread")(reread_dropped)
    return channel


def where(message: Message) -> tuple[str, int, int]:
    return message.topic, message.partition, message.offset


def raw_of(message: Message) -> Raw:
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
        headers=tuple((str(k), bytes(v or b"")) for k, v in headers) if headers else (),
    )
