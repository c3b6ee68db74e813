"""ad.metrics -> per-campaign, per-interval KPIs -> ClickHouse and campaign.kpis."""

from __future__ import annotations

from collections.abc import Sequence

import faust
from faust.types import Message

from agents.batching import BatchTopic, Durable, GroupCommit, batch_agent, raw_of, where
from agents.runtime import Runtime, durable_part, new_guard, now_ms, writer
from streams import topics
from streams.pipeline import process_ads

NAME = "ad_metrics"  # the agent


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    settings = runtime.settings
    dlq_topic = settings.topic(topics.dlq(topics.AD_METRICS))

    guard = new_guard(app, runtime, ("campaign_kpis",))

    def prepare(messages: Sequence[Message]) -> Durable:
        admission = guard.admit(list(messages), where)
        raws = [raw_of(message) for message in admission.admitted]
        batch = process_ads(runtime.codec, raws, dlq_topic, now_ms())
        return durable_part(topics.AD_METRICS, admission, batch.result, batch.dead)

    commit = GroupCommit(writer(app, runtime, NAME), max_events=settings.batch_max_events,
                         interval=settings.write_interval_seconds,
                         name=NAME, latencies=runtime.latencies)
    return batch_agent(app, NAME, settings.topic(topics.AD_METRICS), prepare,
                       step_events=settings.step_max_events, within=settings.batch_max_seconds,
                       latencies=runtime.latencies, commit=commit)
