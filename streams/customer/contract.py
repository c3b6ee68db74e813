"""The customer domain's contract: its input topics (logical names; manifests in
``schemas/topics/``)."""

from __future__ import annotations

from typing import Final

# topics
TOUCHPOINTS: Final = "touchpoints"
CONVERSIONS: Final = "conversions"
CRM_PROFILES: Final = "crm.profiles"

INPUTS: Final = (TOUCHPOINTS, CONVERSIONS, CRM_PROFILES)
OUTPUTS: Final = ()
