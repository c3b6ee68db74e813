"""The position guard: holes are re-read, redeliveries skipped, real holes accepted."""

from __future__ import annotations

from collections.abc import Iterable

from agents.runtime.positions import PositionGuard, resume_at

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


def test_the_events_a_guard_holds_back_are_refused_and_redeliveries_are_not() -> None:
    g = guard({0: 5})
    a = g.admit([("t", 0, 4), ("t", 0, 7), ("t", 0, 8), ("t", 0, 3), ("t", 1, 0)], where)
    assert a.admitted == [("t", 1, 0)]
    assert a.refused == [("t", 0, 7), ("t", 0, 8)]  # past the hole at 5: not processed
    assert a.skipped == 4  # 4 and 3 were processed before: not refused


def test_a_graceful_takeover_resumes_where_the_state_says_the_leaver_stopped() -> None:
    # the taker's own store never held the partition; the changelog-restored state and the
    # leaver's last commit say it got to 1500
    assert resume_at(log_start=0, sunk=0, committed=1500, state=1500) == 1500
    # the commit on revocation may lag the last changelog record, or lead it when the last
    # events changed no state
    assert resume_at(log_start=0, sunk=0, committed=1400, state=1500) == 1500
    assert resume_at(log_start=0, sunk=0, committed=1500, state=1490) == 1500


def test_a_stateful_stage_resumes_where_its_state_is_even_when_its_store_is_ahead() -> None:
    # killed between its insert and its changelog: the rows of 900..999 are in the store,
    # their changes are not in the state; they are folded again (the store dedups the rows)
    assert resume_at(log_start=0, sunk=1000, committed=850, state=900) == 900


def test_a_stateless_stage_resumes_at_the_furthest_of_its_store_and_the_commit() -> None:
    assert resume_at(log_start=0, sunk=1000, committed=850) == 1000
    assert resume_at(log_start=0, sunk=0, committed=850) == 850  # another worker's store
    assert resume_at(log_start=0, sunk=40, committed=None) == 40


def test_a_stateless_stage_that_publishes_resumes_at_the_commit_not_at_its_store() -> None:
    # killed after the insert of 850..999 and before their records were published: the store
    # says 1000, but only the commit says what went out; 850.. is read again
    assert resume_at(log_start=0, sunk=1000, committed=850, publishes=True) == 850
    # no commit at all (a new group, or offsets expired on an idle topic): the store decides,
    # rather than the whole log being published again
    assert resume_at(log_start=0, sunk=1000, committed=None, publishes=True) == 1000
    assert resume_at(log_start=300, sunk=100, committed=None, publishes=True) == 300
    # the state decides for a stage with positioned tables, publishing or not
    assert resume_at(log_start=0, sunk=1000, committed=850, state=900, publishes=True) == 900


def test_nothing_resumes_before_the_log_start() -> None:
    assert resume_at(log_start=300, sunk=0, committed=None, state=0) == 300
    assert resume_at(log_start=300, sunk=100) == 300


def test_after_a_sigkill_the_taker_never_resumes_past_the_leavers_sink() -> None:
    # the leaver sank up to 2000; its commit and changelog lag (they are written after the
    # sink): the taker reads 1800.. again rather than skipping anything
    leaver_sunk = 2000
    for committed, state in ((1700, 1800), (1800, 1800), (None, 1900), (1990, 0)):
        at = resume_at(log_start=0, sunk=0, committed=committed, state=state)
        assert at <= leaver_sunk
        assert at == max(committed or 0, state)


def test_a_re_read_already_fetched_is_waited_for_not_sought_again() -> None:
    """Records past the hole fetched before the seek keep coming out of the buffers; once the
    consumer has fetched the re-read, seeking again would throw it away and fetch it again
    behind an ever longer backlog (the stall after a rebalance)."""
    now = [100.0]
    fetched = {"yes": False}

    def arrived(topic: str, partition: int, offset: int) -> bool:
        return fetched["yes"] and offset == 0

    g = PositionGuard(lambda topic, ps: {p: 0 for p in ps}, present, arrived=arrived,
                      reseek_seconds=5, clock=lambda: now[0])
    assert g.admit([("t", 0, 4492)], where).rewind == {("t", 0): 0}
    fetched["yes"] = True  # the re-read from 0 is in the buffer, behind stale records
    now[0] += 6
    late = g.admit([("t", 0, 4493), ("t", 0, 4494)], where)
    assert not late.rewind and late.held == {("t", 0)} and len(late.refused) == 2
    assert g.overdue() == {}
    assert g.admit([("t", 0, 0)], where).admitted == [("t", 0, 0)]


def test_a_re_read_not_fetched_is_sought_again() -> None:
    now = [100.0]
    g = PositionGuard(lambda topic, ps: {p: 0 for p in ps}, present,
                      arrived=lambda t, p, o: False, reseek_seconds=5, clock=lambda: now[0])
    assert g.admit([("t", 0, 4492)], where).rewind == {("t", 0): 0}
    now[0] += 6
    assert g.admit([("t", 0, 4600)], where).rewind == {("t", 0): 0}


def test_the_re_read_is_admitted_when_records_past_the_hole_precede_it_in_a_step() -> None:
    """The stall after a rebalance: records fetched before the seek back sit in the buffer
    ahead of the re-read, and a step takes both. Skipping the partition for the rest of the
    step once it was held threw the re-read away every time."""
    now = [100.0]
    g = guard({0: 100}, clock=lambda: now[0])
    assert g.admit([("t", 0, 4492)], where).rewind == {("t", 0): 100}
    now[0] += 1  # the seek executed; the step takes the rest of the stale records, then the re-read
    step = g.admit([("t", 0, 4493), ("t", 0, 4494), ("t", 0, 100), ("t", 0, 101),
                    ("t", 0, 4495), ("t", 0, 102)], where)
    assert step.admitted == [("t", 0, 100), ("t", 0, 101), ("t", 0, 102)]
    assert step.refused == [("t", 0, 4493), ("t", 0, 4494), ("t", 0, 4495)]
    assert not step.rewind and not step.held
    assert g.next_offset("t", 0) == 103


def test_a_rewind_decided_earlier_in_the_step_is_dropped_once_the_next_offset_comes() -> None:
    g = guard({0: 100})
    step = g.admit([("t", 0, 4492), ("t", 0, 100), ("t", 0, 101)], where)
    assert step.admitted == [("t", 0, 100), ("t", 0, 101)]
    assert not step.rewind  # no seek back: what it would bring is here
