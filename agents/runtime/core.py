"""What every agent shares: settings, codec, ClickHouse sink, counters, and the steps that
turn a Faust batch into a sunk, acknowledged batch."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import faust
from faust.types import TP, Message

from agents.runtime.batching import batch_agent
from agents.runtime.books import committed_offsets, fetch_state
from agents.runtime.group_commit import Durable, GroupCommit, Prepare, Write
from agents.runtime.positions import PositionGuard, resume_at
from agents.runtime.transport import BatchTopic, note_resumed, orphaned, reread_arrived, unstick
from streams.contract.codec import AvroCodec
from streams.io.clickhouse import ClickHouse
from streams.io.kafka_admin import committed, first_offset_from, log_start
from streams.io.positions import sunk_next
from streams.io.publisher import Outgoing, Publisher
from streams.io.sink import Sink
from streams.kernel.dlq_limit import DlqLimit, DlqLimitExceeded, DlqLimitState
from streams.kernel.errors import Unavailable
from streams.kernel.metrics import Counters, Latencies
from streams.kernel.records import OutputRecord
from streams.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    codec: AvroCodec
    clickhouse: ClickHouse
    sink: Sink
    publisher: Publisher
    counters: Counters
    #: per agent: from a message's arrival in the worker until its batch is durable
    latencies: Latencies = field(default_factory=Latencies)
    #: the position guards of the agents (``new_guard``), put back when a step is retried
    guards: list[PositionGuard] = field(default_factory=list)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        counters = Counters()
        clickhouse = ClickHouse.from_settings(settings)
        sink = Sink(
            clickhouse,
            counters,
            retry_initial_seconds=settings.sink_retry_initial_seconds,
            retry_max_seconds=settings.sink_retry_max_seconds,
        )
        # load the models now rather than in the first batch
        from streams.text import language
        from streams.text.intent import default_model

        default_model()
        language.detect_many(["warm up"])
        publisher = Publisher(
            settings,
            retry_initial=settings.sink_retry_initial_seconds,
            retry_max=settings.sink_retry_max_seconds,
            on_retry=lambda topic: counters.incr("publish.retries", topic),
        )
        return cls(settings, AvroCodec.from_settings(settings), clickhouse, sink, publisher,
                   counters)


def new_guard(app: faust.App, runtime: Runtime, tables: tuple[str, ...],
              also: Callable[[str, list[int]], dict[int, int]] | None = None) -> PositionGuard:
    """A position guard, reset on every partition assignment and seeded where each
    partition resumes (``agents.runtime.positions.resume_at``): from ClickHouse, the log
    start, the group's committed offset and, for a stage with positioned tables, what
    ``also`` says its state has absorbed. Every stage may publish (outputs, dead letters)
    and its store is written first, so a stateless one resumes at the commit rather than at
    its store (``publishes``)."""

    def seed(topic: str, partitions: Iterable[int]) -> dict[int, int]:
        wanted = list(partitions)
        sunk = sunk_next(runtime.clickhouse.query, topic, tables, wanted)
        start = log_start(runtime.settings, topic, wanted)
        committed_at = committed_offsets(
            app.consumer, topic, wanted,
            on_broker=committed(runtime.settings, app.conf.id, topic, wanted))
        state = also(topic, wanted) if also else None
        positions = {
            p: resume_at(log_start=start[p], sunk=sunk[p], committed=committed_at.get(p),
                         state=None if state is None else state.get(p, 0),
                         publishes=True)
            for p in wanted
        }
        note_resumed(app.consumer, topic, positions)
        log.info("positions of %s: %s (sunk %s, log start %s, committed %s, state %s)", topic,
                 positions, sunk, start, committed_at, state)
        return positions

    guard = PositionGuard(
        seed, lambda t, p, o: first_offset_from(runtime.settings, t, p, o),
        arrived=lambda t, p, o: reread_arrived(app.consumer, t, p, o),
        stall_seconds=runtime.settings.partition_stall_seconds,
    )
    runtime.guards.append(guard)
    add_floor = getattr(app, "add_position_floor", None)
    if add_floor is not None:  # a batching app: no seek moves a partition past the guard
        add_floor(lambda tp: guard.next_offset(tp.topic, tp.partition))

    async def _reset(sender: Any, *args: Any, **kwargs: Any) -> None:
        guard.forget()

    app.on_partitions_assigned.connect(_reset)  # type: ignore[arg-type]

    async def _reseek() -> None:
        again = guard.overdue()
        if again:
            log.warning("re-read not arrived; seeking again: %s (fetcher before: %s)", again,
                        {tp: fetch_state(app.consumer, TP(*tp)) for tp in again})
            await app.consumer.seek_wait(
                {TP(topic, partition): offset for (topic, partition), offset in again.items()})
        await watchdog(app, guard)

    app.timer(interval=1.0, name=f"reseek_{'_'.join(tables)}")(_reseek)

    return guard


async def watchdog(app: faust.App, guard: PositionGuard) -> None:
    """No partition of ``guard`` stays stalled until the next rebalance: one whose re-read has
    made no progress for ``partition_stall_seconds`` (``PositionGuard.stalled``), or that is
    not fetched although nothing holds it paused (``BatchingConsumer.orphaned``), is put back
    into the fetch and sought where the guard needs it; logged with the fetcher's state."""
    consumer = app.consumer
    stuck = {TP(topic, partition): offset
             for (topic, partition), offset in guard.stalled().items()}
    for tp in orphaned(consumer):
        offset = guard.next_offset(tp.topic, tp.partition)
        if offset is not None:
            stuck.setdefault(tp, offset)
    if not stuck:
        return
    before = {tp: fetch_state(consumer, tp) for tp in stuck}
    done = await unstick(consumer, stuck)
    log.warning("stalled partitions put back into the fetch: %s (fetcher before: %s; done: %s)",
                stuck, before, done)


