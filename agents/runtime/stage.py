"""Runs a domain's ``Stage`` (``streams.kernel.stage``) on Faust.

For every stage: one batch agent over its input topics (steps, the group commit, the position
guard), its tables as Faust tables backed by changelog topics, its timers, and a retention
sweep when a table forgets old entries. A step's table changes apply in memory at once (the
next step folds onto them); their changelog records are published after the sink has the
rows: a crash before that replays the batch against the old state and reproduces the same
rows, which ClickHouse deduplicates. Every write of the stage, the agent's and the timers',
goes through one group commit, in the order it was made.

Timers and the sweep do not tick while a rebalance is under way (from the revocation until
the tables are recovered). A timer or the sweep that fails on a table entry quarantines it:
the entry stays in its table, is skipped from then on, is logged once and counted
(``timer.quarantined{table}``), so that one bad entry neither stops the worker (again after
every restart) nor holds up the others. A tick that fails as a whole is logged, counted
(``timer.errors{timer}``) and tried again at the next tick; a failed write stops the worker,
as the agent's do.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar, cast

import faust
from faust.serializers import codecs
from faust.types import Message

from agents.runtime.batching import PipelinedCommit, raw_of, where
from agents.runtime.core import Runtime, agent, new_guard, now_ms, writer
from agents.runtime.group_commit import Durable, GroupCommit
from agents.runtime.positions import Admission, PositionGuard
from agents.runtime.transport import BatchTopic, refuse
from streams.io.publisher import Outgoing
from streams.kernel import retention
from streams.kernel.isolation import isolating
from streams.kernel.metrics import Latencies, Metric
from streams.kernel.stage import Changes, Input, Outcome, Stage, Table, Timer, Value, compute
from streams.kernel.step import Decode
from streams.kernel.topics import dlq

log = logging.getLogger(__name__)
R = TypeVar("R")
Entries = Sequence[tuple[str, Value]]


class StateTables:
    """A stage's tables: lookups, changes applied in memory with their changelog records,
    the indexes, where each partition's state stands, and retention."""

    def __init__(self, app: faust.App, specs: Sequence[Table], partitions: int,
                 positions_of: Mapping[str, Sequence[str]] | None = None) -> None:
        """``positions_of``: per positioned table, the input topics (logical names) whose
        offsets its entries hold; a table not named holds the offsets of every input."""
        self.specs = {spec.name: spec for spec in specs}
        self.positions_of = {name: frozenset(topics)
                             for name, topics in (positions_of or {}).items()}
        unknown = [name for name in self.positions_of
                   if name not in self.specs or not self.specs[name].positioned]
        if unknown:
            raise ValueError(f"positions_of names tables that are not positioned: {unknown}")
        self.tables: dict[str, Any] = {
            spec.name: app.Table(spec.name, key_type=bytes, partitions=partitions)
            for spec in specs}
        #: per indexed table, the keys its ``index`` holds for: kept as entries change,
        #: rebuilt when the table is recovered, pruned by the timers as they go
        self.indexes: dict[str, set[bytes]] = {}
        for spec in specs:
            if spec.index is not None:
                self.indexes[spec.name] = set()
                self.tables[spec.name].on_recover(self._reindex(spec))

    def _reindex(self, spec: Table) -> Callable[[], Any]:
        async def reindex() -> None:
            assert spec.index is not None
            index = self.indexes[spec.name]
            index.clear()
            index.update(k for k, v in self.tables[spec.name].data.items()
                         if isinstance(v, dict) and spec.index(v))

        return reindex

    def lookup(self, table: str, key: str) -> Value | None:
        value: Value | None = self.tables[table].data.get(key.encode())
        return value

    def keys(self) -> dict[str, int]:
        return {name: len(table.data) for name, table in self.tables.items()}

    def apply(self, changes: Changes) -> list[Outgoing]:
        """Change the tables in memory now (None: delete the key); returns their changelog
        records (tombstones for deletions), to publish once the sink has the batch. A
        positioned table's changes go in offset order: a partition's changelog then always
        holds a prefix of its events, which is what the position guard replays from."""
        out: list[Outgoing] = []
        for name, changed in changes.items():
            if not changed:
                continue
            spec = self.specs[name]
            target = self.tables[name]
            data = target.data
            topic = target.changelog_topic.get_topic_name()
            index = self.indexes.get(name)
            items: Iterable[tuple[str, tuple[int, Value | None]]] = changed.items()
            if spec.positioned:
                items = sorted(items, key=lambda kv: -1 if kv[1][1] is None else kv[1][1]["offset"])
            for key, (partition, value) in items:
                kb = key.encode()
                if value is None:
                    if data.pop(kb, None) is None:
                        continue
                    if index is not None:
                        index.discard(kb)
                    out.append(Outgoing(topic, kb, None, None, partition))
                    continue
                if value.get("partition") != partition:
                    value = {**value, "partition": partition}
                data[kb] = value
                if index is not None and spec.index is not None:
                    (index.add if spec.index(value) else index.discard)(kb)
                out.append(Outgoing(topic, kb, codecs.dumps("json", value), None, partition))
        return out

    def positions(self, partitions: list[int], topic: str | None = None) -> dict[int, int]:
        """Per partition, the offset after the last event its positioned tables absorbed (0
        when they hold none of it: its state is rebuilt from the start of the log); the
        lowest over the tables that hold ``topic``'s offsets (``positions_of``; None: every
        positioned table). Offsets of different topics are never compared: a stage with two
        inputs resumes each where the tables holding its offsets stand."""
        out: dict[int, int] = {}
        for spec in self.specs.values():
            if not spec.positioned:
                continue
            holds = self.positions_of.get(spec.name)
            if topic is not None and holds is not None and topic not in holds:
                continue
            top: dict[int, int] = {}
            for value in self.tables[spec.name].data.values():
                p = value["partition"]
                if p in partitions:
                    top[p] = max(top.get(p, 0), value["offset"] + 1)
            for p in partitions:
                out[p] = min(out.get(p, top.get(p, 0)), top.get(p, 0))
        return out

    def entries(self, name: str, partitions: set[int], indexed: bool) -> list[tuple[str, Value]]:
        """The entries of a table on ``partitions`` (only its indexed keys when ``indexed``)."""
        data = self.tables[name].data
        if not indexed:
            return [(k.decode(), v) for k, v in data.items() if v.get("partition") in partitions]
        spec = self.specs[name]
        index = self.indexes[name]
        out: list[tuple[str, Value]] = []
        for kb in list(index):
            value = data.get(kb)
            if value is None or spec.index is None or not spec.index(value):
                index.discard(kb)
            elif value.get("partition") in partitions:
                out.append((kb.decode(), value))
        return out

    def expired(self, name: str, entries: Entries, now: int) -> Changes:
        """The entries of ``name`` its retention forgets now (a tombstone each)."""
        spec = self.specs[name]
        assert spec.retain_ms is not None
        if spec.positioned:
            gone = retention.expired(
                [retention.Entry(k, v["partition"], v["offset"], v["last_event_at"],
                                 spec.closed(v)) for k, v in entries], now, spec.retain_ms)
            return {name: {e.key: (e.partition, None) for e in gone}}
        return {name: {k: (v["partition"], None) for k, v in entries
                       if spec.closed(v) and now - v["last_event_at"] >= spec.retain_ms}}


