"""Profiles and events for the workflow tests."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

from streams.simulators.chat_service import ChatService, ChatServiceConfig
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


def score(person: str, kind: str, value: float, when: int, label: str = "",
          profile_version: int = 1) -> dict[str, Any]:
    """A customer.scores value (CustomerScore v1)."""
    return {
        "person_id": person, "kind": kind, "score": value,
        "probability": value / 100 if kind in ("lead", "churn") else None,
        "label": label, "reasons": [f"{kind.upper()}_REASON: a reason"], "details": {},
        "model_version": "rules-v1", "profile_version": profile_version, "scored_at": when,
    }


@contextlib.contextmanager
def chat_service_running(secret: str) -> Iterator[ChatService]:
    """The chat service simulator on a loopback port, served from a background thread."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        service = ChatService(ChatServiceConfig(port=0, secret=secret, count=1, start_ms=0),
                              log_events=[])
        await service.start()
        box.update(loop=asyncio.get_running_loop(), stop=stop, service=service)
        ready.set()
        await stop.wait()
        await service.close()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the chat service simulator did not start")
    try:
        yield box["service"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)