def now_ms() -> int:
    return int(time.time() * 1000)


def error_policy(runtime: Runtime, prepare: Prepare) -> Prepare:
    """``prepare`` with the worker's error policy around it.

    When it raises ``Unavailable`` the guards' positions are put back as they were, so the
    runtime can compute the step again from the same messages (``batch_agent`` waits and
    retries). When it succeeds its dead letters are counted against the dead-letter limit,
    in message order, per source topic: past the limit ``DlqLimitExceeded`` is raised before
    anything of the step is written, and the worker stops."""
    settings = runtime.settings
    limit = DlqLimitState(DlqLimit(max_invalid_ratio=settings.dlq_limit_invalid_ratio,
                                   max_consecutive=settings.dlq_limit_consecutive,
                                   window=settings.dlq_limit_window))

    def prepare_within_policy(messages: Sequence[Message]) -> Durable:
        saved = [guard.snapshot() for guard in runtime.guards]
        try:
            part = prepare(messages)
        except Unavailable:
            for guard, positions in zip(runtime.guards, saved, strict=True):
                guard.restore(positions)
            raise
        if not part.dead:
            for topic, count in Counter(m.topic for m in messages).items():
                limit.observe_run(topic, False, count)
            return part
        dead = {(d.raw.topic, d.raw.partition, d.raw.offset) for d in part.dead}
        by_topic: dict[str, list[bool]] = {}
        for m in messages:
            by_topic.setdefault(m.topic, []).append((m.topic, m.partition, m.offset) in dead)
        try:
            for topic, outcomes in by_topic.items():
                limit.observe(topic, outcomes)
        except DlqLimitExceeded as exc:
            log.error("%s", exc)
            raise
        return part

    return prepare_within_policy