class _Kept(Latencies):
    """Passes on to ``target`` only the histograms whose label ends with ``kept``: each half
    of a pipelined write times only its own half (``pipelined_commit``)."""

    def __init__(self, target: Latencies, kept: str) -> None:
        super().__init__()
        self._target, self._kept = target, kept

    def observe_repeated(self, label: str, value_ms: float, times: int) -> None:
        if label.endswith(self._kept):
            self._target.observe_repeated(label, value_ms, times)


def pipelined_commit(app: faust.App, runtime: Runtime, name: str) -> PipelinedCommit:
    """The stage's group commit: rows first (``<name>.write``, ``.write_sink``), then outputs
    and changelogs (``<name>.publish.write``, ``<name>.write_publish``), the next write's
    insert overlapping this one's publish (``agents.runtime.batching.PipelinedCommit``)."""
    settings = runtime.settings

    def half(kept: str) -> Runtime:
        return replace(runtime, latencies=_Kept(runtime.latencies, kept))

    publish = GroupCommit(writer(app, half(".write_publish"), name),
                          max_events=settings.batch_max_events, name=f"{name}.publish",
                          latencies=runtime.latencies)
    return PipelinedCommit(writer(app, half(".write_sink"), name), publish,
                           max_events=settings.batch_max_events,
                           interval=settings.write_interval_seconds,
                           interval_behind=settings.write_interval_behind_seconds, name=name,
                           latencies=runtime.latencies)


