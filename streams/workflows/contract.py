"""The workflows domain's contract: its topics (logical names; manifests in
``schemas/topics/``), its ClickHouse table (DDL in ``schemas/clickhouse/``) and its state
table.

The stage consumes the unified profile (``customer.profiles``) and the predictions on each
person (``customer.scores``), both keyed by person id and co-partitioned, so a person's
workflow state lives on the partition of their profile. Conversation outcomes and market
events reach the engine once a topic re-keys them by person (or segment); their names are
declared here for that wiring.

The delivery stage consumes ``workflow.actions`` (keyed by subject) and performs each action
once: CRM tasks on ``crm.tasks``, audience members in ``audience_members`` and on
``audiences``, emails through the email platform's send API, proactive chats through the
chat service's WebSocket; each outcome is a ``delivered`` or ``failed`` row of
``workflow_actions``."""

from __future__ import annotations

from typing import Final

# topics
CUSTOMER_PROFILES: Final = "customer.profiles"  # the customer domain's output, our input
CUSTOMER_SCORES: Final = "customer.scores"  # the predictive domain's output, our input
WORKFLOW_ACTIONS: Final = "workflow.actions"  # our output, and the delivery stage's input
CRM_TASKS: Final = "crm.tasks"  # the conversation domain's task topic, written by delivery too
AUDIENCES: Final = "audiences"  # audience-list changes for the ad tools' customer-match uploads
#: inputs to come (not in the manifests yet): outcomes re-keyed by person, market events
CONVERSATION_OUTCOMES: Final = "conversation.outcomes"
MARKET_EVENTS: Final = "market.events"

INPUTS: Final = (CUSTOMER_PROFILES, CUSTOMER_SCORES, WORKFLOW_ACTIONS)
OUTPUTS: Final = (WORKFLOW_ACTIONS, AUDIENCES)  # and crm.tasks, the conversation domain's

# tables
WORKFLOW_ACTIONS_TABLE: Final = "workflow_actions"
AUDIENCE_MEMBERS_TABLE: Final = "audience_members"
#: the stage's changelog-backed state, one value per subject (person or market segment)
WORKFLOW_STATES: Final = "workflow_states"
#: the delivery stage's state: per subject, the action ids already performed
WORKFLOW_DELIVERIES: Final = "workflow_deliveries"

#: where the definitions live, relative to ``schemas/``
DEFINITIONS_DIR: Final = "workflows"
