"""The position guard: holes are re-read, redeliveries skipped, real holes accepted."""

from __future__ import annotations

from collections.abc import Iterable

from agents.runtime.positions import PositionGuard

Event = tuple[str, int, int]


def where(e: Event) -> Event:
    return e


def present(_: str, __: int, offset: int) -> int | None:
    return offset  # every offset holds a message


def guard(seed: dict[int, int], first: object = present, clock: object = None) -> PositionGuard:
    def seeded(topic: str, partitions: Iterable[int]) -> dict[int, int]:
        return {p: seed.get(p, 0) for p in partitions}

    if clock is None:
        return PositionGuard(seeded, first)  # type: ignore[arg-type]
    return PositionGuard(seeded, first, reseek_seconds=5, clock=clock)  # type: ignore[arg-type]


def test_contiguous_offsets_are_admitted_from_the_seed() -> None:
    g = guard({0: 5})
    a = g.admit([("t", 0, 3), ("t", 0, 4), ("t", 0, 5), ("t", 0, 6), ("t", 1, 0)], where)
    assert a.admitted == [("t", 0, 5), ("t", 0, 6), ("t", 1, 0)]
    assert a.skipped == 2 and not a.rewind


def test_a_hole_rewinds_and_holds_back_the_rest_of_the_partition() -> None:
    g = guard({})
    a = g.admit([("t", 0, 0), ("t", 0, 1), ("t", 0, 5), ("t", 0, 6), ("t", 1, 0)], where)
    assert a.admitted == [("t", 0, 0), ("t", 0, 1), ("t", 1, 0)]
    assert a.rewind == {("t", 0): 2}
    # after the re-read the missing offsets come, then the rest
    b = g.admit([("t", 0, 2), ("t", 0, 3), ("t", 0, 4), ("t", 0, 5)], where)
    assert b.admitted == [("t", 0, 2), ("t", 0, 3), ("t", 0, 4), ("t", 0, 5)]


def test_a_hole_the_broker_confirms_is_accepted() -> None:
    g = guard({}, first=lambda t, p, o: 3)  # offsets 0..2 hold no messages (markers)
    a = g.admit([("t", 0, 3), ("t", 0, 4)], where)
    assert a.admitted == [("t", 0, 3), ("t", 0, 4)] and not a.rewind


def test_stale_events_after_a_rewind_are_held_and_the_seek_repeated_later() -> None:
    now = [100.0]
    g = guard({}, clock=lambda: now[0])
    assert g.admit([("t", 0, 3)], where).rewind == {("t", 0): 0}
    # buffered events past the hole still arrive: held, no new seek yet
    held = g.admit([("t", 0, 4), ("t", 0, 5)], where)
    assert held.admitted == [] and not held.rewind and held.held == {("t", 0)}
    now[0] += 6  # the re-read has not come: seek again
    assert g.admit([("t", 0, 6)], where).rewind == {("t", 0): 0}
    assert g.admit([("t", 0, 0), ("t", 0, 1)], where).admitted == [("t", 0, 0), ("t", 0, 1)]


def test_a_seek_whose_re_read_never_comes_is_repeated_by_the_periodic_check() -> None:
    now = [100.0]
    g = guard({}, clock=lambda: now[0])
    assert g.admit([("t", 0, 3), ("t", 1, 0)], where).rewind == {("t", 0): 0}
    assert g.overdue() == {}  # not yet
    now[0] += 6  # nothing at all arrived for partition 0
    assert g.overdue() == {("t", 0): 0}
    assert g.overdue() == {}  # counted as sought again just now
    now[0] += 6
    assert g.overdue() == {("t", 0): 0}
    # once the re-read arrives the partition is no longer waiting
    assert g.admit([("t", 0, 0)], where).admitted == [("t", 0, 0)]
    now[0] += 6
    assert g.overdue() == {}


def test_forget_reseeds() -> None:
    seeds = {0: 0}

    def seeded(topic: str, partitions: Iterable[int]) -> dict[int, int]:
        return {p: seeds[p] for p in partitions}

    g = PositionGuard(seeded, present)
    g.admit([("t", 0, 0)], where)
    seeds[0] = 10
    g.forget()
    assert g.admit([("t", 0, 9), ("t", 0, 10)], where).admitted == [("t", 0, 10)]
