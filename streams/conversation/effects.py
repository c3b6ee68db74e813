"""What folding a chat event asks the outside world to do: typed, immutable effects.

The fold decides; the agent acts: it publishes escalations and lead signals, keeps follow-up
timers in a table (so they survive a restart) and publishes a follow-up task when one falls
due unless it was cancelled first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict


class Message(TypedDict):
    """A recent message kept for the human who takes over (text truncated)."""

    role: str  # customer | bot | agent | system
    text: str
    compound: float | None
    at: int


@dataclass(frozen=True, slots=True)
class Escalate:
    """Hand the conversation to a human team: one per escalation episode."""

    escalation_id: str  # "<conversation_id>:e<episode>", stable across redelivery
    conversation_id: str
    episode: int
    reasons: tuple[str, ...]
    team: str
    priority: str  # P1 (most urgent) .. P4
    severity: str  # high | medium | low
    created_at: int
    sla_deadline: int
    customer_id: str
    customer_value: float | None
    channel: str
    language: str
    intent: str | None
    intent_confidence: float | None
    sentiment_path: tuple[float, ...]
    recent: tuple[Message, ...]
    source_partition: int
    source_offset: int


@dataclass(frozen=True, slots=True)
class ScheduleFollowUp:
    """Create a follow-up task at ``due_at_ms`` unless cancelled before."""

    task_id: str  # "<conversation_id>:f<ended_at>"
    conversation_id: str
    due_at_ms: int
    reason: str  # unresolved | timed_out
    created_at: int
    customer_id: str
    channel: str
    language: str
    team: str
    priority: str
    intent: str | None
    last_sentiment: float | None


@dataclass(frozen=True, slots=True)
class CancelFollowUp:
    task_id: str
    conversation_id: str
    reason: str  # customer_returned | resolved


@dataclass(frozen=True, slots=True)
class LeadSignal:
    """Purchase intent seen in a conversation; lead scoring consumes it."""

    signal_id: str  # "<conversation_id>:lead"
    conversation_id: str
    customer_id: str
    identifiers: dict[str, str]
    intent: str
    confidence: float
    channel: str
    language: str
    occurred_at: int
    text: str
    sentiment_compound: float | None
    customer_value: float | None
    customer_messages: int


Effect = Escalate | ScheduleFollowUp | CancelFollowUp | LeadSignal
