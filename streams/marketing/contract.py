"""The marketing domain's contract: its topics (logical names; manifests in
``schemas/topics/``) and its ClickHouse tables (DDL in ``schemas/clickhouse/``)."""

from __future__ import annotations

from typing import Final

# topics
AD_METRICS: Final = "ad.metrics"
CAMPAIGN_KPIS: Final = "campaign.kpis"
#: recommendations and their approval transitions: produced by ``touchstream optimise``,
#: consumed by the worker into the ``recommendations`` table
RECOMMENDATIONS: Final = "recommendations"
#: exchange rates into the reporting currency, loaded by ``touchstream connectors rates load``
CURRENCY_RATES: Final = "currency.rates"
#: anomaly alerts per campaign and metric, raised by the ``ad.metrics`` stage
ANOMALIES: Final = "anomalies"

INPUTS: Final = (AD_METRICS, RECOMMENDATIONS, CURRENCY_RATES)
OUTPUTS: Final = (CAMPAIGN_KPIS, ANOMALIES)

# tables
CAMPAIGN_KPIS_TABLE: Final = "campaign_kpis"
RECOMMENDATIONS_TABLE: Final = "recommendations"
#: bids and budgets as the platforms last reported them (from ``ad.metrics``)
CAMPAIGN_LEVERS_TABLE: Final = "campaign_levers"
CURRENCY_RATES_TABLE: Final = "currency_rates"
ANOMALIES_TABLE: Final = "anomalies"
