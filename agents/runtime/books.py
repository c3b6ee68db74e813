"""What a Faust consumer's books say about its partitions, read only: the group's committed
offsets (a position guard's seed), where the fetcher stands on a partition (logged with a
re-read that does not arrive and by the watchdog) and each partition's highwater, committed
offset and position (``/metrics``).

Like ``agents.runtime.transport`` it reads Faust's and aiokafka's private members, which
``tests/unit/runtime/test_faust_internals.py`` pins; it never changes them, and answers
what it can when the consumer has not started or is between assignments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from faust.types import TP


def committed_offsets(consumer: Any, topic: str, partitions: Iterable[int],
                      on_broker: Mapping[int, int] | None = None) -> dict[int, int]:
    """The group's committed offsets of ``partitions``: the higher of what the consumer last
    read or wrote in its books and what the broker holds (``on_broker``); absent: none known.
    Right after an assignment the books can lack a partition the group has committed (Faust
    drops a revoked partition's entry and reads it back only when it seeks, and records of a
    partition kept through the rebalance may arrive before that), so the books alone would
    send it back to its log start. Both are lower bounds of what is done: an offset is
    committed only after its batch was made durable."""
    books = getattr(consumer, "_committed_offset", {})
    broker = on_broker or {}
    out: dict[int, int] = {}
    for p in partitions:
        offset = books.get(TP(topic, p))
        best = max(offset if isinstance(offset, int) else 0, broker.get(p, 0))
        if best > 0:
            out[p] = best
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
