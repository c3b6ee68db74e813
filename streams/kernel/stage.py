"""A stateful stage as a domain declares it, and how a batch of messages is computed with it.

A domain gives its input topics (each with its contract rules), its state tables, a pure step
over a batch of decoded events and the state they read, and its timers over table entries.
The runtime (``agents.runtime``) runs a stage on Faust: batching, the group commit,
changelog-backed tables with retention and quarantine, timers and the position guard. This
module knows neither Kafka nor Faust; ``compute`` is what the runtime calls for every batch,
and what unit tests and benchmarks call directly.

Invariants:
- a table value is a JSON object that carries the ``partition`` of its key (the runtime sets
  it): a table's changelog is partitioned like the stage's input, so state moves with its
  partition on a rebalance;
- a step never changes its arguments or the values it looks up; what it changes, it returns
  (``Outcome.changes``), with the new value or None (forget the key);
- a message that cannot be decoded or breaks its contract is dead-lettered
  (``InvalidMessage``); if the step fails on a whole batch for another reason, it runs again
  one event at a time and the event it fails on is dead-lettered as ``processing_failed``,
  unless the failure is an unavailable dependency (``Unavailable``), which is raised so
  that the runtime waits and retries;
- an input may read a batch in one call (``Input.read_batch``, opt-in): if that or the step
  over what it read fails, the batch is computed as without it, one message at a time, so a
  bad record is dead-lettered alone; the step must give the same outcome either way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from streams.kernel.deadletter import DeadLetter, dead_letter, dead_letter_columns
from streams.kernel.errors import InvalidMessage, Unavailable
from streams.kernel.records import BatchResult, Raw
from streams.kernel.step import Decode, Validator, merge, poison
from streams.kernel.topics import DEAD_LETTERS_TABLE

#: a table value (JSON object)
Value = dict[str, Any]
#: (table, key) -> the value the state holds, or None
Lookup = Callable[[str, str], "Value | None"]
#: table -> key -> (partition, new value or None to forget the key)
Changes = dict[str, dict[str, tuple[int, "Value | None"]]]
#: (an input's messages of a batch, its decoder) -> what the step reads (``Events.batch``);
#: raises ``InvalidMessage`` if any message is bad
ReadBatch = Callable[[Sequence[Raw], Decode], Any]


@dataclass(frozen=True, slots=True)
class Input:
    """An input topic of a stage: ``avro`` values are decoded with the topic's schema and
    checked by ``validate``; ``raw`` values reach the step as they are (values are empty)."""

    topic: str  # logical
    validate: Validator | None = None
    encoding: Literal["avro", "raw"] = "avro"
    #: a compacted topic: a record without a value is a tombstone (the key was deleted or
    #: erased), passed over as processed, never dead-lettered as bad input
    tombstones: bool = False
    #: opt-in: a batch of this input alone, all of it with values, read (decoded and checked)
    #: in one call, e.g. into columns; the step then gets ``Events.batch`` and no ``values``
    read_batch: ReadBatch | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A changelog-backed table of a stage, keyed by a string.

    ``positioned``: each value carries the ``offset`` of the last input event it absorbed, so
    the table also tells where each partition's state stands (the position guard replays from
    there after a crash, and the state must not run ahead of it). ``index``: the keys for
    which it holds are kept in an index that timers can scan instead of the whole table.
    ``retain_ms``: a value that is ``closed`` and whose ``last_event_at`` is that old is
    forgotten (a tombstone on the changelog), except, in a positioned table, the entry
    holding its partition's highest offset."""

    name: str
    positioned: bool = False
    index: Callable[[Value], bool] | None = None
    retain_ms: int | None = None
    closed: Callable[[Value], bool] = lambda value: True


@dataclass(slots=True)
class Events:
    """The decoded, valid events of a batch, in consumption order."""

    raws: list[Raw] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    #: what ``Input.read_batch`` made of the whole batch (then ``values`` is empty), or None
    batch: Any = None


@dataclass(slots=True)
class Outcome:
    """What a step or a timer's tick produces: rows, output records, state changes."""

    result: BatchResult = field(default_factory=BatchResult)
    changes: Changes = field(default_factory=dict)

    def absorb(self, later: Outcome) -> None:
        """Append ``later`` (computed after this one; its changes win)."""
        merge(self.result, later.result)
        for table, changed in later.changes.items():
            self.changes.setdefault(table, {}).update(changed)


#: (events, state, now in epoch ms) -> outcome
Step = Callable[[Events, Lookup, int], Outcome]
#: (entries of one table on the worker's partitions, now in epoch ms) -> outcome
Tick = Callable[[Sequence[tuple[str, Value]], int], Outcome]


@dataclass(frozen=True, slots=True)
class Timer:
    """Runs every ``interval`` seconds over the entries of ``table`` (only its indexed keys
    when ``indexed``) that belong to the worker's partitions. An entry it fails on is
    quarantined: kept, skipped from then on, logged and counted."""

    name: str
    interval: float
    table: str
    tick: Tick
    indexed: bool = False


@dataclass(frozen=True, slots=True)
class Stage:
    """A domain's stateful stage. ``sunk``: the ClickHouse tables whose rows carry the
    inputs' positions (``_topic``, ``_partition``, ``_offset``): what they hold is processed."""

    name: str
    inputs: tuple[Input, ...]
    step: Step
    tables: tuple[Table, ...] = ()
    timers: tuple[Timer, ...] = ()
    sunk: tuple[str, ...] = ()


