"""Per-partition position guard: no offset is skipped on the way to ClickHouse.

Faust tracks what it has handed to a stream, but messages fetched while a worker starts or
rebalances can be dropped before they reach the agent, and Faust then counts the hole as
done. The guard keeps, for every partition, the next offset that must be processed, seeded
from what ClickHouse already holds (the sink is the source of truth, not the committed
offset) or from the start of the log. An event past that offset means a hole: the partition
is sought back and the events after the hole wait for their turn. A hole seen again at the
same place after a re-read is a real one (transaction markers, compaction) and is accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]


@dataclass
class Admission:
    admitted: list[Any] = field(default_factory=list)
    #: partition -> offset to seek back to
    rewind: dict[TopicPartition, int] = field(default_factory=dict)
    skipped: int = 0  # already sunk (redelivered) or held back behind a hole


class PositionGuard:
    def __init__(self, seed: Callable[[str, Iterable[int]], Mapping[int, int]]) -> None:
        """``seed(topic, partitions)`` gives the next offset to process per partition."""
        self._seed = seed
        self._next: dict[TopicPartition, int] = {}
        self._rewound_to: dict[TopicPartition, int] = {}

    def forget(self) -> None:
        """Drop all positions (after a rebalance they are seeded again)."""
        self._next.clear()
        self._rewound_to.clear()

    def admit(self, events: list[Any], where: Callable[[Any], tuple[str, int, int]]
              ) -> Admission:
        out = Admission()
        unseeded: dict[str, set[int]] = {}
        for event in events:
            topic, partition, _ = where(event)
            if (topic, partition) not in self._next:
                unseeded.setdefault(topic, set()).add(partition)
        for topic, partitions in unseeded.items():
            for partition, offset in self._seed(topic, sorted(partitions)).items():
                self._next[(topic, partition)] = offset
        for event in events:
            topic, partition, offset = where(event)
            tp = (topic, partition)
            if tp in out.rewind:
                out.skipped += 1
                continue
            expected = self._next[tp]
            if offset < expected:
                out.skipped += 1
                continue
            if offset > expected:
                if self._rewound_to.get(tp) == expected:
                    log.warning("%s[%d]: offsets %d..%d are not in the log; moving on",
                                topic, partition, expected, offset - 1)
                else:
                    log.warning("%s[%d]: got offset %d while %d is next; re-reading from %d",
                                topic, partition, offset, expected, expected)
                    self._rewound_to[tp] = expected
                    out.rewind[tp] = expected
                    out.skipped += 1
                    continue
            self._next[tp] = offset + 1
            self._rewound_to.pop(tp, None)
            out.admitted.append(event)
        return out
