"""ad.metrics -> per-campaign, per-interval KPIs -> ClickHouse and campaign.kpis."""

from __future__ import annotations

from collections.abc import Sequence

import faust
from faust.types import Message

from agents.batching import BatchTopic, DurableChain, Step, batch_agent, raw_of, where
from agents.runtime import Runtime, finish_batch, new_guard, now_ms, rewind
from streams import topics
from streams.pipeline import process_ads


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    settings = runtime.settings
    dlq_topic = settings.topic(topics.dlq(topics.AD_METRICS))

    guard = new_guard(app, runtime, ("campaign_kpis",))

    def prepare(messages: Sequence[Message]) -> Step:
        admission = guard.admit(list(messages), where)
        raws = [raw_of(message) for message in admission.admitted]
        batch = process_ads(runtime.codec, raws, dlq_topic, now_ms())

        async def durable() -> None:
            await finish_batch(runtime, topics.AD_METRICS, batch.result, batch.dead, len(raws))
            await rewind(app, admission)

        return durable

    return batch_agent(app, "ad_metrics", settings.topic(topics.AD_METRICS), prepare,
                       max_events=settings.batch_max_events, within=settings.batch_max_seconds,
                       latencies=runtime.latencies, chain=DurableChain())
