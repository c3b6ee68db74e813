"""The workflows domain's contract: its topics (logical names; manifests in
``schemas/topics/``), its ClickHouse table (DDL in ``schemas/clickhouse/``) and its state
table.

The stage consumes the unified profile (``customer.profiles``, keyed by person id, so a
person's workflow state lives on the partition of their profile). Conversation outcomes and
market events reach the engine once a topic re-keys them by person (or segment); their
names are declared here for that wiring."""

from __future__ import annotations

from typing import Final

# topics
CUSTOMER_PROFILES: Final = "customer.profiles"  # the customer domain's output, our input
WORKFLOW_ACTIONS: Final = "workflow.actions"
#: inputs to come (not in the manifests yet): outcomes re-keyed by person, market events
CONVERSATION_OUTCOMES: Final = "conversation.outcomes"
MARKET_EVENTS: Final = "market.events"

INPUTS: Final = (CUSTOMER_PROFILES,)
OUTPUTS: Final = (WORKFLOW_ACTIONS,)

# tables
WORKFLOW_ACTIONS_TABLE: Final = "workflow_actions"
#: the stage's changelog-backed state, one value per subject (person or market segment)
WORKFLOW_STATES: Final = "workflow_states"

#: where the definitions live, relative to ``schemas/``
DEFINITIONS_DIR: Final = "workflows"
