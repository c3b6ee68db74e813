"""ad.metrics -> per-campaign, per-interval KPIs -> ClickHouse and campaign.kpis."""

from __future__ import annotations

from typing import Any

import faust

from agents.runtime import Runtime, finish_batch, new_guard, now_ms, raw_of, rewind, where
from streams import topics
from streams.pipeline import process_ads


def register(app: faust.App, runtime: Runtime) -> faust.types.AgentT[Any]:
    settings = runtime.settings
    source = app.topic(
        settings.topic(topics.AD_METRICS),
        key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
    )
    dlq_topic = settings.topic(topics.dlq(topics.AD_METRICS))

    guard = new_guard(app, runtime, ("campaign_kpis",))

    async def ad_metrics(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(  # type: ignore[attr-defined]
            settings.batch_max_events, within=settings.batch_max_seconds
        ):
            admission = guard.admit(list(events), where)
            raws = [raw_of(event) for event in admission.admitted]
            batch = process_ads(runtime.codec, raws, dlq_topic, now_ms())
            await finish_batch(runtime, topics.AD_METRICS, batch.result, batch.dead,
                               len(raws))
            await rewind(app, admission)

    return app.agent(source, name="ad_metrics")(ad_metrics)
