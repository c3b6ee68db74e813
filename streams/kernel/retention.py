"""Which conversations a worker may forget.

The worker's tables (the conversation rollup and the conversation-intelligence record) would
otherwise keep every conversation ever seen: memory and the timer's scan would grow with
history. A conversation that is closed and has been silent for the retention period leaves
them (its rows in ClickHouse stay). One entry per partition is always kept: the one holding
the partition's highest offset, because after a restart the position guard reads where a
partition's state stands from the highest offset its entries hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    partition: int
    offset: int  # of the last event the entry absorbed
    last_event_at: int  # epoch ms
    closed: bool


def expired(entries: Iterable[Entry], now_ms: int, retain_ms: int) -> list[Entry]:
    """The entries to forget: closed, silent for ``retain_ms``, and not holding their
    partition's highest offset."""
    entries = list(entries)
    top: dict[int, int] = {}
    for e in entries:
        if e.offset > top.get(e.partition, -1):
            top[e.partition] = e.offset
    return [e for e in entries
            if e.closed and now_ms - e.last_event_at >= retain_ms and e.offset != top[e.partition]]


__all__ = ["Entry", "expired"]
