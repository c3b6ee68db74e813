"""Effects and conversation records as output-topic records and ClickHouse columns.

``escalations`` and ``lead.signals`` records are published when the fold emits them; a
``crm.tasks`` record is published with every escalation (task type ``escalation``, due at the
SLA deadline) and for every follow-up when it falls due (task type ``follow_up``); the agent
keeps scheduled follow-ups in a table and calls :func:`follow_up_task` then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

from streams.conversation import contract as topics
from streams.conversation import journey as journeys
from streams.conversation.contract import CRM_TASKS, ESCALATIONS, LEAD_SIGNALS
from streams.conversation.effects import Effect, Escalate, LeadSignal, ScheduleFollowUp
from streams.conversation.state import ConversationRecord
from streams.kernel.records import Columns, OutputRecord, empty_columns

SOURCE_TOPIC: Final = topics.CHAT_EVENTS
ESCALATION_COLUMNS: Final = (
    "escalation_id", "conversation_id", "episode", "reasons", "team", "priority", "severity",
    "created_at", "sla_deadline", "customer_id", "customer_value", "channel", "language",
    "intent", "intent_confidence", "sentiment_path", "context", "_topic", "_partition",
    "_offset", "_version",
)
TASK_COLUMNS: Final = (
    "task_id", "task_type", "conversation_id", "customer_id", "team", "priority", "title",
    "description", "due_at", "created_at", "status", "reasons", "escalation_id", "_version",
)
STATE_COLUMNS: Final = (
    "conversation_id", "channel", "language", "customer_id", "status", "started_at",
    "first_customer_at", "first_response_at", "first_response_ms", "last_event_at",
    "ended_at", "duration_ms", "events", "messages", "customer_messages", "bot_turns",
    "agent_turns", "handoff", "handoffs", "handoff_at", "resolution", "journey_state",
    "sentiment_ewma", "sentiment_trend", "sentiment_mean", "first_sentiment",
    "last_sentiment", "worst_sentiment", "worst_at", "recovery", "intent",
    "intent_confidence", "customer_value", "escalated", "escalations", "last_escalation_at",
    "follow_up_due_at", "_topic", "_partition", "_offset", "_version",
)


def records_for(effects: Iterable[Effect]) -> list[OutputRecord]:
    """What to publish now: escalations with their task, and lead signals. Follow-ups are
    published by :func:`follow_up_task` when due; cancellations only drop the timer."""
    out: list[OutputRecord] = []
    for effect in effects:
        if isinstance(effect, Escalate):
            out.append(escalation_record(effect))
            out.append(escalation_task(effect))
        elif isinstance(effect, LeadSignal):
            out.append(lead_record(effect))
    return out


def escalation_value(e: Escalate) -> dict[str, Any]:
    return {
        "escalation_id": e.escalation_id, "conversation_id": e.conversation_id,
        "episode": e.episode, "reasons": list(e.reasons), "team": e.team,
        "priority": e.priority, "severity": e.severity, "created_at": e.created_at,
        "sla_deadline": e.sla_deadline, "customer_id": e.customer_id,
        "customer_value": e.customer_value, "channel": e.channel, "language": e.language,
        "intent": e.intent, "intent_confidence": e.intent_confidence,
        "sentiment_path": list(e.sentiment_path),
        "recent_messages": [dict(m) for m in e.recent],
        "source_partition": e.source_partition, "source_offset": e.source_offset,
    }


def escalation_record(e: Escalate) -> OutputRecord:
    return OutputRecord(ESCALATIONS, e.conversation_id, escalation_value(e))


def escalation_task(e: Escalate) -> OutputRecord:
    """The CRM task of an escalation, due at its SLA deadline."""
    lines = [f"Reasons: {', '.join(e.reasons)}.",
             f"Intent: {e.intent or 'unknown'}; channel {e.channel}; language "
             f"{e.language or 'unknown'}; customer {e.customer_id or 'anonymous'}."]
    if e.sentiment_path:
        path = " > ".join(f"{c:+.2f}" for c in e.sentiment_path[-8:])
        lines.append(f"Sentiment: {path}.")
    lines.extend(f"{m['role']}: {m['text']}" for m in e.recent)
    value = _task(
        task_id=e.escalation_id, task_type="escalation", conversation_id=e.conversation_id,
        customer_id=e.customer_id, team=e.team, priority=e.priority,
        title=f"{e.priority} escalation to {e.team}: {', '.join(e.reasons)}",
        description="\n".join(lines), due_at=e.sla_deadline, created_at=e.created_at,
        reasons=list(e.reasons), escalation_id=e.escalation_id, channel=e.channel,
        language=e.language, intent=e.intent)
    return OutputRecord(CRM_TASKS, e.conversation_id, value)


def follow_up_task(s: ScheduleFollowUp) -> OutputRecord:
    """The CRM task of a follow-up that fell due (created at its due time)."""
    ended = "timed out" if s.reason == "timed_out" else "ended"
    mood = "" if s.last_sentiment is None else f" Last sentiment {s.last_sentiment:+.2f}."
    value = _task(
        task_id=s.task_id, task_type="follow_up", conversation_id=s.conversation_id,
        customer_id=s.customer_id, team=s.team, priority=s.priority,
        title=f"Follow up: conversation {ended} unresolved",
        description=(f"The conversation {ended} without a resolution. Intent: "
                     f"{s.intent or 'unknown'}; channel {s.channel}.{mood}"),
        due_at=s.due_at_ms, created_at=s.due_at_ms, reasons=[s.reason], escalation_id=None,
        channel=s.channel, language=s.language, intent=s.intent)
    return OutputRecord(CRM_TASKS, s.conversation_id, value)


def _task(**fields: Any) -> dict[str, Any]:
    return {**fields, "status": "open"}


def lead_record(s: LeadSignal) -> OutputRecord:
    value = {
        "signal_id": s.signal_id, "conversation_id": s.conversation_id,
        "customer_id": s.customer_id, "identifiers": dict(s.identifiers),
        "intent": s.intent, "confidence": s.confidence, "channel": s.channel,
        "language": s.language, "occurred_at": s.occurred_at, "text": s.text,
        "sentiment_compound": s.sentiment_compound, "customer_value": s.customer_value,
        "customer_messages": s.customer_messages,
    }
    return OutputRecord(LEAD_SIGNALS, s.customer_id or s.conversation_id, value)


# --- ClickHouse ------------------------------------------------------------------------------


def escalation_columns(escalations: Sequence[Escalate], topic: str = SOURCE_TOPIC) -> Columns:
    """Rows of ``escalations``; positions are those of the chat event that triggered each."""
    cols = empty_columns(ESCALATION_COLUMNS)
    for e in escalations:
        value = escalation_value(e)
        context = {"recent_messages": value["recent_messages"], "reasons": value["reasons"],
                   "intent": e.intent, "intent_confidence": e.intent_confidence,
                   "sentiment_path": value["sentiment_path"]}
        for name in ESCALATION_COLUMNS[:16]:
            cols[name].append(value[name])
        cols["intent"][-1] = e.intent or ""
        cols["context"].append(json.dumps(context, ensure_ascii=False, separators=(",", ":")))
        cols["_topic"].append(topic)
        cols["_partition"].append(e.source_partition)
        cols["_offset"].append(e.source_offset)
        cols["_version"].append(e.source_offset)
    return cols


def task_columns(tasks: Sequence[dict[str, Any]]) -> Columns:
    """Rows of ``crm_tasks`` from ``crm.tasks`` record values (latest _version wins)."""
    cols = empty_columns(TASK_COLUMNS)
    for t in tasks:
        for name in TASK_COLUMNS[:-2]:
            cols[name].append(t[name])
        cols["escalation_id"].append(t["escalation_id"] or "")
        cols["_version"].append(t["created_at"])
    return cols


def state_columns(records: Sequence[ConversationRecord], topic: str = SOURCE_TOPIC) -> Columns:
    """Rows of ``conversation_states``. ``_version`` is the offset times two, plus one once
    timed out: a timeout changes the state without a new event and must still win."""
    cols = empty_columns(STATE_COLUMNS)
    for r in records:
        j = r["journey"]
        book = r["escalation"]
        row: dict[str, Any] = {
            "conversation_id": r["conversation_id"], "channel": r["channel"],
            "language": r["language"], "customer_id": r["customer_id"], "status": r["status"],
            "started_at": r["started_at"], "first_customer_at": r["first_customer_at"],
            "first_response_at": r["first_response_at"],
            "first_response_ms": r["first_response_ms"], "last_event_at": r["last_event_at"],
            "ended_at": r["ended_at"], "duration_ms": r["duration_ms"], "events": r["events"],
            "messages": r["messages"], "customer_messages": r["customer_messages"],
            "bot_turns": r["bot_turns"], "agent_turns": r["agent_turns"],
            "handoff": r["handoff"], "handoffs": r["handoffs"], "handoff_at": r["handoff_at"],
            "resolution": r["resolution"], "journey_state": j["state"],
            "sentiment_ewma": j["ewma"], "sentiment_trend": j["trend"],
            "sentiment_mean": journeys.mean(j), "first_sentiment": j["first"],
            "last_sentiment": journeys.last(j), "worst_sentiment": j["worst"],
            "worst_at": j["worst_at"], "recovery": journeys.recovery(j),
            "intent": r["intent"] or "", "intent_confidence": r["intent_confidence"],
            "customer_value": r["customer_value"], "escalated": r["escalations"] > 0,
            "escalations": r["escalations"], "last_escalation_at": book["opened_at"],
            "follow_up_due_at": r["follow_up_due_at"], "_topic": topic,
            "_partition": r["partition"], "_offset": max(r["offset"], 0),
            "_version": max(r["offset"], 0) * 2 + (r["status"] == "timed_out"),
        }
        for name in STATE_COLUMNS:
            cols[name].append(row[name])
    return cols