def run_stage(app: faust.App, runtime: Runtime, stage: Stage, *,
              positions_of: Mapping[str, Sequence[str]] | None = None) -> BatchTopic:
    """Subscribe ``app`` to the stage's inputs and start its tables and timers.

    ``positions_of`` (a stage with several inputs): per positioned table, the input topics
    (logical names) whose offsets its entries hold, so that each input resumes where the
    tables holding its offsets stand (``StateTables.positions``); by default every
    positioned table holds the offsets of every input."""
    settings = runtime.settings
    state = StateTables(app, stage.tables, settings.topic_partitions, positions_of)
    compacted = {name for name, spec in runtime.codec.topics.items()
                 if "compact" in spec.cleanup_policy}
    inputs: dict[str, Input] = {
        settings.topic(i.topic): replace(i, tombstones=i.tombstones or i.topic in compacted)
        for i in stage.inputs}
    decoders: dict[str, Decode] = {
        physical: runtime.codec.decoder(i.topic) for physical, i in inputs.items()
        if i.encoding == "avro"}
    dead_letter_topics = {physical: settings.topic(dlq(i.topic)) for physical, i in inputs.items()}
    commit = pipelined_commit(app, runtime, stage.name)
    source = stage.inputs[0].topic  # the label of the stage's own counters
    guard: PositionGuard | None = None
    if stage.sunk:
        positioned = any(t.positioned for t in stage.tables)
        guard = new_guard(app, runtime, stage.sunk,
                          also=(lambda physical, ps: state.positions(
                              ps, inputs[physical].topic if physical in inputs else None))
                          if positioned else None)
    quarantined: dict[str, set[str]] = {}

    def guarded(table: str, entries: Entries, run: Callable[[Entries], R]) -> R:
        """``run`` over the entries not quarantined; those it fails on are quarantined."""
        skip = quarantined.setdefault(table, set())
        result, failed = isolating([e for e in entries if e[0] not in skip], run)
        for key, error in failed:
            skip.add(key)
            runtime.counters.incr("timer.quarantined", table)
            log.error("%s entry %r: a timer fails on it; it stays in the table and the timers "
                      "skip it from now on", table, key, exc_info=error)
        return result

    def assigned() -> set[int]:
        return {tp.partition for tp in app.consumer.assignment() if tp.topic in inputs}

    def durable(outcome: Outcome) -> Durable | None:
        result = outcome.result
        changelog = state.apply(outcome.changes)
        if not changelog and not result.outputs and not any(
                next(iter(c.values()), None) for c in result.inserts.values()):
            return None
        return Durable(inserts=result.inserts, outputs=result.outputs, changelog=changelog)

    def every(interval: float, name: str, prepare_part: Callable[[], Durable | None]) -> None:
        async def run() -> None:
            if getattr(app, "rebalancing", False):
                # the tables are being rebuilt from their changelogs: a tick now would act on
                # entries half restored and publish them over their newer values
                return
            try:
                part = prepare_part()
            except Exception:
                runtime.counters.incr("timer.errors", name)
                log.exception("timer %s failed; it runs again at its next tick", name)
                return
            if part is not None:
                await commit.submit(part, 0)

        run.__name__ = run.__qualname__ = name
        app.timer(interval=interval, name=name)(run)

    def timer(spec: Timer) -> Callable[[], Durable | None]:
        def tick() -> Durable | None:
            entries = state.entries(spec.table, assigned(), spec.indexed)
            if not entries:
                return None
            now = now_ms()
            return durable(guarded(spec.table, entries, lambda items: spec.tick(items, now)))

        return tick

    for spec in stage.timers:
        every(spec.interval, spec.name, timer(spec))

    retained = [t for t in stage.tables if t.retain_ms is not None]
    if retained:
        def sweep() -> Durable | None:
            now = now_ms()
            mine = assigned()
            outcome = Outcome()
            for table in retained:
                def forget(items: Entries, name: str = table.name) -> Changes:
                    return state.expired(name, items, now)

                entries = state.entries(table.name, mine, indexed=False)
                outcome.changes.update(guarded(table.name, entries, forget))
            gone = sum(len(c) for c in outcome.changes.values())
            if not gone:
                return None
            log.info("forgetting %d entries of %s closed for their retention period", gone,
                     ", ".join(t.name for t in retained))
            return durable(outcome)

        shortest = min(t.retain_ms or 0 for t in retained) / 1000
        every(min(60.0, shortest / 4), f"{stage.name}_retention", sweep)

    def prepare(messages: Sequence[Message]) -> Durable:
        admission = (guard.admit(list(messages), where) if guard is not None
                     else Admission(admitted=list(messages)))
        raws = [raw_of(message) for message in admission.admitted]
        computed = compute(stage, raws, decoders, inputs, state.lookup,
                           dead_letter_topics.__getitem__, now_ms())
        result = computed.outcome.result
        counts: Counter[tuple[Metric, str]] = Counter({
            ("batches", source): 1, ("outputs.produced", source): len(result.outputs)})
        for (metric, topic), value in computed.counts.items():
            counts[cast(Metric, metric), topic] += value
        for letter in computed.dead:
            counts["dead_letters", letter.error] += 1
        refuse(app.consumer, admission.refused)  # once computed: a retried step refuses again
        return Durable(rewind=dict(admission.rewind), dead=computed.dead,
                       inserts=result.inserts, outputs=result.outputs,
                       changelog=state.apply(computed.outcome.changes), counts=counts)

    return agent(app, runtime, stage.name, list(inputs), prepare, commit)
