"""The marketing domain's stages.

- ``stage``: ``ad.metrics`` report rows to campaign KPIs (rows of ``campaign_kpis`` and
  records of ``campaign.kpis``; a revised interval is a new version of the same row, which
  ClickHouse keeps the latest of), and to anomaly alerts (``anomalies``, table and topic)
  scored in one vectorised pass per batch over per-campaign states in three positioned
  tables (``anomaly_stage``).
- ``rejects_stage``: the rows the platform connectors refused, which they write straight to
  ``ad.metrics.dlq``, into the ``dead_letters`` table (the worker's own dead letters of
  ``ad.metrics`` are there already and are skipped)."""

from __future__ import annotations

import functools
from typing import Final

from streams.kernel.records import BatchResult
from streams.kernel.stage import Events, Input, Lookup, Outcome, Stage, Table
from streams.kernel.topics import DEAD_LETTERS_TABLE, dlq
from streams.marketing import anomaly_stage, kpis, rates, recommendations
from streams.marketing import contract as names
from streams.marketing.anomaly_scoring import DEFAULT_POLICY, AnomalyPolicy
from streams.marketing.connector_rejects import connector_dead_letter_columns

NAME: Final = "ad_metrics"
REJECTS: Final = "ad_metrics_rejects"
RECOMMENDATIONS: Final = "recommendations"
RATES: Final = "currency_rates"


def step(detector: anomaly_stage.Detector | None, events: Events, lookup: Lookup,
         now_ms: int) -> Outcome:
    columns = kpis.kpi_columns(events.raws, events.values)
    result = BatchResult(
        inserts={names.CAMPAIGN_KPIS_TABLE: columns,
                 names.CAMPAIGN_LEVERS_TABLE: recommendations.lever_columns(events.raws,
                                                                            events.values)},
        outputs=kpis.kpi_records(columns))
    if detector is None:
        return Outcome(result)
    detected = detector.detect(events, lookup)
    result.inserts[names.ANOMALIES_TABLE] = detected.rows
    result.outputs.extend(detected.records)
    return Outcome(result, detected.changes)


def stage(anomalies: AnomalyPolicy | None = DEFAULT_POLICY) -> Stage:
    """``anomalies``: the detector's policy, None to compute KPIs only (stateless)."""
    tables = () if anomalies is None else tuple(
        Table(name, positioned=True) for name in (
            anomaly_stage.CAMPAIGNS_TABLE, anomaly_stage.HOURS_TABLE, anomaly_stage.PARTS_TABLE))
    detector = None if anomalies is None else anomaly_stage.Detector(anomalies)
    return Stage(name=NAME, inputs=(Input(names.AD_METRICS, kpis.validate),),
                 step=functools.partial(step, detector), tables=tables,
                 sunk=(names.CAMPAIGN_KPIS_TABLE,))


def rejects_step(events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    return Outcome(BatchResult(inserts={
        DEAD_LETTERS_TABLE: connector_dead_letter_columns(events.raws)}))


def rejects_stage() -> Stage:
    return Stage(name=REJECTS, inputs=(Input(dlq(names.AD_METRICS), encoding="raw"),),
                 step=rejects_step)


def recommendations_step(events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    return Outcome(BatchResult(inserts={names.RECOMMENDATIONS_TABLE: (
        recommendations.recommendation_columns(events.raws, events.values))}))


def recommendations_stage() -> Stage:
    return Stage(name=RECOMMENDATIONS,
                 inputs=(Input(names.RECOMMENDATIONS, recommendations.validate),),
                 step=recommendations_step, sunk=(names.RECOMMENDATIONS_TABLE,))


def rates_step(events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    return Outcome(BatchResult(inserts={names.CURRENCY_RATES_TABLE: rates.rate_columns(
        events.raws, events.values)}))


def rates_stage() -> Stage:
    return Stage(name=RATES, inputs=(Input(names.CURRENCY_RATES, rates.validate),),
                 step=rates_step, sunk=(names.CURRENCY_RATES_TABLE,))
