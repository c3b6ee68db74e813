"""The conversation domain's contract: its input and output topics (logical names; the
manifests in ``schemas/topics/`` give partitions, retention and schemas) and its ClickHouse
tables (DDL in ``schemas/clickhouse/``)."""

from __future__ import annotations

from typing import Final

# topics
CHAT_EVENTS: Final = "chat.events"
CONVERSATION_INSIGHTS: Final = "conversation.insights"
ESCALATIONS: Final = "escalations"
CRM_TASKS: Final = "crm.tasks"
LEAD_SIGNALS: Final = "lead.signals"

INPUTS: Final = (CHAT_EVENTS,)
OUTPUTS: Final = (CONVERSATION_INSIGHTS, ESCALATIONS, CRM_TASKS, LEAD_SIGNALS)

# tables
CHAT_EVENTS_TABLE: Final = "chat_events"
CONVERSATIONS_TABLE: Final = "conversations"
CONVERSATION_STATES_TABLE: Final = "conversation_states"
ESCALATIONS_TABLE: Final = "escalations"
CRM_TASKS_TABLE: Final = "crm_tasks"
