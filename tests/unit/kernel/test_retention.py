"""Which conversations a worker forgets."""

from __future__ import annotations

from streams.kernel.retention import Entry, expired

HOUR = 3_600_000


def test_closed_and_silent_conversations_are_forgotten_but_each_partitions_newest_stays() -> None:
    now = 100 * HOUR
    entries = [
        Entry("old-closed", 0, offset=5, last_event_at=now - 50 * HOUR, closed=True),
        Entry("old-open", 0, offset=6, last_event_at=now - 50 * HOUR, closed=False),
        Entry("recent-closed", 0, offset=7, last_event_at=now - HOUR, closed=True),
        Entry("newest-of-1", 1, offset=9, last_event_at=now - 60 * HOUR, closed=True),
        Entry("older-of-1", 1, offset=3, last_event_at=now - 70 * HOUR, closed=True),
        Entry("newest-of-0", 0, offset=8, last_event_at=now - 40 * HOUR, closed=True),
    ]
    gone = {e.key for e in expired(entries, now, retain_ms=24 * HOUR)}
    assert gone == {"old-closed", "older-of-1"}


def test_exactly_at_the_retention_period_is_old_enough() -> None:
    entries = [Entry("a", 0, 1, last_event_at=0, closed=True), Entry("b", 0, 2, 10, False)]
    assert [e.key for e in expired(entries, now_ms=24, retain_ms=24)] == ["a"]
    assert expired(entries, now_ms=23, retain_ms=24) == []
