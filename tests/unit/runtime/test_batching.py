"""The batch path's pieces: the message buffer, the group commit and latency histograms."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import faust
import pytest
from faust.types import TP, Message

from agents.runtime.batching import Durable, GroupCommit, MessageBuffer, batch_agent
from agents.runtime.core import last_per_key
from streams.io.publisher import Outgoing
from streams.kernel.metrics import Latencies
from streams.kernel.records import OutputRecord


@dataclass
class FakeMessage:
    topic: str
    partition: int
    offset: int
    refcount: int = 0
    acked: bool = False
    timestamp: float | None = None
    tp: TP = field(init=False)

    def __post_init__(self) -> None:
        self.tp = TP(self.topic, self.partition)

    def ack(self, consumer: object) -> None:
        self.acked = True


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


def test_the_buffer_says_how_long_its_oldest_message_has_waited() -> None:
    async def main() -> None:
        clock = Clock()
        buffer = MessageBuffer(capacity=100, clock=clock)
        assert buffer.oldest_wait() == 0.0
        buffer.put_batch(TP("t", 0), messages(0, range(2)), lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        clock.now = 0.5
        buffer.put_batch(TP("t", 1), messages(1, range(2)), lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        clock.now = 1.5
        assert buffer.oldest_wait() == 1.5
        await buffer.take(2, within=0.0)
        assert buffer.oldest_wait() == 1.0
        await buffer.take(2, within=0.0)
        assert buffer.oldest_wait() == 0.0

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


def part(n: int) -> Durable:
    """A part whose rows, outputs and counters all say ``n``."""
    return Durable(
        inserts={"t": {"n": [n], "twice": [2 * n]}},
        outputs=[OutputRecord("out", str(n), {"n": n})],
        changelog=[Outgoing("changelog", str(n).encode(), b"v")],
        counts=Counter({("batches", "t"): 1}),
    )


def test_parts_waiting_for_a_write_are_merged_into_the_next_in_order() -> None:
    async def main() -> None:
        written: list[Durable] = []
        gate = asyncio.Event()

        async def write(merged: Durable) -> None:
            written.append(merged)
            if len(written) == 1:
                await gate.wait()  # the first write is slow

        commit = GroupCommit(write, max_events=100)
        first = commit.submit(part(1), 10)
        await asyncio.sleep(0)
        parts = [part(n) for n in (2, 3, 4)]
        later = [commit.submit(p, 10) for p in parts]
        await asyncio.sleep(0.01)
        assert len(written) == 1 and not any(f.done() for f in later)
        gate.set()
        await asyncio.gather(first, *later)
        assert list(commit.writes) == [1, 3]
        merged = written[1]
        assert merged.inserts == {"t": {"n": [2, 3, 4], "twice": [4, 6, 8]}}
        assert [r.key for r in merged.outputs] == ["2", "3", "4"]
        assert [c.key for c in merged.changelog] == [b"2", b"3", b"4"]
        assert merged.counts == Counter({("batches", "t"): 3})
        assert parts[0].inserts["t"]["n"] == [2]  # merging copies, never aliases a part

    asyncio.run(main())


def test_a_write_holds_at_most_max_events() -> None:
    async def main() -> None:
        gate = asyncio.Event()
        sizes: list[int] = []

        async def write(merged: Durable) -> None:
            sizes.append(len(merged.inserts["t"]["n"]))
            await gate.wait()

        commit = GroupCommit(write, max_events=25)
        futures = [commit.submit(part(n), 10) for n in range(6)]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(*futures)
        assert sizes == [2, 2, 2]  # 10 + 10 fit in 25, a third would not

    asyncio.run(main())


def test_writes_start_at_most_every_interval_unless_a_batch_is_waiting() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        starts: list[tuple[float, list[int]]] = []

        async def write(merged: Durable) -> None:
            starts.append((loop.time(), merged.inserts["t"]["n"]))

        commit = GroupCommit(write, max_events=30, interval=0.2)
        began = loop.time()
        await commit.submit(part(1), 10)  # nothing written lately: at once
        second = commit.submit(part(2), 10)
        third = commit.submit(part(3), 10)
        await asyncio.gather(second, third)
        assert [n for _, n in starts] == [[1], [2, 3]]
        assert starts[0][0] - began < 0.1 and starts[1][0] - starts[0][0] >= 0.19
        # a full batch's worth waiting does not wait for the interval
        full = [commit.submit(part(n), 10) for n in (4, 5, 6)]
        await asyncio.gather(*full)
        assert starts[2][1] == [4, 5, 6] and starts[2][0] - starts[1][0] < 0.1

    asyncio.run(main())


def test_writes_start_less_often_while_the_agent_is_behind() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        starts: list[float] = []

        async def write(merged: Durable) -> None:
            starts.append(loop.time())

        commit = GroupCommit(write, max_events=30, interval=0.05, interval_behind=0.3)
        waiting = [0.0]
        commit.lag = lambda: waiting[0]
        await commit.submit(part(1), 10)
        await commit.submit(part(2), 10)  # keeping up: the short interval
        assert 0.04 <= starts[1] - starts[0] < 0.2
        waiting[0] = 0.2  # events wait before the agent, but not for long: not behind
        await commit.submit(part(3), 10)
        assert starts[2] - starts[1] < 0.2
        waiting[0] = 0.3  # the oldest has waited a behind-interval: behind
        await commit.submit(part(4), 10)
        assert starts[3] - starts[2] >= 0.29
        await asyncio.gather(*(commit.submit(part(n), 10) for n in (5, 6, 7)))
        assert starts[4] - starts[3] < 0.1  # a full batch waiting still goes at once

    asyncio.run(main())


def test_a_writes_worth_arriving_during_the_wait_ends_it() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        starts: list[tuple[float, list[int]]] = []

        async def write(merged: Durable) -> None:
            starts.append((loop.time(), merged.inserts["t"]["n"]))

        commit = GroupCommit(write, max_events=30, interval=1.0, interval_behind=1.0)
        commit.lag = lambda: 5.0  # behind
        await commit.submit(part(1), 10)
        began = loop.time()
        second = commit.submit(part(2), 10)  # waits for the interval ...
        await asyncio.sleep(0.05)
        rest = [commit.submit(part(n), 10) for n in (3, 4)]  # ... until a write's worth is here
        await asyncio.gather(second, *rest)
        assert [n for _, n in starts] == [[1], [2, 3, 4]]
        assert starts[1][0] - began < 0.5

    asyncio.run(main())


def test_the_agent_is_behind_once_its_oldest_event_has_waited_the_behind_interval() -> None:
    async def write(merged: Durable) -> None:
        pass

    commit = GroupCommit(write, max_events=10, interval=0.25, interval_behind=1.0)
    waiting = [0.99]
    commit.lag = lambda: waiting[0]
    assert not commit.behind()
    waiting[0] = 1.0
    assert commit.behind()
    never = GroupCommit(write, max_events=10, interval=0.0, interval_behind=0.0)
    never.lag = lambda: 60.0
    assert not never.behind()  # no behind interval: never behind


class FakeConsumer:
    def track_message(self, message: FakeMessage) -> None:
        pass

    def assignment(self) -> set[TP]:
        return set()


def test_steps_are_small_while_keeping_up_and_large_while_behind() -> None:
    async def main() -> None:
        app = faust.App("test-steps", broker="kafka://127.0.0.1:1", store="memory://")
        app.consumer = FakeConsumer()  # type: ignore[assignment]
        steps: list[int] = []
        computed = asyncio.Event()

        def prepare(step: Sequence[Message]) -> Durable:
            steps.append(len(step))
            if sum(steps) in (10, 30):  # each put below computed
                computed.set()
            return Durable()

        async def write(merged: Durable) -> None:
            pass

        commit = GroupCommit(write, max_events=1000)
        channel = batch_agent(app, "steps", ["t"], prepare, step_events=3, step_events_behind=8,
                              within=0.01, latencies=Latencies(), commit=commit)
        behind = [False]
        commit.behind = lambda: behind[0]  # type: ignore[method-assign]
        task = next(t for t in app._app_tasks if t.__name__ == "steps")  # the agent's loop
        run = asyncio.ensure_future(task())
        buffer = channel.queue
        first = messages(0, range(10))
        buffer.put_batch(TP("t", 0), first, lambda tp: None,  # type: ignore[arg-type]
                         lambda tp: None)
        await asyncio.wait_for(computed.wait(), 5)
        assert steps == [3, 3, 3, 1]
        # Faust's livelock check sees the partition being processed
        assert TP("t", 0) in app.monitor.stream_inbound_time
        computed.clear()
        behind[0] = True
        buffer.put_batch(TP("t", 0), messages(0, range(10, 30)), lambda tp: None,  # type: ignore[arg-type]
                         lambda tp: None)
        await asyncio.wait_for(computed.wait(), 5)
        assert steps[4:] == [8, 8, 4]
        await asyncio.sleep(0.05)  # the writes are done: every message acknowledged
        assert all(m.acked for m in first)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(main())


def test_a_failed_write_fails_its_parts_and_every_later_one() -> None:
    async def main() -> None:
        async def write(merged: Durable) -> None:
            await asyncio.sleep(0.01)
            if 2 in merged.inserts["t"]["n"]:
                raise RuntimeError("ClickHouse is gone")

        commit = GroupCommit(write, max_events=10)
        ok = commit.submit(part(1), 10)
        broken = commit.submit(part(2), 10)
        queued = commit.submit(part(3), 10)
        await ok
        with pytest.raises(RuntimeError, match="gone"):
            await broken
        with pytest.raises(RuntimeError, match="gone"):
            await queued
        with pytest.raises(RuntimeError, match="gone"):
            await commit.submit(part(4), 10)  # nothing is written after a failure

    asyncio.run(main())


def test_merging_keeps_the_earliest_seek_per_partition() -> None:
    merged = Durable(rewind={("t", 0): 50})
    merged.merge(Durable(rewind={("t", 0): 40, ("t", 1): 7}))
    merged.merge(Durable(rewind={("t", 0): 45}))
    assert merged.rewind == {("t", 0): 40, ("t", 1): 7}
    merged.merge(Durable(inserts={"t": {"a": [1]}}))
    with pytest.raises(ValueError, match="different columns"):
        merged.merge(Durable(inserts={"t": {"b": [1]}}))


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


def test_only_the_last_record_per_key_of_a_compacted_topic_is_published() -> None:
    items = [("a", 1), ("b", 1), (None, 1), ("a", 2), (None, 2), ("c", 1), ("b", 2)]
    kept = last_per_key(items, lambda item: item[0])
    assert kept == [(None, 1), ("a", 2), (None, 2), ("c", 1), ("b", 2)]


class StoppingConsumer(FakeConsumer):
    flow_active = True


def test_a_step_paused_for_an_outage_is_given_up_when_a_rebalance_begins() -> None:
    """Faust lets partitions go only once every message taken is acknowledged: a step that
    waits for the registry through a revocation would hold the rebalance up for the whole
    outage (and the worker would drop out of the group)."""
    from streams.kernel.errors import Unavailable

    async def main() -> None:
        app = faust.App("test-give-up", broker="kafka://127.0.0.1:1", store="memory://")
        consumer = StoppingConsumer()
        app.consumer = consumer  # type: ignore[assignment]
        calls: list[list[int]] = []

        def prepare(step: Sequence[Message]) -> Durable:
            calls.append([m.offset for m in step])
            if len(calls) == 2:
                consumer.flow_active = False  # the revocation stops the flow meanwhile
            raise Unavailable("schema_registry", "down")

        commit = GroupCommit(lambda merged: asyncio.sleep(0), max_events=1000)
        channel = batch_agent(app, "paused", ["t"], prepare, step_events=5, step_events_behind=5,
                              within=0.01, latencies=Latencies(), commit=commit,
                              retry_initial=0.01, retry_max=0.01)
        task = next(t for t in app._app_tasks if t.__name__ == "paused")
        run = asyncio.ensure_future(task())
        buffer = channel._buffer
        assert isinstance(buffer, MessageBuffer)
        buffer.put_batch(TP("t", 0), messages(0, range(3, 6)), lambda tp: None,  # type: ignore[arg-type]
                         lambda tp: None)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if buffer._dropped:
                break
        assert calls == [[3, 4, 5], [3, 4, 5]]  # tried again once, then given up
        assert buffer.take_dropped() == {TP("t", 0): 3}  # read again if it stays assigned
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(main())
