"""The predictive domain's contract: its topics (logical names; manifests in
``schemas/topics/``) and its ClickHouse table (DDL in ``schemas/clickhouse/``).

The scoring stage consumes the unified profile (``customer.profiles``, keyed by person id) and
writes one row per person and kind of prediction (lead, churn, clv, next_best_action)."""

from __future__ import annotations

from typing import Final

# topics
CUSTOMER_PROFILES: Final = "customer.profiles"  # the customer domain's output, our input

INPUTS: Final = (CUSTOMER_PROFILES,)
OUTPUTS: Final[tuple[str, ...]] = ()

# tables
CUSTOMER_SCORES_TABLE: Final = "customer_scores"
