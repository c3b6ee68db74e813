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
from streams.customer.contract import (
    ATTRIBUTION_CREDITS,
    CONVERSIONS,
    CRM_PROFILES,
    CUSTOMER_EVENTS,
    CUSTOMER_PROFILES,
    IDENTITY_LINKS,
    IDENTITY_OBSERVATIONS,
    TOUCHPOINTS,
)
from streams.kernel.topics import DLQ_SUFFIX, dlq
from streams.marketing.contract import (
    AD_METRICS,
    ANOMALIES,
    CAMPAIGN_KPIS,
    CURRENCY_RATES,
    RECOMMENDATIONS,
)
from streams.predictive.contract import CUSTOMER_SCORES
from streams.workflows.contract import AUDIENCES, WORKFLOW_ACTIONS

#: topics a stage consumes (each with a dead-letter topic), the customer domain's internal
#: re-keying topics included
INPUTS: Final = (CHAT_EVENTS, AD_METRICS, TOUCHPOINTS, CONVERSIONS, CRM_PROFILES,
                 IDENTITY_OBSERVATIONS, CUSTOMER_EVENTS, RECOMMENDATIONS, CURRENCY_RATES)
OUTPUTS: Final = (CONVERSATION_INSIGHTS, CAMPAIGN_KPIS, ANOMALIES, ESCALATIONS, CRM_TASKS, LEAD_SIGNALS,
                  IDENTITY_LINKS, CUSTOMER_PROFILES, ATTRIBUTION_CREDITS, WORKFLOW_ACTIONS,
                  CUSTOMER_SCORES, AUDIENCES)

__all__ = [
    "AD_METRICS", "ANOMALIES", "ATTRIBUTION_CREDITS", "AUDIENCES", "CAMPAIGN_KPIS", "CHAT_EVENTS",
    "CONVERSATION_INSIGHTS", "CONVERSIONS", "CRM_PROFILES", "CRM_TASKS", "CURRENCY_RATES",
    "CUSTOMER_EVENTS", "CUSTOMER_PROFILES", "CUSTOMER_SCORES", "DLQ_SUFFIX", "ESCALATIONS",
    "IDENTITY_LINKS", "IDENTITY_OBSERVATIONS", "INPUTS", "LEAD_SIGNALS", "OUTPUTS",
    "RECOMMENDATIONS", "TOUCHPOINTS", "WORKFLOW_ACTIONS", "dlq",
]
