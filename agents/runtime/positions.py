"""Per-partition position guard: no offset is skipped on the way to ClickHouse.

Faust tracks what it has handed to a stream, but messages fetched while a worker starts or
rebalances can be dropped before they reach the agent, and Faust then counts the hole as
done. The guard keeps, for every partition, the next offset that must be processed, seeded
on every assignment (``resume_at``). An event past that offset means a hole: the partition
is sought back and the events after the hole wait for their turn (``Admission.refused``:
they are not processed, so their offsets must not be committed either). A hole is accepted
only when the broker confirms that no message exists at the missing offset (transaction
markers, compaction); until then events past it are held back, and the seek is repeated if
the re-read does not arrive: not when records past the hole keep coming (records fetched
before the seek, still on their way through the consumer's buffers, say nothing about it),
only when the consumer has not fetched the re-read (``arrived``). Seeking again while the
re-read waits behind a backlog would throw the fetched re-read away and fetch it again,
behind an ever longer backlog: the partition stalled until it moved to another worker.
The re-read is admitted as soon as it comes, also when records past the hole precede it in
the same step (the re-read follows them through the buffers, and a step often takes both:
skipping it there threw every re-read away, each seek again brought it behind more records
past the hole, and the partition stalled until it moved to another worker).
A re-read that makes no progress at all for ``stall_seconds`` (``stalled``: asked for and
not one event of it admitted since, whatever the consumer says has arrived) is the stall this
guard exists to prevent; the runtime's watchdog then puts the partition back into the fetch
and seeks it again (``agents.runtime.core``), so no partition waits for the next rebalance.
The consumer never seeks a partition past ``next_offset`` and never commits past what was
made durable (see ``agents.runtime.transport``), so no other seek can undo the guard's and
a committed offset is a promise that everything before it is in some store.

Where a partition resumes (``resume_at``). Nothing lost is the first rule, nothing doubled
the second. Four positions are known when a partition is assigned, each a lower bound of
what is done, each for its own reason:

- ``sunk``: the next offset this worker's store needs. Every row below it is in a store
  (this one, or, for offsets another worker held meanwhile, that worker's): a worker sinks a
  partition only from a sound start, contiguously, and writes in order.
- ``committed``: the group's committed offset. An offset is committed only after the write
  of its batch returned (rows, dead letters, outputs and table changelogs), so everything
  below it is in the store of the worker that committed it and in the changelogs.
- ``state``: the offset after the last event the stage's positioned tables absorbed, as
  restored from their changelogs. A changelog record is published after its batch's rows
  were sunk, in offset order, so every event below it is in the state and in a store.
- ``log_start``: nothing before it can be read any more.

A stateless stage that publishes nothing resumes at the highest of them. One that publishes
records (outputs, re-keyed events for the next stage) cannot take its store's word: its rows are
written before its records, so a worker killed between the two (or, with the pipelined write,
between a write's publish and the next write's insert) has rows whose records never went out;
it resumes at the highest of ``committed`` and ``log_start`` and writes those rows again (the
ReplacingMergeTree absorbs them) and their records (at least once: consumers dedup by event
id); only when the group has committed nothing for the partition (a new group, or its
offsets expired on an idle topic) does its store decide, rather than the whole log being
published again. A stage with positioned tables needs its
state to hold every event before the resume point, which ``sunk`` does not promise (a
worker killed between its insert and its changelog has rows its changelog lacks): it
resumes at the highest of ``state``, ``committed`` and ``log_start``, and its own store is
the authority only for stateless stages that publish nothing (or before any commit). Hence:

- a graceful handover resumes exactly where the leaver stopped: on a rebalance Faust waits
  for the batches in flight, which are acknowledged (and then committed) only after their
  changelogs are published, so nothing is doubled across the two stores, even when each
  worker has a store of its own (a write cut short by a stop counts as below);
- after a SIGKILL the leaver's committed offset and changelog may lag its sink by the
  batches it was writing: the taker reads those again (their rows then also land in its
  store, with the same values) and nothing is lost. Both may only lag, never lead: neither
  is written before the sink has the rows;
- a worker that crashes and restarts on its own store re-reads from its state, and the
  ReplacingMergeTree absorbs the rows it writes again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]
#: next offsets, the last seek per partition (offset, when), and since when a re-read has
#: been waited for without progress (offset, since)
Positions = tuple[dict[TopicPartition, int], dict[TopicPartition, tuple[int, float]],
                  dict[TopicPartition, tuple[int, float]]]


def resume_at(*, log_start: int, sunk: int, committed: int | None = None,
              state: int | None = None, publishes: bool = False) -> int:
    """The offset a partition resumes at (module docstring): ``state`` is None for a stage
    without positioned tables, ``committed`` None when the group has committed nothing;
    ``publishes``: a stateless stage whose writes publish records (its store is no authority)."""
    done = max(log_start, committed or 0)
    if state is not None:
        return max(done, state)
    return done if publishes and committed is not None else max(done, sunk)


@dataclass
class Admission:
    admitted: list[Any] = field(default_factory=list)
    #: events at or past their partition's next offset that were not admitted (held back
    #: behind a hole): not processed, so their offsets must not be committed
    refused: list[Any] = field(default_factory=list)
    #: partition -> offset to seek back to
    rewind: dict[TopicPartition, int] = field(default_factory=dict)
    #: partitions waiting for a re-read already asked for
    held: set[TopicPartition] = field(default_factory=set)
    skipped: int = 0  # already sunk (redelivered) or held back behind a hole


class PositionGuard:
    def __init__(
        self,
        seed: Callable[[str, Iterable[int]], Mapping[int, int]],
        first_offset_from: Callable[[str, int, int], int | None],
        *,
        arrived: Callable[[str, int, int], bool] = lambda topic, partition, offset: False,
        reseek_seconds: float = 5.0,
        stall_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``seed(topic, partitions)`` gives the next offset to process per partition;
        ``first_offset_from(topic, partition, offset)`` the offset of the first message the
        broker has at or after ``offset`` (None: none yet); ``arrived(topic, partition,
        offset)`` whether the consumer has fetched the re-read from ``offset`` since its last
        seek there (it is then on its way: no new seek); a re-read without progress for
        ``stall_seconds`` is ``stalled``."""
        self._seed = seed
        self._first_offset_from = first_offset_from
        self._arrived = arrived
        self._reseek_seconds = reseek_seconds
        self._stall_seconds = stall_seconds
        self._clock = clock
        self._next: dict[TopicPartition, int] = {}
        self._rewound_at: dict[TopicPartition, tuple[int, float]] = {}
        self._waiting: dict[TopicPartition, tuple[int, float]] = {}

    def snapshot(self) -> Positions:
        """Where every partition stands now, to ``restore`` when a step that admitted events
        is computed again (it raised ``Unavailable``)."""
        return dict(self._next), dict(self._rewound_at), dict(self._waiting)

    def restore(self, saved: Positions) -> None:
        self._next, self._rewound_at, self._waiting = (dict(saved[0]), dict(saved[1]),
                                                       dict(saved[2]))

    def next_offset(self, topic: str, partition: int) -> int | None:
        """The next offset the partition needs (None: not seeded since the last
        assignment). No seek may move the partition past it: what lies before it is
        processed, what lies after it is not yet."""
        return self._next.get((topic, partition))

    def forget(self) -> None:
        """Drop all positions (after a rebalance they are seeded again)."""
        self._next.clear()
        self._rewound_at.clear()
        self._waiting.clear()

    def stalled(self) -> dict[TopicPartition, int]:
        """Partitions whose re-read has made no progress for ``stall_seconds`` since it was
        first asked for (or since they were last reported here), with the offset to read
        from. Unlike ``overdue`` it does not trust the consumer's word that the re-read has
        arrived: not one event of it admitted is what counts."""
        now = self._clock()
        out = {tp: expected for tp, (expected, since) in self._waiting.items()
               if now - since >= self._stall_seconds and self._next.get(tp) == expected}
        for tp, expected in out.items():
            self._waiting[tp] = (expected, now)
        return out

    def overdue(self) -> dict[TopicPartition, int]:
        """Partitions whose re-read has not arrived within ``reseek_seconds`` of the last
        seek, with the offset to seek to again (the seek is then counted as repeated).
        Called periodically: a partition that receives nothing at all after its seek would
        otherwise never be looked at again."""
        now = self._clock()
        out: dict[TopicPartition, int] = {}
        for tp, (expected, at) in self._rewound_at.items():
            if (now - at > self._reseek_seconds and self._next.get(tp) == expected
                    and not self._arrived(*tp, expected)):
                out[tp] = expected
        for tp, expected in out.items():
            self._rewound_at[tp] = (expected, now)
        return out

    def admit(self, events: list[Any], where: Callable[[Any], tuple[str, int, int]]
              ) -> Admission:
        out = Admission()
        located = [where(event) for event in events]
        unseeded: dict[str, set[int]] = {}
        for topic, partition, _ in located:
            if (topic, partition) not in self._next:
                unseeded.setdefault(topic, set()).add(partition)
        for topic, partitions in unseeded.items():
            for partition, offset in self._seed(topic, sorted(partitions)).items():
                self._next[(topic, partition)] = offset
        for event, (topic, partition, offset) in zip(events, located, strict=True):
            tp = (topic, partition)
            expected = self._next[tp]
            if offset < expected:
                out.skipped += 1
                continue
            if offset > expected and (tp in out.rewind or tp in out.held):
                # behind a hole already found in this batch: no new seek, no broker call
                out.skipped += 1
                out.refused.append(event)
                continue
            if offset > expected:
                first = self._first_offset_from(topic, partition, expected)
                if first is not None and first >= offset:
                    log.warning("%s[%d]: offsets %d..%d hold no messages; moving on",
                                topic, partition, expected, offset - 1)
                else:
                    out.skipped += 1
                    out.refused.append(event)
                    last = self._rewound_at.get(tp)
                    now = self._clock()
                    if last is None or last[0] != expected or (
                            now - last[1] > self._reseek_seconds
                            and not self._arrived(topic, partition, expected)):
                        log.warning("%s[%d]: got offset %d while %d is next; re-reading from %d",
                                    topic, partition, offset, expected, expected)
                        self._rewound_at[tp] = (expected, now)
                        if self._waiting.get(tp, (None, 0.0))[0] != expected:
                            self._waiting[tp] = (expected, now)
                        out.rewind[tp] = expected
                    else:
                        out.held.add(tp)
                    continue
            # the next offset, even after records past a hole in this same batch: the re-read
            # follows the records fetched before its seek, and a step often takes both
            self._next[tp] = offset + 1
            self._rewound_at.pop(tp, None)
            if self._waiting:
                self._waiting.pop(tp, None)
            out.rewind.pop(tp, None)
            out.held.discard(tp)
            out.admitted.append(event)
        return out