def agent(app: faust.App, runtime: Runtime, name: str, topics: Sequence[str], prepare: Prepare,
          commit: GroupCommit | None = None) -> BatchTopic:
    """A batch agent with the worker's step and write settings; ``commit`` when others (a
    timer) write through the same group commit."""
    settings = runtime.settings
    if commit is None:
        commit = group_commit(app, runtime, name)
    return batch_agent(app, name, topics, error_policy(runtime, prepare),
                       step_events=settings.step_max_events,
                       step_events_behind=settings.step_max_events_behind,
                       within=settings.batch_max_seconds, latencies=runtime.latencies,
                       commit=commit, retry_initial=settings.sink_retry_initial_seconds,
                       retry_max=settings.sink_retry_max_seconds)


def group_commit(app: faust.App, runtime: Runtime, name: str) -> GroupCommit:
    settings = runtime.settings
    return GroupCommit(writer(app, runtime, name), max_events=settings.batch_max_events,
                       interval=settings.write_interval_seconds,
                       interval_behind=settings.write_interval_behind_seconds, name=name,
                       latencies=runtime.latencies)


T = TypeVar("T")


def last_per_key(items: Sequence[T], key: Callable[[T], Hashable | None]) -> list[T]:
    """``items`` without those followed by a later item of the same key; items whose key
    is None are all kept. The order is kept."""
    keys = [key(item) for item in items]
    last = {k: i for i, k in enumerate(keys) if k is not None}
    return [item for i, (item, k) in enumerate(zip(items, keys, strict=True))
            if k is None or last[k] == i]


def writer(app: faust.App, runtime: Runtime, name: str) -> Write:
    """The write of a ``GroupCommit``: returns when all of a (merged) part is durable.

    Partitions with a hole are sought back first. Dead letters reach their topic before
    ClickHouse gets the rows, and the output records (encoded here with their topic's schema)
    and table changelogs are published last, in one flush: when it returns, the offsets of
    the part's messages may be committed.
    """
    settings = runtime.settings
    encode = runtime.codec.encode
    observe = runtime.latencies.observe_repeated
    compacted = {topic for topic, spec in runtime.codec.topics.items()
                 if "compact" in spec.cleanup_policy}

    def output_key(record: OutputRecord) -> tuple[str, str] | None:
        return (record.topic, record.key) if record.topic in compacted else None

    def changelog_key(record: Outgoing) -> tuple[str, bytes | None, int | None]:
        return record.topic, record.key, record.partition

    async def write(part: Durable) -> None:
        if part.rewind:
            log.info("re-reading %s", part.rewind)
            await app.consumer.seek_wait(
                {TP(topic, partition): offset for (topic, partition), offset in part.rewind.items()})
            log.info("fetcher after the seek: %s", {
                tp: fetch_state(app.consumer, TP(*tp)) for tp in part.rewind})
        for letter in part.dead:
            log.warning(
                "dead-lettered %s[%d]@%d: %s: %s", letter.raw.topic, letter.raw.partition,
                letter.raw.offset, letter.error, letter.reason,
            )
        await runtime.publisher.publish([Outgoing(*letter.message()) for letter in part.dead])
        started = time.monotonic()
        await runtime.sink.write(part.inserts)
        sunk = time.monotonic()
        observe(f"{name}.write_sink", (sunk - started) * 1000.0, 1)
        # Of the records of a compacted topic (table changelogs too), compaction keeps only
        # the last per key: a write publishes only those, in their order.
        outputs = last_per_key(part.outputs, output_key)
        delay = settings.sink_retry_initial_seconds
        while True:
            try:  # an output topic's schema id comes from the registry once, which may be down
                encoded = [Outgoing(settings.topic(r.topic), r.key.encode(),
                                    encode(r.topic, r.value)) for r in outputs]
                break
            except Unavailable as exc:
                log.warning("%s: %s; retrying in %.1f s", name, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, settings.sink_retry_max_seconds)
        await runtime.publisher.publish(encoded + last_per_key(part.changelog, changelog_key))
        observe(f"{name}.write_publish", (time.monotonic() - sunk) * 1000.0, 1)
        counters = runtime.counters
        for (metric, label), value in part.counts.items():
            if value:
                counters.incr(metric, label, value)

    return write
