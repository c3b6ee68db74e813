"""The marketing stages: ad.metrics -> campaign KPIs (campaign_kpis, campaign.kpis), the levers
reported (campaign_levers) and anomaly alerts (anomalies, table and topic); the rows the
connectors refused (ad.metrics.dlq) -> dead_letters; recommendations and their approval
transitions -> the recommendations table; exchange rates -> currency_rates."""

from __future__ import annotations

import faust

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.marketing import stage
from streams.marketing.anomaly_scoring import DEFAULT_POLICY


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    anomalies = DEFAULT_POLICY if runtime.settings.marketing_anomaly_detection else None
    kpis = run_stage(app, runtime, stage.stage(anomalies))
    run_stage(app, runtime, stage.rejects_stage())
    run_stage(app, runtime, stage.recommendations_stage())
    run_stage(app, runtime, stage.rates_stage())
    return kpis
