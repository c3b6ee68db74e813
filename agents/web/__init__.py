"""The worker's HTTP surface: views (``views``), who may call them (``security``), pages and
headers (``pages``), masking of personal data (``masking``) and erasure (``erasure``)."""

from __future__ import annotations

from agents.web.security import WebConfigError, check_bind
from agents.web.views import register

__all__ = ["WebConfigError", "check_bind", "register"]
