"""The marketing domain's stage: ``ad.metrics`` report rows to campaign KPIs (rows of
``campaign_kpis`` and records of ``campaign.kpis``). Stateless: a revised interval is a new
version of the same row, which ClickHouse keeps the latest of."""

from __future__ import annotations

from typing import Final

from streams.kernel.records import BatchResult
from streams.kernel.stage import Events, Input, Lookup, Outcome, Stage
from streams.marketing import contract as names
from streams.marketing import kpis

NAME: Final = "ad_metrics"


def step(events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    columns = kpis.kpi_columns(events.raws, events.values)
    return Outcome(BatchResult(inserts={names.CAMPAIGN_KPIS_TABLE: columns},
                               outputs=kpis.kpi_records(columns)))


def stage() -> Stage:
    return Stage(name=NAME, inputs=(Input(names.AD_METRICS, kpis.validate),), step=step,
                 sunk=(names.CAMPAIGN_KPIS_TABLE,))
