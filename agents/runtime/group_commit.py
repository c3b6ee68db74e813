"""The group commit: what computed steps must make durable, written one write at a time.

A step's ``Durable`` part (seeks back to re-read a hole, dead letters, ClickHouse rows,
output records and table changelogs) is submitted to a ``GroupCommit``, which writes parts
in the order they were submitted; parts submitted while a write is under way are merged
into the next write, so the per-insert and per-flush costs are paid once per write, not per
step. A part is durable when the write that holds it returns; a failed write fails its parts
and every later one. Only the grouping of parts into writes changes with the traffic, never
their order or what each write makes durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from faust.types import Message

from streams.io.publisher import Outgoing
from streams.kernel.deadletter import DeadLetter
from streams.kernel.metrics import Latencies, Metric
from streams.kernel.records import Columns, OutputRecord


@dataclass(slots=True)
class Durable:
    """What a computed step still has to make durable, written in this order: seeks back to
    re-read a hole (``rewind``), dead letters, ClickHouse rows, then output records and
    table changelogs (``changelog``) in one flush. ``counts`` are counter increments
    (name, label) to apply once it is durable."""

    rewind: dict[tuple[str, int], int] = field(default_factory=dict)
    dead: list[DeadLetter] = field(default_factory=list)
    inserts: dict[str, Columns] = field(default_factory=dict)
    outputs: list[OutputRecord] = field(default_factory=list)
    changelog: list[Outgoing] = field(default_factory=list)
    counts: Counter[tuple[Metric, str]] = field(default_factory=Counter)

    def merge(self, later: Durable) -> None:
        """Append ``later`` (computed after this one): every list keeps its order."""
        for tp, offset in later.rewind.items():
            self.rewind[tp] = min(offset, self.rewind.get(tp, offset))
        self.dead.extend(later.dead)
        for table, columns in later.inserts.items():
            mine = self.inserts.get(table)
            if mine is None:
                self.inserts[table] = {name: list(values) for name, values in columns.items()}
                continue
            if mine.keys() != columns.keys():
                raise ValueError(f"{table}: steps with different columns cannot be merged")
            for name, values in columns.items():
                mine[name].extend(values)
        self.outputs.extend(later.outputs)
        self.changelog.extend(later.changelog)
        self.counts.update(later.counts)


Write = Callable[[Durable], Awaitable[None]]
#: computes a step of messages, returns what it must make durable
Prepare = Callable[[Sequence[Message]], Durable]


class GroupCommit:
    """Makes ``Durable`` parts durable one write at a time, in the order they were
    submitted. Parts submitted while a write is under way wait and are merged into the next
    write, which takes every part waiting up to ``max_events`` consumed events (the
    ClickHouse insert size). If a write fails, its parts and every later one fail with it
    (the worker then stops without acknowledging them).

    When the last write has returned, the next starts once ``interval`` seconds have passed
    since the last one started, or at once when ``max_events`` are waiting. Under live
    traffic a write therefore holds what arrived in one interval (the write's size follows
    the arrival rate, and an event waits at most about an interval for its write to
    start), and a write that took longer than an interval is followed at once by one
    holding everything that arrived meanwhile: the writes keep up with the traffic as long
    as the writer can. While the agent is behind (``lag()``, how long the oldest event
    waiting before it has waited, is ``interval_behind`` or more), writes start at most
    every ``interval_behind``: a backlog drains fastest in large writes. Only the grouping
    of parts into writes changes, never their order or what each write makes durable."""

    def __init__(self, write: Write, *, max_events: int, interval: float = 0.0,
                 interval_behind: float | None = None, name: str = "",
                 latencies: Latencies | None = None) -> None:
        self._write = write
        self.max_events = max_events
        #: a write starts at most this often (seconds) unless ``max_events`` are waiting: each
        #: insert and flush has a fixed cost, and on a busy machine small writes cost the
        #: computation its CPU
        self.interval = interval
        #: ... and this often while behind: catching up, larger writes matter more than a
        #: message's wait
        self.interval_behind = interval if interval_behind is None else interval_behind
        #: seconds the oldest event waiting unprocessed before the agent has waited
        #: (``batch_agent`` sets it to its buffer's): a burst of fetched records is not lag
        self.lag: Callable[[], float] = lambda: 0.0
        self._last_start = float("-inf")
        self._name = name
        self._latencies = latencies
        self._queue: deque[tuple[Durable, int, asyncio.Future[None]]] = deque()
        #: when each part in ``_queue`` was submitted (``time.monotonic``)
        self._submitted: deque[float] = deque()
        #: consumed events of the parts in ``_queue``
        self._queued = 0
        #: set when a write's worth is queued: it ends the wait for the interval
        self._full: asyncio.Event | None = None
        self._writer: asyncio.Future[None] | None = None
        self._failed: BaseException | None = None
        #: parts merged per write (the last 1,000 writes)
        self.writes: deque[int] = deque(maxlen=1000)

    def submit(self, part: Durable, events: int) -> asyncio.Future[None]:
        """Queue ``part`` (of ``events`` consumed events); the future is done when it is
        durable."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._failed is not None:
            done.set_exception(self._failed)
            return done
        self._queue.append((part, events, done))
        self._submitted.append(time.monotonic())
        self._queued += events
        if self._full is not None and self._queued >= self.max_events:
            self._full.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._drain())
        return done

    def behind(self) -> bool:
        """Whether the agent is behind: the oldest event waiting before it has waited
        ``interval_behind`` or more."""
        return self.interval_behind > 0 and self.lag() >= self.interval_behind

    def _interval(self) -> float:
        return self.interval_behind if self.behind() else self.interval

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        full = self._full = self._full or asyncio.Event()
        while self._queue:
            wait = self._last_start + self._interval() - loop.time()
            if wait > 0 and self._queued < self.max_events:
                # wait out the interval, unless a write's worth arrives meanwhile: while
                # behind, the agent stops computing at two writes' worth not yet durable,
                # so a sleep that ignored it would cap a drain at two writes an interval
                full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(full.wait(), wait)
            self._last_start = loop.time()
            group = [self._queue.popleft()]
            queued_at = self._submitted.popleft()
            events = group[0][1]
            while self._queue and events + self._queue[0][1] <= self.max_events:
                events += self._queue[0][1]
                group.append(self._queue.popleft())
                self._submitted.popleft()
            self._queued -= events
            merged = group[0][0]
            if len(group) > 1:  # merged into a new part: a part's own lists stay as they are
                merged = Durable()
                for part, _, _ in group:
                    merged.merge(part)
            started = time.monotonic()
            if self._latencies is not None:  # the oldest part's wait for its write
                self._latencies.observe_repeated(f"{self._name}.write_queued",
                                                 (started - queued_at) * 1000.0, 1)
            try:
                await self._write(merged)
            except BaseException as exc:
                self._failed = exc
                for _, _, done in (*group, *self._queue):
                    if not done.done():
                        done.set_exception(exc)
                self._queue.clear()
                self._submitted.clear()
                self._queued = 0
                if isinstance(exc, asyncio.CancelledError):
                    raise
                return
            self.writes.append(len(group))
            took = time.monotonic() - started
            if self._latencies is not None:  # how long a write takes, and how many events
                self._latencies.observe_repeated(f"{self._name}.write", took * 1000.0, 1)
                self._latencies.observe_repeated(f"{self._name}.write_events", float(events), 1)
            for _, _, done in group:
                if not done.done():
                    done.set_result(None)

