"""The group commit's write size under live traffic: as many events as the last writes show
fit in the write interval, never fewer than ``min_events``, ``max_events`` while behind; the
parts are written whole, once each and in order whatever the size."""

from __future__ import annotations

import asyncio

from agents.runtime.batching import Durable, GroupCommit, write_cost
from tests.unit.runtime.test_batching import part

SECONDS_PER_EVENT = 0.001  # a write here costs a millisecond an event


def slow_commit(sizes: list[int], written: list[int], **options: float) -> GroupCommit:
    async def write(merged: Durable) -> None:
        events = len(merged.inserts["t"]["n"]) * 10  # every part below is 10 events
        sizes.append(events)
        written.extend(merged.inserts["t"]["n"])
        await asyncio.sleep(events * SECONDS_PER_EVENT)

    return GroupCommit(write, max_events=400, interval=0.05, interval_behind=1.0,
                       min_events=20, **options)  # type: ignore[arg-type]


def test_live_writes_hold_about_an_intervals_worth_and_every_part_in_order() -> None:
    async def main() -> None:
        sizes: list[int] = []
        written: list[int] = []
        commit = slow_commit(sizes, written)
        assert commit.write_events() == 400  # no write yet: no estimate
        futures = [commit.submit(part(n), 10) for n in range(60)]
        await asyncio.gather(*futures)
        # the first write, without an estimate, takes max_events; then 0.05 s at 1 ms an
        # event: about 50 events a write
        assert 45 <= commit.write_events() <= 55
        assert sizes[0] == 400 and len(sizes) > 3 and max(sizes[1:]) <= 50
        assert written == list(range(60))  # whole parts, once each, in order

    asyncio.run(main())


def test_behind_a_write_takes_max_events_and_never_fewer_than_min_events() -> None:
    async def main() -> None:
        sizes: list[int] = []
        written: list[int] = []
        commit = slow_commit(sizes, written)
        lag = [0.0]
        commit.lag = lambda: lag[0]
        await asyncio.gather(*(commit.submit(part(n), 10) for n in range(30)))
        assert commit.write_events() < 100
        lag[0] = 2.0  # the oldest waiting event has waited past interval_behind: behind
        assert commit.write_events() == 400
        lag[0] = 0.0
        slower = slow_commit([], [])
        slower._observe(1.0, 100)  # 10 ms an event: 5 events an interval, but at least 20
        assert slower.write_events() == 20

    asyncio.run(main())


def test_the_fixed_cost_of_a_write_is_told_from_its_cost_an_event() -> None:
    # 20 ms a write and 1 ms an event: 30 events fit in 50 ms
    writes = [(n, 0.020 + 0.001 * n) for n in (10, 40, 25, 60)]
    fixed, per_event = write_cost(writes) or (0.0, 0.0)
    assert abs(fixed - 0.020) < 1e-9 and abs(per_event - 0.001) < 1e-9
    commit = slow_commit([], [])
    for n, seconds in writes:
        commit._observe(seconds, n)
    assert commit.write_events() == 30
    same_size = [(50, 0.07), (50, 0.07)]  # no spread of sizes: the time an event
    assert write_cost(same_size) == (0.0, 0.07 / 50)
    for _ in range(40):  # a fixed cost beyond the interval: the largest writes
        commit._observe(0.08 + 0.0001 * len(commit._costs), 10 + len(commit._costs))
    assert commit.write_events() == 400
    assert write_cost([]) is None
