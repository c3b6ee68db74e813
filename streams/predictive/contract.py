"""The predictive domain's contract: its topics (logical names; manifests in
``schemas/topics/``), its ClickHouse table (DDL in ``schemas/clickhouse/``) and its state
table.

The scoring stage consumes the unified profile (``customer.profiles``, keyed by person id) and
writes one row per person and kind of prediction (lead, churn, clv, next_best_action) to
``customer_scores`` and one record each to ``customer.scores`` (keyed by person id; not
compacted, as the four kinds share a key: the table keeps the latest of each). The profile
stage does not consume scores: no feedback loop."""

from __future__ import annotations

from typing import Final

# topics
CUSTOMER_PROFILES: Final = "customer.profiles"  # the customer domain's output, our input
CUSTOMER_SCORES: Final = "customer.scores"

INPUTS: Final = (CUSTOMER_PROFILES,)
OUTPUTS: Final[tuple[str, ...]] = (CUSTOMER_SCORES,)

# tables
CUSTOMER_SCORES_TABLE: Final = "customer_scores"
#: the stage's changelog-backed state, one value per person (positioned)
SCORE_STATES: Final = "score_states"
