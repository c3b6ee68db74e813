"""Logical topic names. Physical names are ``Settings.topic(logical)``; partitions,
retention and compaction come from the manifests in ``schemas/topics/``."""

from __future__ import annotations

from typing import Final

# inputs
CHAT_EVENTS: Final = "chat.events"
AD_METRICS: Final = "ad.metrics"
TOUCHPOINTS: Final = "touchpoints"
CONVERSIONS: Final = "conversions"
CRM_PROFILES: Final = "crm.profiles"

# outputs
CONVERSATION_INSIGHTS: Final = "conversation.insights"
CAMPAIGN_KPIS: Final = "campaign.kpis"
ESCALATIONS: Final = "escalations"
CRM_TASKS: Final = "crm.tasks"
LEAD_SIGNALS: Final = "lead.signals"

INPUTS: Final = (CHAT_EVENTS, AD_METRICS, TOUCHPOINTS, CONVERSIONS, CRM_PROFILES)
OUTPUTS: Final = (CONVERSATION_INSIGHTS, CAMPAIGN_KPIS, ESCALATIONS, CRM_TASKS, LEAD_SIGNALS)

DLQ_SUFFIX: Final = ".dlq"


def dlq(logical: str) -> str:
    """The dead-letter topic of an input topic."""
    return logical + DLQ_SUFFIX
