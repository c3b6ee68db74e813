"""ad.metrics -> per-campaign, per-interval KPIs -> ClickHouse and campaign.kpis."""

from __future__ import annotations

import faust

from agents.runtime.core import Runtime
from agents.runtime.stage import run_stage
from agents.runtime.transport import BatchTopic
from streams.marketing import stage


def register(app: faust.App, runtime: Runtime) -> BatchTopic:
    return run_stage(app, runtime, stage.stage())
