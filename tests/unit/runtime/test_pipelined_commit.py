"""The pipelined group commit: a write's insert overlaps the previous write's publish, and a
part is durable (its messages acknowledged) only once its rows and its records are."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from agents.runtime.batching import Durable, GroupCommit, PipelinedCommit
from streams.io.publisher import Outgoing
from streams.kernel.records import OutputRecord


def part(n: int) -> Durable:
    return Durable(rewind={("t", 0): n}, inserts={"rows": {"n": [n]}},
                   outputs=[OutputRecord("out", str(n), {"n": n})],
                   changelog=[Outgoing("log", str(n).encode(), b"v", None, 0)],
                   counts=Counter({("batches", "t"): 1}))


class Halves:
    """Fake halves of a write that log what they were given; ``gates`` hold a publish."""

    def __init__(self) -> None:
        self.log: list[tuple[str, list[int]]] = []
        self.gates: dict[int, asyncio.Event] = {}
        self.seen: list[Durable] = []

    async def rows(self, merged: Durable) -> None:
        self.seen.append(merged)
        self.log.append(("rows", list(merged.inserts.get("rows", {}).get("n", []))))
        await asyncio.sleep(0)

    async def publish(self, merged: Durable) -> None:
        self.seen.append(merged)
        numbers = [int(r.key) for r in merged.outputs]
        self.log.append(("publish", numbers))
        for n in numbers:
            if n in self.gates:
                await self.gates[n].wait()


def commit_of(halves: Halves) -> PipelinedCommit:
    return PipelinedCommit(halves.rows, GroupCommit(halves.publish, max_events=1),
                           max_events=1)


def test_the_next_insert_runs_while_a_publish_is_under_way_and_acks_stay_in_order() -> None:
    async def main() -> None:
        halves = Halves()
        halves.gates[1] = asyncio.Event()
        commit = commit_of(halves)
        first, second = commit.submit(part(1), 1), commit.submit(part(2), 1)
        for _ in range(20):
            await asyncio.sleep(0)
        # the first publish is held: the second part's rows went in meanwhile ...
        assert sorted(halves.log) == [("publish", [1]), ("rows", [1]), ("rows", [2])]
        assert halves.log[0] == ("rows", [1])  # a part is published after its rows
        # ... but neither part is durable: the first is not published, the second waits
        # behind it (offsets are committed in order)
        assert not first.done() and not second.done()
        halves.gates[1].set()
        await asyncio.wait_for(second, 1.0)
        assert first.done() and first.result() is None
        assert halves.log[-1] == ("publish", [2])

    asyncio.run(main())


def test_each_half_gets_its_own_part_of_a_step() -> None:
    async def main() -> None:
        halves = Halves()
        await asyncio.wait_for(commit_of(halves).submit(part(7), 1), 1.0)
        rows, published = halves.seen
        assert rows.rewind == {("t", 0): 7} and rows.inserts == {"rows": {"n": [7]}}
        assert not rows.outputs and not rows.changelog and not rows.counts
        assert [r.key for r in published.outputs] == ["7"]
        assert [c.key for c in published.changelog] == [b"7"]
        assert published.counts == Counter({("batches", "t"): 1})
        assert not published.inserts and not published.rewind and not published.dead

    asyncio.run(main())


def test_a_part_whose_rows_failed_is_never_published_nor_is_any_later_one() -> None:
    async def main() -> None:
        halves = Halves()

        async def rows(merged: Durable) -> None:
            if merged.inserts["rows"]["n"] == [2]:
                raise RuntimeError("insert refused")
            await halves.rows(merged)

        commit = PipelinedCommit(rows, GroupCommit(halves.publish, max_events=1),
                                 max_events=1)
        done = [commit.submit(part(n), 1) for n in (1, 2, 3)]
        await asyncio.wait(done, timeout=1.0)
        assert done[0].result() is None
        for later in done[1:]:
            with pytest.raises(RuntimeError, match="insert refused"):
                later.result()
        assert [numbers for kind, numbers in halves.log if kind == "publish"] == [[1]]

    asyncio.run(main())


def test_a_failed_publish_fails_its_part_and_every_later_one() -> None:
    async def main() -> None:
        halves = Halves()

        async def publish(merged: Durable) -> None:
            if [r.key for r in merged.outputs] == ["1"]:
                raise RuntimeError("broker gone")
            await halves.publish(merged)

        commit = PipelinedCommit(halves.rows, GroupCommit(publish, max_events=1),
                                 max_events=1)
        done = [commit.submit(part(n), 1) for n in (1, 2)]
        await asyncio.wait(done, timeout=1.0)
        for each in done:
            with pytest.raises(RuntimeError, match="broker gone"):
                each.result()
        assert not [numbers for kind, numbers in halves.log if kind == "publish"]

    asyncio.run(main())