@dataclass(slots=True)
class Computed:
    """A batch computed: its outcome, dead letters and counts per input topic."""

    outcome: Outcome
    dead: list[DeadLetter]
    counts: Counter[tuple[str, str]]  # (metric, logical input topic)


def overlay(lookup: Lookup, changes: Changes) -> Lookup:
    """``lookup`` as ``changes`` leave it."""

    def read(table: str, key: str) -> Value | None:
        changed = changes.get(table)
        if changed is not None and key in changed:
            return changed[key][1]
        return lookup(table, key)

    return read


def compute(stage: Stage, raws: Sequence[Raw], decoders: Mapping[str, Decode],
            validators: Mapping[str, Input], lookup: Lookup, dlq_topic: Callable[[str], str],
            now_ms: int) -> Computed:
    """Decode and validate ``raws`` (physical topics: ``decoders`` and ``validators`` are keyed
    by them), run the stage's step, isolate a poison message; ``dlq_topic(physical)`` names
    the dead-letter topic of an input."""
    if raws and validators[raws[0].topic].read_batch is not None:
        whole = _read_whole(stage, raws, decoders, validators, lookup, now_ms)
        if whole is not None:
            return whole
    counts: Counter[tuple[str, str]] = Counter()
    events = Events()
    dead: list[DeadLetter] = []
    by_topic: dict[str, list[int]] = {}
    for i, raw in enumerate(raws):
        by_topic.setdefault(raw.topic, []).append(i)
    for topic, index in by_topic.items():
        counts["events.consumed", validators[topic].topic] = len(index)
    decoded: list[dict[str, Any] | InvalidMessage | None] = [None] * len(raws)
    tombstones: Counter[str] = Counter()
    for topic, index in by_topic.items():
        spec = validators[topic]
        if spec.encoding == "raw":
            for i in index:
                decoded[i] = {}
            continue
        if spec.tombstones:
            tombstones[topic] = sum(raws[i].value is None for i in index)
            if tombstones[topic]:
                index = [i for i in index if raws[i].value is not None]
        for i, one in zip(index, decoders[topic]([raws[i].value for i in index]), strict=True):
            decoded[i] = one
    for raw, value in zip(raws, decoded, strict=True):
        if value is None:  # a tombstone
            continue
        try:
            if isinstance(value, InvalidMessage):
                raise value
            spec = validators[raw.topic]
            if spec.validate is not None:
                spec.validate(raw, value)
        except InvalidMessage as exc:
            dead.append(dead_letter(raw, exc, dlq_topic(raw.topic), now_ms))
            continue
        events.raws.append(raw)
        events.values.append(value)
    outcome = _isolated(stage.step, events, lookup, now_ms, dead, dlq_topic)
    if dead:
        outcome.result.inserts[DEAD_LETTERS_TABLE] = dead_letter_columns(dead)
        outcome.result.dead = len(dead)
        for letter in dead:
            counts["events.dead_lettered", validators[letter.raw.topic].topic] += 1
    poisoned = Counter(letter.raw.topic for letter in dead if letter.error == "processing_failed")
    if len(by_topic) == 1:
        processed: Counter[str] = Counter({raws[0].topic: len(events.raws)})
    else:
        processed = Counter(raw.topic for raw in events.raws)
    processed.update(tombstones)
    for topic, n in processed.items():
        counts["events.processed", validators[topic].topic] += n - poisoned[topic]
    if outcome.result.duplicates:  # producer duplicates the step recognised by their id
        counts["events.duplicates", stage.inputs[0].topic] += outcome.result.duplicates
    outcome.result.processed = (len(events.raws) + sum(tombstones.values())
                                - sum(poisoned.values()))
    return Computed(outcome, dead, counts)


def _read_whole(stage: Stage, raws: Sequence[Raw], decoders: Mapping[str, Decode],
                validators: Mapping[str, Input], lookup: Lookup, now_ms: int) -> Computed | None:
    """The batch through its input's ``read_batch`` and the step in one go, or None when it
    does not apply (several topics, a tombstone) or fails (the caller goes message by message)."""
    topic = raws[0].topic
    spec = validators[topic]
    if (spec.read_batch is None or spec.encoding != "avro"
            or any(r.topic != topic or r.value is None for r in raws)):
        return None
    try:
        batch = spec.read_batch(raws, decoders[topic])
        outcome = stage.step(Events(list(raws), [], batch), lookup, now_ms)
    except Unavailable:
        raise
    except Exception:  # a bad message or a failing step: isolated by the message-wise path
        return None
    counts: Counter[tuple[str, str]] = Counter()
    counts["events.consumed", spec.topic] = counts["events.processed", spec.topic] = len(raws)
    if outcome.result.duplicates:
        counts["events.duplicates", stage.inputs[0].topic] += outcome.result.duplicates
    outcome.result.processed = len(raws)
    return Computed(outcome, [], counts)


def _isolated(step: Step, events: Events, lookup: Lookup, now_ms: int,
              dead: list[DeadLetter], dlq_topic: Callable[[str], str]) -> Outcome:
    """``step`` over the batch; if it raises (anything but an unavailable dependency), over
    each event alone, the state carried forward, and the events it fails on dead-lettered."""
    try:
        return step(events, lookup, now_ms)
    except Unavailable:
        raise
    except Exception:  # isolate the event that fails, below
        pass
    out = Outcome()
    for raw, value in zip(events.raws, events.values, strict=True):
        try:
            one = step(Events([raw], [value]), overlay(lookup, out.changes), now_ms)
        except Unavailable:
            raise
        except Exception as exc:
            dead.append(poison(raw, exc, dlq_topic(raw.topic), now_ms))
            continue
        out.absorb(one)
    return out
