"""The record of one conversation, the signals handed to the fold, and the small steps on
them that every part of the fold shares.

Invariants:
- a ``ConversationRecord`` is JSON-serialisable: the worker keeps it in a table with a
  changelog; a field added after records were written is ``NotRequired`` and read with a
  default, so records written before still fold;
- ``new_record``, ``empty_book`` and ``fresh_window`` build new values; ``reopen`` changes the
  record it is given, which is always the fold's own copy, never its argument;
- an escalation window (``EscalationBook``) holds only evidence since it (re)started: a fresh
  window keeps the episode, its phase and reasons, and zeroes every counter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NotRequired, Protocol, TypedDict

from streams.conversation import journey as journeys
from streams.conversation import rollup as rollups
from streams.conversation.effects import Message
from streams.conversation.journey import Journey

RECENT_MESSAGES: Final = 6
TEXT_LIMIT: Final = 280
STATUSES: Final = ("open", "handoff", "ended", "timed_out")
RESOLUTIONS: Final = ("resolved", "unresolved", "unknown")


class EmotionSignals(Protocol):
    """What the fold reads of ``streams.text.emotion.Emotions``."""

    @property
    def frustration(self) -> float: ...
    @property
    def anger(self) -> float: ...
    @property
    def confusion(self) -> float: ...
    @property
    def urgency(self) -> float: ...
    @property
    def satisfaction(self) -> float: ...
    @property
    def human_request(self) -> bool: ...


class IntentSignal(Protocol):
    """What the fold reads of ``streams.text.intent.IntentPrediction``."""

    @property
    def intent(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def scores(self) -> Mapping[str, float]: ...


@dataclass(frozen=True, slots=True)
class MessageSignals:
    """Scores of one MESSAGE event, computed in batch before the fold."""

    compound: float
    emotions: EmotionSignals | None = None
    intent: IntentSignal | None = None
    language: str | None = None
    #: the message's cues (``streams.text.cues.found``) when computed with the signals, so
    #: that the fold does not read the text again
    cues: frozenset[str] | None = None
    #: the learnt discontent of a customer message (``streams.text.discontent``): how likely
    #: it is one of a mood that has sunk; None where it was not computed
    discontent: float | None = None
    #: the learnt "not helped" signal of a customer message (``streams.text.unhelped``): how
    #: likely it says the bot's answer did not help; None where it was not computed
    unhelped: float | None = None


class EscalationBook(TypedDict):
    episode: int  # episodes opened so far; the current or last one
    phase: str  # idle | open (escalated, waiting for a human) | with_human
    opened_at: int | None
    reasons: list[str]  # of the current or last episode
    suppressed: int  # rule firings ignored while an episode was open
    # evidence since the window (re)started: at the start and whenever a human hands back
    window_messages: int
    repeats: int
    fallbacks: int
    confused: int
    best_confidence: float | None
    # bot loops: the customer said the bot did not help; the bot repeated an answer after
    # that; the customer pushed back on the bot's last answer (``loops.pushback``) since it
    # (absent from records written before; ``bot_tokens``, the words of the bot's last
    # answer, is no longer written: the previous answer is read from ``recent``)
    unhelped: NotRequired[int]
    bot_repeats: NotRequired[int]
    bot_tokens: NotRequired[list[str]]
    pushed: NotRequired[bool]
    pushbacks: NotRequired[int]  # replies that pushed back, in words or not
    # a reply the learnt "not helped" signal read so (``streams.text.unhelped``): the bot's
    # next answers are checked for a repeat or another subject (absent: none)
    unhelped_read: NotRequired[bool]
    # bot answers that shared no subject with the recent messages (``loops``)
    off_topic: NotRequired[int]
    # customer messages of the window that held a grievance since the customer was last
    # content (``outburst.grieved``), and the last of them
    grievances: NotRequired[int]
    grieved_at: NotRequired[int]  # its number in the window (1: the first)
    # the learnt discontent of the window's last customer message, and the lowest of the
    # customer messages before it (``outburst.sinking``)
    discontent_last: NotRequired[float]
    discontent_floor: NotRequired[float]
    # the customer asked for their personal data (a request that may become overdue)
    data_request: NotRequired[bool]


class ConversationRecord(TypedDict):
    """Per-conversation state kept in the worker's table (JSON-serialisable)."""

    conversation_id: str
    channel: str
    language: str
    customer_id: str  # CRM id, else email, phone or anonymous id
    identifiers: dict[str, str]
    bots: list[str]
    agents: list[str]
    status: str  # open | handoff | ended | timed_out
    started_at: int
    first_customer_at: int | None
    first_response_at: int | None  # first bot/agent message after the first customer one
    first_response_ms: int | None
    last_event_at: int
    last_customer_at: int | None
    last_role: str
    ended_at: int | None
    duration_ms: int | None
    events: int
    messages: int
    customer_messages: int
    bot_turns: int
    agent_turns: int
    handoff: bool
    handoffs: int
    handoff_at: int | None
    resolution: str  # resolved | unresolved | unknown
    customer_value: float | None
    intent: str | None
    intent_confidence: float | None
    topic: NotRequired[str | None]  # the team the topic names (escalation.message_topic)
    last_satisfaction: float | None
    journey: Journey
    escalation: EscalationBook
    escalations: int
    follow_up_id: str | None
    follow_up_due_at: int | None
    lead_signaled: bool
    recent: list[Message]
    last_tokens: list[str]
    rollup: rollups.Rollup
    partition: int
    offset: int
    #: event id -> offset it was absorbed at, for every event folded (producer duplicates)
    event_ids: NotRequired[dict[str, int]]


