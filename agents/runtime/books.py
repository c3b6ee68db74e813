"""What a Faust consumer's books say about its partitions, read only: the group's committed
offsets (a position guard's seed), where the fetcher stands on a partition (logged with a
re-read that does not arrive and by the watchdog) and each partition's highwater, committed
offset and position (``/metrics``).

Like ``agents.runtime.transport`` it reads Faust's and aiokafka's private members, which
``tests/unit/runtime/test_faust_internals.py`` pins; it never changes them, and answers
what it can when the consumer has not started or is between assignments.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from faust.types import TP


def committed_offsets(consumer: Any, topic: str, partitions: Iterable[int]) -> dict[int, int]:
    """The group's committed offsets of ``partitions`` as the consumer last read or wrote
    them (read at every assignment, before records flow); absent: none known."""
    books = getattr(consumer, "_committed_offset", {})
    out: dict[int, int] = {}
    for p in partitions:
        offset = books.get(TP(topic, p))
        if isinstance(offset, int) and offset > 0:
            out[p] = offset
    return out


def fetch_state(consumer: Any, tp: TP) -> dict[str, Any]:
    """Where the fetcher of a Faust consumer stands on ``tp``, for the log of a re-read that
    does not arrive: its position, paused (by aiokafka, by Faust, by a full buffer), and
    whether fetched records of it wait in the fetcher."""
    out: dict[str, Any] = {}
    try:
        inner = consumer._thread._consumer
        state = inner._fetcher._subscriptions.subscription.assignment.state_value(tp)
        out["position"] = state._position
        out["fetcher_paused"] = state.paused
        out["prefetched"] = tp in inner._fetcher._records
    except Exception as exc:  # not started, or between assignments
        out["fetcher"] = repr(exc)
    active = getattr(consumer, "_active_partitions", None)
    out["active"] = None if active is None else tp in active
    out["paused"] = tp in getattr(consumer, "_paused_partitions", ())
    out["buffer_full"] = tp in getattr(consumer, "_buffered_partitions", ())
    out["flow_active"] = getattr(consumer, "flow_active", None)
    return out


def consumer_books(consumer: Any) -> tuple[tuple[str, int, int | None, int | None, int | None],
                                           ...]:
    """(topic, partition, highwater, committed, position) of each partition assigned to a
    Faust consumer; () before it has started. ``highwater`` is the fetcher's last-seen log end;
    the committed and read offsets are the Faust consumer's own books (read only; a read offset
    is the last offset read, so the position is one past it)."""
    try:
        assignment = consumer.assignment()
    except Exception:  # not started, or between assignments
        return ()
    committed = getattr(consumer, "_committed_offset", {})
    read = getattr(consumer, "_read_offset", {})
    out = []
    for tp in assignment:
        try:
            highwater = consumer.highwater(tp)
        except Exception:
            highwater = None
        last_read = read.get(tp)
        out.append((tp.topic, tp.partition,
                    int(highwater) if isinstance(highwater, int) and highwater >= 0 else None,
                    committed.get(tp), None if last_read is None else int(last_read) + 1))
    return tuple(out)
