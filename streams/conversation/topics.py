"""Logical names of the conversation-intelligence output topics (manifests in
``schemas/topics/``)."""

from __future__ import annotations

from typing import Final

ESCALATIONS: Final = "escalations"
CRM_TASKS: Final = "crm.tasks"
LEAD_SIGNALS: Final = "lead.signals"

OUTPUTS: Final = (ESCALATIONS, CRM_TASKS, LEAD_SIGNALS)
