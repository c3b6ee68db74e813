"""ad.metrics -> per-campaign, per-interval KPIs -> ClickHouse and campaign.kpis."""

from __future__ import annotations

from collections.abc import Sequence

import faust
from faust.types import Message

from agents.runtime.batching import BatchTopic, Durable, raw_of, where
from agents.runtime.core import Runtime, agent, durable_part, new_guard, now_ms
from streams import topics
from streams.marketing.step import process_ads

NAME = "ad_metrics"  # the agent


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    settings = runtime.settings
    dlq_topic = settings.topic(topics.dlq(topics.AD_METRICS))
    decode = runtime.codec.decoder(topics.AD_METRICS)

    guard = new_guard(app, runtime, ("campaign_kpis",))

    def prepare(messages: Sequence[Message]) -> Durable:
        admission = guard.admit(list(messages), where)
        raws = [raw_of(message) for message in admission.admitted]
        batch = process_ads(decode, raws, dlq_topic, now_ms())
        return durable_part(topics.AD_METRICS, batch.result, len(raws), batch.dead,
                            rewind=admission.rewind)

    return agent(app, runtime, NAME, settings.topic(topics.AD_METRICS), prepare)
