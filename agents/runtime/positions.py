"""Per-partition position guard: no offset is skipped on the way to ClickHouse.

Faust tracks what it has handed to a stream, but messages fetched while a worker starts or
rebalances can be dropped before they reach the agent, and Faust then counts the hole as
done. The guard keeps, for every partition, the next offset that must be processed, seeded
from what ClickHouse already holds (the sink is the source of truth, not the committed
offset) or from the start of the log. An event past that offset means a hole: the partition
is sought back and the events after the hole wait for their turn. A hole is accepted only
when the broker confirms that no message exists at the missing offset (transaction markers,
compaction); until then events past it are held back, and the seek is repeated if the
re-read does not arrive. The consumer never seeks a partition past ``next_offset`` (see
``agents.runtime.transport``), so no other seek can undo the guard's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]
#: next offsets, and the last seek per partition (offset, when)
Positions = tuple[dict[TopicPartition, int], dict[TopicPartition, tuple[int, float]]]


@dataclass
class Admission:
    admitted: list[Any] = field(default_factory=list)
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
        reseek_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``seed(topic, partitions)`` gives the next offset to process per partition;
        ``first_offset_from(topic, partition, offset)`` the offset of the first message the
        broker has at or after ``offset`` (None: none yet)."""
        self._seed = seed
        self._first_offset_from = first_offset_from
        self._reseek_seconds = reseek_seconds
        self._clock = clock
        self._next: dict[TopicPartition, int] = {}
        self._rewound_at: dict[TopicPartition, tuple[int, float]] = {}

    def snapshot(self) -> Positions:
        """Where every partition stands now, to ``restore`` when a step that admitted events
        is computed again (it raised ``Unavailable``)."""
        return dict(self._next), dict(self._rewound_at)

    def restore(self, saved: Positions) -> None:
        self._next, self._rewound_at = dict(saved[0]), dict(saved[1])

    def next_offset(self, topic: str, partition: int) -> int | None:
        """The next offset the partition needs (None: not seeded since the last
        assignment). No seek may move the partition past it: what lies before it is
        processed, what lies after it is not yet."""
        return self._next.get((topic, partition))

    def forget(self) -> None:
        """Drop all positions (after a rebalance they are seeded again)."""
        self._next.clear()
        self._rewound_at.clear()

    def overdue(self) -> dict[TopicPartition, int]:
        """Partitions whose re-read has not arrived within ``reseek_seconds`` of the last
        seek, with the offset to seek to again (the seek is then counted as repeated).
        Called periodically: a partition that receives nothing at all after its seek would
        otherwise never be looked at again."""
        now = self._clock()
        out: dict[TopicPartition, int] = {}
        for tp, (expected, at) in self._rewound_at.items():
            if now - at > self._reseek_seconds and self._next.get(tp) == expected:
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
            if tp in out.rewind or tp in out.held:
                out.skipped += 1
                continue
            expected = self._next[tp]
            if offset < expected:
                out.skipped += 1
                continue
            if offset > expected:
                first = self._first_offset_from(topic, partition, expected)
                if first is not None and first >= offset:
                    log.warning("%s[%d]: offsets %d..%d hold no messages; moving on",
                                topic, partition, expected, offset - 1)
                else:
                    out.skipped += 1
                    last = self._rewound_at.get(tp)
                    now = self._clock()
                    if last is None or last[0] != expected or now - last[1] > self._reseek_seconds:
                        log.warning("%s[%d]: got offset %d while %d is next; re-reading from %d",
                                    topic, partition, offset, expected, expected)
                        self._rewound_at[tp] = (expected, now)
                        out.rewind[tp] = expected
                    else:
                        out.held.add(tp)
                    continue
            self._next[tp] = offset + 1
            self._rewound_at.pop(tp, None)
            out.admitted.append(event)
        return out
