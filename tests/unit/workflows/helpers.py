"""Profiles and events for the workflow tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from streams.workflows.definitions import Workflow, load_dir
from streams.workflows.fields import PersonEvent, from_profile

SEED: tuple[Workflow, ...] = load_dir()
CONSENTING = {"consent_email": "true", "consent_ads": "true", "timezone": "Europe/Berlin"}


def at(text: str) -> int:
    """Epoch ms of an ISO time (UTC unless it says otherwise)."""
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def profile(person: str, version: int, when: int, stage: str = "lead",
            scores: dict[str, float] | None = None, attributes: dict[str, str] | None = None,
            tags: list[str] | None = None) -> dict[str, Any]:
    """A customer.profiles value (CustomerProfile v1)."""
    return {
        "person_id": person, "version": version, "updated_at": when, "first_seen": when,
        "last_seen": when, "identifiers": [f"customer_id:{person}"],
        "attributes": dict(CONSENTING if attributes is None else attributes),
        "tags": list(tags or []), "lifecycle_stage": stage, "channels": ["web"],
        "touchpoints": 3, "conversions": 0, "revenue": {}, "scores": dict(scores or {}),
        "recent": [], "merged_into": None,
    }


def event(person: str, version: int, when: int, **kwargs: Any) -> PersonEvent:
    return from_profile(profile(person, version, when, **kwargs))


def only(workflow_id: str) -> tuple[Workflow, ...]:
    return tuple(w for w in SEED if w.id == workflow_id)
