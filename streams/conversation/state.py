"""The state of one conversation and how each chat event changes it.

``fold(record, event, partition, offset, signals)`` absorbs one ``chat.events`` event (decoded,
timestamps as epoch milliseconds) into the conversation's record and returns the new record
with the effects the event causes. It never changes its arguments (nested lists and dicts are
replaced, not mutated), and an event at or before the last absorbed offset of the record's
partition is a redelivery: it returns the record unchanged and no effects.

Producer duplicates: the same ``event_id`` produced again at another offset (a producer retry
without idempotence, a replayed export, a gateway reconnect) is recognised by the ids the record
keeps (``event_ids``: every id it absorbed, with its offset) and is not folded again: the
record and its counters stay as they are, an ended conversation stays ended, no effect is
emitted (``duplicate``). The window is the record's life: the whole conversation plus the
retention period after it closed (``TOUCHSTREAM_CONVERSATION_RETENTION_SECONDS``), after which the
record leaves the table; a duplicate arriving later starts a new record, and ClickHouse still
collapses its ``chat_events`` row (ordered by ``(conversation_id, event_id)``). Records
written before the ids were kept recognise duplicates of their later events only.

Sentiment, emotions, intent and language are computed in batch before the fold and handed in
as ``MessageSignals``; the fold itself is bookkeeping and a few comparisons.

Escalation episodes: the first rule that fires on a conversation whose episode is idle opens
an episode and emits one ``Escalate``; while it is open nothing else is emitted. It closes
when a human takes over (HANDOFF, or an agent message) or the conversation ends. After a
handoff the conversation goes back to idle only when the bot speaks again (the human handed
it back), and the per-episode counters start over, so a new episode needs new evidence.

The record and its signals are in ``state_record``; what a customer message does (the
escalation rules, the conversation's intent, leads) in ``customer_turn``; this module folds
every event and handles the bot's and agents' messages, handoffs and endings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from streams.conversation import escalation as rules
from streams.conversation import journey as journeys
from streams.conversation import loops
from streams.conversation import rollup as rollups
from streams.conversation.customer_turn import choose_intent, customer_message, escalate
from streams.conversation.effects import CancelFollowUp, Effect, Message, ScheduleFollowUp
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.conversation.state_record import (
    RECENT_MESSAGES,
    RESOLUTIONS,
    STATUSES,
    TEXT_LIMIT,
    ConversationRecord,
    EmotionSignals,
    EscalationBook,
    IntentSignal,
    MessageSignals,
    already_seen,
    customer_value,
    duplicate,
    fresh_window,
    new_record,
    reopen,
)

__all__ = [
    "RECENT_MESSAGES", "RESOLUTIONS", "STATUSES", "TEXT_LIMIT", "ConversationRecord",
    "EmotionSignals", "EscalationBook", "IntentSignal", "MessageSignals", "already_seen",
    "choose_intent", "customer_value", "duplicate", "expire", "fold", "infer_resolution",
    "new_record",
]

_ROLES: Final = {"CUSTOMER": "customer", "BOT": "bot", "AGENT": "agent", "SYSTEM": "system"}
_ID_FIELDS: Final = ("customer_id", "email", "phone", "anonymous_id")


def fold(
    record: ConversationRecord | None,
    event: Mapping[str, Any],
    partition: int,
    offset: int,
    signals: MessageSignals | None = None,
    policy: EscalationPolicy = DEFAULT_POLICY,
) -> tuple[ConversationRecord, list[Effect]]:
    """Absorb one chat event; returns the new record and the effects it causes."""
    if record is not None and (already_seen(record, partition, offset)
                               or duplicate(record, event, offset)):
        return record, []
    new = new_record(event, partition) if record is None else record.copy()
    effects: list[Effect] = []
    at: int = event["occurred_at"]
    new["events"] += 1
    new["rollup"] = rollups.absorb(new["rollup"], event,
                                   signals.compound if signals is not None else None)
    if at < new["started_at"]:
        new["started_at"] = at
    if at > new["last_event_at"]:
        new["last_event_at"] = at
    _absorb_identity(new, event)
    language = (signals.language if signals is not None else None) or event.get("language")
    if language and new["language"] in ("", "und"):
        new["language"] = language
    kind = event["event_type"]
    if kind == "MESSAGE":
        _message(new, event, at, signals, policy, effects, partition, offset)
    elif kind == "HANDOFF":
        new["status"] = "handoff"
        _human_took_over(new, at)
    elif kind == "ENDED":
        metadata = event.get("metadata") or {}
        stated = metadata.get("resolution", "").strip().lower()
        _end(new, at, "ended", stated if stated in ("resolved", "unresolved") else None,
             "unresolved", policy, effects)
    elif kind == "STARTED" and new["status"] in ("ended", "timed_out"):
        reopen(new)
    new["partition"] = partition
    new["offset"] = offset
    new["event_ids"] = {**new.get("event_ids", {}), event["event_id"]: offset}
    return new, effects


def expire(
    record: ConversationRecord, now_ms: int, inactivity_ms: int,
    policy: EscalationPolicy = DEFAULT_POLICY,
) -> tuple[ConversationRecord, list[Effect]]:
    """End a conversation silent for ``inactivity_ms`` (status timed_out, ended at its last
    event); schedules a follow-up when it ends unresolved. Others are returned unchanged."""
    if record["status"] not in ("open", "handoff") or now_ms - record["last_event_at"] < (
            inactivity_ms):
        return record, []
    new = record.copy()
    effects: list[Effect] = []
    _end(new, record["last_event_at"], "timed_out", None, "timed_out", policy, effects)
    return new, effects


def infer_resolution(record: ConversationRecord,
                     policy: EscalationPolicy = DEFAULT_POLICY) -> str:
    """resolved when the customer ended satisfied or positive; unresolved when they ended
    negative, were left waiting for a human, or got no answer to their last message."""
    if not record["customer_messages"]:
        return "unknown"
    satisfaction = record["last_satisfaction"]
    last = journeys.last(record["journey"])
    if ((satisfaction is not None and satisfaction >= policy.resolved_satisfaction)
            or (last is not None and last >= policy.resolved_compound)):
        return "resolved"
    if (record["escalation"]["phase"] == "open" or record["last_role"] == "customer"
            or record["journey"]["state"] in ("negative", "worsening")):
        return "unresolved"
    return "unknown"


# --- steps -----------------------------------------------------------------------------------


def _absorb_identity(new: ConversationRecord, event: Mapping[str, Any]) -> None:
    customer = event.get("customer") or {}
    identifiers = new["identifiers"]
    changed: dict[str, str] | None = None
    for name in _ID_FIELDS:
        value = customer.get(name)
        if value and identifiers.get(name) != value:
            if changed is None:
                changed = dict(identifiers)
            changed[name] = value
    if changed is not None:
        new["identifiers"] = changed
        new["customer_id"] = next(changed[n] for n in _ID_FIELDS if n in changed)
    metadata = event.get("metadata")
    if metadata:
        value = customer_value(metadata)
        if value is not None:
            new["customer_value"] = value


def _message(new: ConversationRecord, event: Mapping[str, Any], at: int,
             signals: MessageSignals | None, policy: EscalationPolicy,
             effects: list[Effect], partition: int, offset: int) -> None:
    role = _ROLES.get(event["sender_role"], "system")
    text: str = event.get("text") or ""
    compound = signals.compound if signals is not None else None
    new["messages"] += 1
    new["last_role"] = role
    recent = new["recent"][-(RECENT_MESSAGES - 1):]
    recent.append(Message(role=role, text=text[:TEXT_LIMIT], compound=compound, at=at))
    new["recent"] = recent
    if role == "customer":
        customer_message(new, event, text, at, signals, policy, effects, partition, offset)
        return
    if role not in ("bot", "agent"):
        return
    sender = event.get("sender_id")
    if new["first_customer_at"] is not None and new["first_response_at"] is None:
        new["first_response_at"] = at
        new["first_response_ms"] = max(0, at - new["first_customer_at"])
    book = new["escalation"] = new["escalation"].copy()
    if role == "agent":
        new["agent_turns"] += 1
        if sender and sender not in new["agents"]:
            new["agents"] = [*new["agents"], sender]
        if book["phase"] != "with_human":
            new["status"] = "handoff" if new["status"] == "open" else new["status"]
            _human_took_over(new, at)
        return
    new["bot_turns"] += 1
    if sender and sender not in new["bots"]:
        new["bots"] = [*new["bots"], sender]
    if book["phase"] == "with_human":  # the human handed the customer back to the bot
        new["escalation"] = fresh_window(book, "idle")
        book = new["escalation"]
        if new["status"] == "handoff":
            new["status"] = "open"
    metadata = event.get("metadata") or {}
    failed = rules.is_fallback(text) or metadata.get("fallback") in ("true", "1")
    if failed:
        book["fallbacks"] += 1
    # the same answer again (rephrased or extended too), or an answer about something else,
    # after the customer said or showed that it did not help: read from the recent messages
    # only then, so that other answers cost nothing
    said = book.get("unhelped", 0) or book.get("unhelped_read", False)
    if said or book.get("pushed", False):
        before = new["recent"][:-1]
        if loops.echoes(text, loops.previous_answer(before), policy.bot_repeat_similarity,
                        policy.bot_echo_cosine):
            book["bot_repeats"] = book.get("bot_repeats", 0) + 1
            failed = True
        elif said and loops.strays(text, before):
            book["off_topic"] = book.get("off_topic", 0) + 1
            failed = True
    book["pushed"] = False
    if failed and book["phase"] == "idle" and new["status"] == "open":
        reason = rules.bot_failure_loop(book["repeats"], book["fallbacks"], book["confused"],
                                        policy, bot_repeats=book.get("bot_repeats", 0),
                                        off_topic=book.get("off_topic", 0))
        if reason is not None:
            effects.append(escalate(new, (reason,), at, None, False, policy, partition,
                                     offset))


def _human_took_over(new: ConversationRecord, at: int) -> None:
    new["handoff"] = True
    new["handoffs"] += 1
    new["handoff_at"] = at
    book = new["escalation"] = new["escalation"].copy()
    book["phase"] = "with_human"


def _end(new: ConversationRecord, at: int, status: str, stated: str | None, reason: str,
         policy: EscalationPolicy, effects: list[Effect]) -> None:
    resolution = stated or infer_resolution(new, policy)
    new["status"] = status
    new["ended_at"] = at
    new["duration_ms"] = max(0, at - new["started_at"])
    new["resolution"] = resolution
    new["escalation"] = fresh_window(new["escalation"], "idle")
    if resolution == "resolved" and new["follow_up_id"] is not None:
        effects.append(CancelFollowUp(new["follow_up_id"], new["conversation_id"], "resolved"))
        new["follow_up_id"] = None
        new["follow_up_due_at"] = None
    if resolution != "unresolved" or new["follow_up_id"] is not None:
        return
    cid = new["conversation_id"]
    tier = rules.value_tier(new["customer_value"], policy)
    due = at + policy.follow_up_delay_ms
    task_id = f"{cid}:f{at}"
    new["follow_up_id"] = task_id
    new["follow_up_due_at"] = due
    effects.append(ScheduleFollowUp(
        task_id=task_id, conversation_id=cid, due_at_ms=due, reason=reason, created_at=at,
        customer_id=new["customer_id"], channel=new["channel"], language=new["language"],
        team=rules.conversation_team(new, tier, policy),
        priority="P2" if tier == "high" else policy.follow_up_priority, intent=new["intent"],
        last_sentiment=journeys.last(new["journey"]),
    ))