def empty_book() -> EscalationBook:
    return EscalationBook(episode=0, phase="idle", opened_at=None, reasons=[], suppressed=0,
                          window_messages=0, repeats=0, fallbacks=0, confused=0,
                          best_confidence=None, unhelped=0, bot_repeats=0, off_topic=0,
                          pushed=False, pushbacks=0, grievances=0, grieved_at=0)


def fresh_window(book: EscalationBook, phase: str) -> EscalationBook:
    return EscalationBook(episode=book["episode"], phase=phase, opened_at=book["opened_at"],
                          reasons=book["reasons"], suppressed=book["suppressed"],
                          window_messages=0, repeats=0, fallbacks=0, confused=0,
                          best_confidence=None, unhelped=0, bot_repeats=0, off_topic=0,
                          pushed=False, pushbacks=0, grievances=0, grieved_at=0)


def new_record(event: Mapping[str, Any], partition: int) -> ConversationRecord:
    at = event["occurred_at"]
    return ConversationRecord(
        conversation_id=event["conversation_id"], channel=event["channel"],
        language=event.get("language") or "", customer_id="", identifiers={}, bots=[],
        agents=[], status="open", started_at=at, first_customer_at=None,
        first_response_at=None, first_response_ms=None, last_event_at=at,
        last_customer_at=None, last_role="", ended_at=None, duration_ms=None, events=0,
        messages=0, customer_messages=0, bot_turns=0, agent_turns=0, handoff=False,
        handoffs=0, handoff_at=None, resolution="unknown", customer_value=None, intent=None,
        intent_confidence=None, topic=None, last_satisfaction=None, journey=journeys.empty(),
        escalation=empty_book(), escalations=0, follow_up_id=None, follow_up_due_at=None,
        lead_signaled=False, recent=[], last_tokens=[], rollup=rollups.new_rollup(event),
        partition=partition, offset=-1, event_ids={},
    )


def already_seen(record: ConversationRecord | None, partition: int, offset: int) -> bool:
    """True for an event at or before the last one the record absorbed (a redelivery)."""
    return record is not None and record["partition"] == partition and offset <= record["offset"]


def duplicate(record: ConversationRecord | None, event: Mapping[str, Any], offset: int) -> bool:
    """True for an event whose ``event_id`` the record absorbed at another offset: the same
    event produced again (a redelivery of the offset it was absorbed at is not one)."""
    if record is None:
        return False
    absorbed_at = record.get("event_ids", {}).get(event["event_id"])
    return absorbed_at is not None and absorbed_at != offset


def customer_value(metadata: Mapping[str, str] | None) -> float | None:
    """``customer_value`` (else ``ltv``) of the event metadata, when it is a number."""
    if not metadata:
        return None
    raw = metadata.get("customer_value") or metadata.get("ltv")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value else None  # NaN is no value


def reopen(new: ConversationRecord) -> None:
    new["status"] = "open"
    new["ended_at"] = None
    new["duration_ms"] = None
    new["resolution"] = "unknown"
