"""Logical names of the conversation-intelligence output topics (manifests in
``schemas/topics/``); the same names as in ``streams.topics``."""

from __future__ import annotations

from typing import Final

from streams.topics import CRM_TASKS, ESCALATIONS, LEAD_SIGNALS

OUTPUTS: Final = (ESCALATIONS, CRM_TASKS, LEAD_SIGNALS)

__all__ = ["CRM_TASKS", "ESCALATIONS", "LEAD_SIGNALS", "OUTPUTS"]
