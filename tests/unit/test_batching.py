"""The batch path's pieces: the message buffer, the durable chain and latency histograms."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from faust.types import TP

from agents.batching import DurableChain, MessageBuffer
from streams.metrics import Latencies


@dataclass
class FakeMessage:
    topic: str
    partition: int
    offset: int
    refcount: int = 0
    acked: bool = False
    tp: TP = field(init=False)

    def __post_init__(self) -> None:
        self.tp = TP(self.topic, self.partition)


def messages(partition: int, offsets: range) -> list[FakeMessage]:
    return [FakeMessage("t", partition, o) for o in offsets]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_full_batch_is_taken_at_once_and_counts_its_subscriber() -> None:
    async def main() -> None:
        buffer = MessageBuffer(capacity=100)
        batch = messages(0, range(10))
        buffer.put_batch(TP("t", 0), batch, lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        taken, arrived = await buffer.take(4, within=60.0)
        assert [m.offset for m in taken] == [0, 1, 2, 3]  # type: ignore[attr-defined]
        assert len(arrived) == 4 and len(buffer) == 6
        assert all(m.refcount == 1 for m in batch)

    asyncio.run(main())


def test_a_partial_batch_waits_until_its_oldest_message_is_within_old() -> None:
    async def main() -> None:
        clock = Clock()
        buffer = MessageBuffer(capacity=100, clock=clock)
        buffer.put_batch(TP("t", 0), messages(0, range(3)), lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        task = asyncio.ensure_future(buffer.take(10, within=0.05))
        await asyncio.sleep(0.01)
        assert not task.done()  # the clock has not moved: still waiting for more
        clock.now = 0.06
        taken, _ = await asyncio.wait_for(task, 1.0)
        assert len(taken) == 3

    asyncio.run(main())


def test_a_partition_is_paused_past_capacity_and_resumed_at_half() -> None:
    async def main() -> None:
        paused: list[TP] = []
        resumed: list[TP] = []
        buffer = MessageBuffer(capacity=10)
        tp = TP("t", 1)
        buffer.put_batch(tp, messages(1, range(12)), paused.append, resumed.append)  # type: ignore[arg-type]
        assert paused == [tp] and resumed == []
        await buffer.take(4, within=0.0)  # 8 left: more than half
        assert resumed == []
        await buffer.take(4, within=0.0)  # 4 left
        assert resumed == [tp]

    asyncio.run(main())


def test_cleared_messages_are_remembered_to_be_read_again() -> None:
    async def main() -> None:
        buffer = MessageBuffer(capacity=100)
        buffer.put_batch(TP("t", 0), messages(0, range(5, 9)), lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        buffer.put_batch(TP("t", 2), messages(2, range(40, 42)), lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        await buffer.take(2, within=0.0)  # offsets 5 and 6 of partition 0 are taken
        buffer.clear()
        buffer.note_dropped(TP("t", 2), 30)  # fetched while flow was stopped
        assert len(buffer) == 0
        assert buffer.take_dropped() == {TP("t", 0): 7, TP("t", 2): 30}
        assert buffer.take_dropped() == {}

    asyncio.run(main())


def test_durable_steps_run_in_order_and_a_failure_fails_the_rest() -> None:
    async def main() -> None:
        chain = DurableChain()
        done: list[int] = []

        def step(n: int, delay: float, fail: bool = False):  # type: ignore[no-untyped-def]
            async def run() -> None:
                await asyncio.sleep(delay)
                if fail:
                    raise RuntimeError(f"step {n}")
                done.append(n)
            return run

        first = chain.then(step(1, 0.03))
        second = chain.then(step(2, 0.0))
        await asyncio.gather(first, second)
        assert done == [1, 2]  # the quick step waited for the slow one
        broken = chain.then(step(3, 0.0, fail=True))
        after = chain.then(step(4, 0.0))
        with pytest.raises(RuntimeError, match="step 3"):
            await broken
        with pytest.raises(RuntimeError, match="step 3"):
            await after
        assert done == [1, 2]

    asyncio.run(main())


def test_latency_percentiles_are_within_five_percent() -> None:
    lat = Latencies()
    lat.observe("x", [float(v) for v in range(1, 1001)])  # 1..1000 ms
    p50 = lat.percentile("x", 0.5)
    p99 = lat.percentile("x", 0.99)
    assert p50 is not None and 500 <= p50 <= 500 * 1.05
    assert p99 is not None and 990 <= p99 <= 990 * 1.05
    assert lat.count("x") == 1000
    assert lat.percentile("missing", 0.5) is None
    snap = lat.snapshot()["x"]
    assert snap["count"] == 1000 and snap["max_ms"] >= 1000
    lat.observe_since("y", [10.0, 10.5], now=11.0)  # seconds in, ms out
    assert lat.percentile("y", 1.0) == pytest.approx(1000, rel=0.05)
