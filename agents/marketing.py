"""ad.metrics -> per-campaign, per-interval KPIs -> ClickHouse and campaign.kpis; the rows the
connectors refused (on ad.metrics.dlq) -> the dead_letters table."""

from __future__ import annotations

import faust

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.marketing import stage


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    kpis = run_stage(app, runtime, stage.stage())
    run_stage(app, runtime, stage.rejects_stage())
    run_stage(app, runtime, stage.recommendations_stage())
    run_stage(app, runtime, stage.rates_stage())
    return kpis
