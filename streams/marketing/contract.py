"""The marketing domain's contract: its topics (logical names; manifests in
``schemas/topics/``) and its ClickHouse tables (DDL in ``schemas/clickhouse/``)."""

from __future__ import annotations

from typing import Final

# topics
AD_METRICS: Final = "ad.metrics"
CAMPAIGN_KPIS: Final = "campaign.kpis"

INPUTS: Final = (AD_METRICS,)
OUTPUTS: Final = (CAMPAIGN_KPIS,)

# tables
CAMPAIGN_KPIS_TABLE: Final = "campaign_kpis"
