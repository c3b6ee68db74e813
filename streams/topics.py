"""Every logical topic of the pipeline, gathered from the domains' contracts. Physical names
are ``Settings.topic(logical)``; partitions, retention and compaction come from the manifests
in ``schemas/topics/``."""

from __future__ import annotations

from typing import Final

from streams.conversation.contract import (
    CHAT_EVENTS,
    CONVERSATION_INSIGHTS,
    CRM_TASKS,
    ESCALATIONS,
    LEAD_SIGNALS,
)
from streams.customer.contract import CONVERSIONS, CRM_PROFILES, TOUCHPOINTS
from streams.kernel.topics import DLQ_SUFFIX, dlq
from streams.marketing.contract import AD_METRICS, CAMPAIGN_KPIS

INPUTS: Final = (CHAT_EVENTS, AD_METRICS, TOUCHPOINTS, CONVERSIONS, CRM_PROFILES)
OUTPUTS: Final = (CONVERSATION_INSIGHTS, CAMPAIGN_KPIS, ESCALATIONS, CRM_TASKS, LEAD_SIGNALS)

__all__ = [
    "AD_METRICS", "CAMPAIGN_KPIS", "CHAT_EVENTS", "CONVERSATION_INSIGHTS", "CONVERSIONS",
    "CRM_PROFILES", "CRM_TASKS", "DLQ_SUFFIX", "ESCALATIONS", "INPUTS", "LEAD_SIGNALS",
    "OUTPUTS", "TOUCHPOINTS", "dlq",
]
