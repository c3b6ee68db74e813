"""Under live traffic: a partial step is taken as soon as the rest of it arrives, the agent
goes on computing while a write is under way, and a write that took longer than the
interval is followed at once by one holding everything that arrived meanwhile, whole
parts, once each and in order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import faust
from faust.types import TP, Message

from agents.runtime.batching import Durable, GroupCommit, MessageBuffer, batch_agent
from streams.kernel.metrics import Latencies
from tests.unit.runtime.test_batching import Clock, FakeMessage, messages, part


def test_a_partial_step_is_taken_once_the_rest_of_it_arrives() -> None:
    async def main() -> None:
        clock = Clock()  # never moves: only the arrivals can end the wait
        buffer = MessageBuffer(capacity=1000, clock=clock)
        buffer.put_batch(TP("t", 0), messages(0, range(60)), lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        task = asyncio.ensure_future(buffer.take(100, within=5.0))
        await asyncio.sleep(0.01)
        assert not task.done()  # 60 of 100, and the oldest has not waited 5 s
        buffer.put_batch(TP("t", 1), messages(1, range(30)), lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        assert not task.done()  # 90 of 100
        buffer.put_batch(TP("t", 2), messages(2, range(50)), lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        taken, _ = await asyncio.wait_for(task, 1.0)
        assert len(taken) == 100 and len(buffer) == 40
        assert [(m.partition, m.offset) for m in taken[58:62]] == [(0, 58), (0, 59), (1, 0), (1, 1)]

    asyncio.run(main())


def test_a_slow_write_is_followed_at_once_by_one_holding_what_arrived_meanwhile() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Event()
        writes: list[tuple[float, list[int]]] = []

        async def write(merged: Durable) -> None:
            writes.append((loop.time(), list(merged.inserts["t"]["n"])))
            if len(writes) == 1:
                await gate.wait()  # the first write takes far longer than the interval

        commit = GroupCommit(write, max_events=1000, interval=0.05, interval_behind=10.0)
        first = commit.submit(part(0), 10)
        await asyncio.sleep(0.01)
        later = [commit.submit(part(n), 10) for n in range(1, 31)]  # 300 events meanwhile
        await asyncio.sleep(0.2)  # four intervals
        gate.set()
        ended = loop.time()
        await asyncio.gather(first, *later)
        assert [n for _, n in writes] == [[0], list(range(1, 31))]  # all of them, in order
        assert writes[1][0] - ended < 0.04  # at once, not after another interval

    asyncio.run(main())


class FakeConsumer:
    def track_message(self, message: FakeMessage) -> None:
        pass

    def assignment(self) -> set[TP]:
        return set()


def test_the_agent_goes_on_computing_while_a_write_is_under_way() -> None:
    async def main() -> None:
        app = faust.App("test-live-steps", broker="kafka://127.0.0.1:1", store="memory://")
        app.consumer = FakeConsumer()  # type: ignore[assignment]
        gate = asyncio.Event()
        computed: list[int] = []
        written: list[int] = []

        def prepare(step: Sequence[Message]) -> Durable:
            computed.append(len(step))
            return Durable(inserts={"t": {"o": [m.offset for m in step]}})

        async def write(merged: Durable) -> None:
            written.extend(merged.inserts["t"]["o"])
            if len(written) <= 100:
                await gate.wait()  # the first write (one step) is slow

        commit = GroupCommit(write, max_events=1000, interval=0.01, interval_behind=10.0)
        channel = batch_agent(app, "a", ["t"], prepare, step_events=100, step_events_behind=100,
                              within=0.01, latencies=Latencies(), commit=commit)
        task = next(t for t in app._app_tasks if t.__name__ == "a")
        run = asyncio.ensure_future(task())
        batch = messages(0, range(100))
        channel.queue.put_batch(TP("t", 0), batch, lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        for _ in range(100):
            await asyncio.sleep(0.01)
            if written:
                break
        rest = messages(0, range(100, 700))
        channel.queue.put_batch(TP("t", 0), rest, lambda tp: None, lambda tp: None)  # type: ignore[arg-type]
        for _ in range(100):
            await asyncio.sleep(0.01)
            if sum(computed) == 700:
                break
        # six more steps computed while the first write of one step is still under way
        assert sum(computed) == 700 and len(written) == 100
        assert not any(m.acked for m in batch + rest)
        gate.set()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if all(m.acked for m in rest):
                break
        assert written == list(range(700)) and all(m.acked for m in batch + rest)
        run.cancel()

    asyncio.run(main())
