"""The batch agent observes ``<agent>.produce_to_durable``: from each message's Kafka
timestamp to the moment its step is durable, once the write is done and never before."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import faust
import pytest
from faust.types import TP, Message

from agents.runtime.batching import Durable, GroupCommit, batch_agent
from streams.kernel.metrics import Latencies


@dataclass
class StampedMessage:
    topic: str
    partition: int
    offset: int
    timestamp: float | None
    refcount: int = 0
    acked: bool = False
    tp: TP = field(init=False)

    def __post_init__(self) -> None:
        self.tp = TP(self.topic, self.partition)

    def ack(self, consumer: object) -> None:
        self.acked = True


class FakeConsumer:
    def track_message(self, message: StampedMessage) -> None:
        pass

    def assignment(self) -> set[TP]:
        return set()


def test_produce_to_durable_is_observed_per_message_once_its_write_is_done() -> None:
    async def main() -> None:
        app = faust.App("test-produce-to-durable", broker="kafka://127.0.0.1:1",
                        store="memory://")
        app.consumer = FakeConsumer()  # type: ignore[assignment]
        latencies = Latencies()
        computed = asyncio.Event()
        release = asyncio.Event()

        def prepare(step: Sequence[Message]) -> Durable:
            computed.set()
            return Durable()

        async def write(merged: Durable) -> None:
            await release.wait()

        commit = GroupCommit(write, max_events=1000)
        channel = batch_agent(app, "chat", ["t"], prepare, step_events=100,
                              step_events_behind=100, within=0.01, latencies=latencies,
                              commit=commit)
        task = next(t for t in app._app_tasks if t.__name__ == "chat")
        run = asyncio.ensure_future(task())
        now = time.time()
        # four produced 2 s ago, two 8 s ago, one without a timestamp
        batch = ([StampedMessage("t", 0, o, now - 2.0) for o in range(4)]
                 + [StampedMessage("t", 0, o, now - 8.0) for o in range(4, 6)]
                 + [StampedMessage("t", 0, 6, None)])
        channel.queue.put_batch(TP("t", 0), batch, lambda tp: None,  # type: ignore[arg-type]
                                lambda tp: None)
        await asyncio.wait_for(computed.wait(), 5)
        await asyncio.sleep(0.05)
        # computed but not durable: nothing acknowledged, no latency observed yet
        assert not any(m.acked for m in batch)
        assert latencies.count("chat.produce_to_durable") == 0
        release.set()
        for _ in range(100):
            if all(m.acked for m in batch):
                break
            await asyncio.sleep(0.01)
        assert all(m.acked for m in batch)
        assert latencies.count("chat.produce_to_durable") == 6  # not the unstamped one
        # buckets are 5 % wide and report their upper bound
        median = latencies.percentile("chat.produce_to_durable", 0.5)
        top = latencies.percentile("chat.produce_to_durable", 1.0)
        assert median == pytest.approx(2000.0, rel=0.07)
        assert top == pytest.approx(8000.0, rel=0.07)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(main())
