"""The position guard: holes are re-read, redeliveries skipped, real holes accepted."""

from __future__ import annotations

from collections.abc import Iterable

from agents.positions import PositionGuard

Event = tuple[str, int, int]


def where(e: Event) -> Event:
    return e


def guard(seed: dict[int, int]) -> PositionGuard:
    def seeded(topic: str, partitions: Iterable[int]) -> dict[int, int]:
        return {p: seed.get(p, 0) for p in partitions}

    return PositionGuard(seeded)


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


def test_a_hole_seen_again_after_a_reread_is_real() -> None:
    g = guard({})
    assert g.admit([("t", 0, 3)], where).rewind == {("t", 0): 0}
    again = g.admit([("t", 0, 3), ("t", 0, 4)], where)
    assert again.admitted == [("t", 0, 3), ("t", 0, 4)] and not again.rewind


def test_forget_reseeds() -> None:
    seeds = {0: 0}

    def seeded(topic: str, partitions: Iterable[int]) -> dict[int, int]:
        return {p: seeds[p] for p in partitions}

    g = PositionGuard(seeded)
    g.admit([("t", 0, 0)], where)
    seeds[0] = 10
    g.forget()
    assert g.admit([("t", 0, 9), ("t", 0, 10)], where).admitted == [("t", 0, 10)]
