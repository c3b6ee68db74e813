"""Chat events: their contract rules, message sentiment, their rows, and the counters of a
conversation (``Rollup``) behind the ``conversations`` table and ``conversation.insights``.

Pure and synchronous. The rollup lives inside the conversation's record and is folded with
it (``state.fold``), which recognises redeliveries once for both.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypedDict

from streams.conversation import contract as topics
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Columns, OutputRecord, Raw, empty_columns
from streams.text.sentiment import Sentiment, score_texts

EVENT_COLUMNS = (
    "event_id", "conversation_id", "event_type", "occurred_at", "channel", "sender_role",
    "sender_id", "language", "customer_id", "text", "sentiment_compound", "sentiment_positive",
    "sentiment_neutral", "sentiment_negative", "sentiment_label", "_topic", "_partition",
    "_offset", "_kafka_ts",
)
CONVERSATION_COLUMNS = (
    "conversation_id", "channel", "language", "customer_id", "status", "first_event_at",
    "last_event_at", "events", "messages", "customer_messages", "sentiment_mean",
    "last_sentiment", "min_sentiment", "intent", "intent_confidence", "escalations",
    "lead_signals", "_topic", "_partition", "_offset", "_version",
)


class Rollup(TypedDict):
    """The counters of a conversation behind the ``conversations`` table and the
    ``conversation.insights`` topic, kept inside its record (``state.ConversationRecord``)."""

    channel: str
    language: str  # as the events state it
    customer_id: str  # the CRM id the events carry
    status: str  # open | handoff | ended
    first_event_at: int
    last_event_at: int
    sentiment_sum: float
    sentiment_count: int
    last_sentiment: float | None
    min_sentiment: float | None


#: no chat event is dated before 2000-01-01: an earlier time is a unit or parsing error
EARLIEST_MS: Final = 946_684_800_000
#: how far in the future an event may be dated (clock skew between its source and us)
MAX_FUTURE_MS: Final = 300_000


def validate(raw: Raw, event: Mapping[str, Any], *, now_ms: int | None = None,
             max_future_ms: int = MAX_FUTURE_MS) -> None:
    """Contract rules beyond what Avro checks; raises InvalidMessage. ``now_ms`` (default:
    the wall clock) dates the future: a conversation whose events lie in the future would
    never time out nor leave the worker's tables."""
    if not event["event_id"]:
        raise InvalidMessage("invalid_field", "event_id is empty")
    conversation_id = event["conversation_id"]
    if not conversation_id:
        raise InvalidMessage("invalid_field", "conversation_id is empty")
    key = raw.key_str
    if key is not None and key != conversation_id:
        raise InvalidMessage(
            "invalid_field",
            f"key {key!r} is not the conversation_id {conversation_id!r}: "
            "chat events must be keyed by conversation",
        )
    event_type = event["event_type"]
    if event_type == "UNKNOWN":
        raise InvalidMessage("invalid_field", "event_type is UNKNOWN")
    if event_type == "MESSAGE" and not (event["text"] or "").strip():
        raise InvalidMessage("invalid_field", "a MESSAGE event needs a non-empty text")
    at = event["occurred_at"]
    if at <= 0:
        raise InvalidMessage("invalid_field", f"occurred_at {at} is not a time")
    if at < EARLIEST_MS:
        raise InvalidMessage("invalid_field", f"occurred_at {at} is before 2000-01-01")
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if at > now + max_future_ms:
        raise InvalidMessage(
            "invalid_field",
            f"occurred_at {at} is {(at - now) / 1000:.0f} s in the future (the clock-skew "
            f"tolerance is {max_future_ms / 1000:.0f} s)")


def message_sentiments(events: Sequence[Mapping[str, Any]]) -> list[Sentiment | None]:
    """Sentiment of every MESSAGE event, None for lifecycle events; scored as one batch."""
    index = [i for i, e in enumerate(events) if e["event_type"] == "MESSAGE"]
    scores = score_texts([events[i]["text"] for i in index])
    out: list[Sentiment | None] = [None] * len(events)
    for i, score in zip(index, scores, strict=True):
        out[i] = score
    return out


def event_columns(
    raws: Sequence[Raw],
    events: Sequence[Mapping[str, Any]],
    sentiments: Sequence[Sentiment | None],
) -> Columns:
    cols = empty_columns(EVENT_COLUMNS)
    (event_id, conversation_id, event_type, occurred_at, channel, sender_role, sender_id,
     language, customer_id, text, compound, positive, neutral, negative, label, topic,
     partition, offset, kafka_ts) = (cols[name] for name in EVENT_COLUMNS)
    for raw, e, s in zip(raws, events, sentiments, strict=True):
        event_id.append(e["event_id"])
        conversation_id.append(e["conversation_id"])
        event_type.append(e["event_type"])
        occurred_at.append(e["occurred_at"])
        channel.append(e["channel"])
        sender_role.append(e["sender_role"])
        sender_id.append(e["sender_id"] or "")
        language.append(e["language"] or "")
        customer_id.append(e["customer"]["customer_id"] or "")
        text.append(e["text"] or "")
        if s is None:
            compound.append(None)
            positive.append(None)
            neutral.append(None)
            negative.append(None)
            label.append("")
        else:
            compound.append(s.compound)
            positive.append(s.positive)
            neutral.append(s.neutral)
            negative.append(s.negative)
            label.append(s.label)
        topic.append(raw.topic)
        partition.append(raw.partition)
        offset.append(raw.offset)
        kafka_ts.append(raw.timestamp_ms)
    return cols


def new_rollup(event: Mapping[str, Any]) -> Rollup:
    at = event["occurred_at"]
    return Rollup(channel=event["channel"], language=event["language"] or "",
                  customer_id=event["customer"]["customer_id"] or "", status="open",
                  first_event_at=at, last_event_at=at, sentiment_sum=0.0, sentiment_count=0,
                  last_sentiment=None, min_sentiment=None)


def absorb(rollup: Rollup, event: Mapping[str, Any], compound: float | None) -> Rollup:
    """The rollup after one more event (a new dict). ``compound``: the message's sentiment
    (customer messages count); the record's fold has already recognised redeliveries."""
    new = rollup.copy()
    at = event["occurred_at"]
    new["first_event_at"] = min(new["first_event_at"], at)
    new["last_event_at"] = max(new["last_event_at"], at)
    if event["language"] and not new["language"]:
        new["language"] = event["language"]
    customer_id = event["customer"]["customer_id"]
    if customer_id:
        new["customer_id"] = customer_id
    event_type = event["event_type"]
    if event_type == "ENDED":
        new["status"] = "ended"
    elif event_type == "HANDOFF":
        new["status"] = "handoff"
    elif event_type == "MESSAGE":
        if new["status"] == "ended":
            new["status"] = "open"
        if event["sender_role"] == "CUSTOMER" and compound is not None:
            new["sentiment_sum"] += compound
            new["sentiment_count"] += 1
            new["last_sentiment"] = compound
            low = new["min_sentiment"]
            new["min_sentiment"] = compound if low is None else min(low, compound)
    return new


def sentiment_mean(rollup: Rollup) -> float | None:
    count = rollup["sentiment_count"]
    return rollup["sentiment_sum"] / count if count else None


def conversation_columns(records: Sequence[Mapping[str, Any]], topic: str) -> Columns:
    """Rows of ``conversations``, one per conversation record (``state.ConversationRecord``;
    ``topic``: the physical input topic)."""
    cols = empty_columns(CONVERSATION_COLUMNS)
    for r in records:
        s: Rollup = r["rollup"]
        cols["conversation_id"].append(r["conversation_id"])
        cols["channel"].append(s["channel"])
        cols["language"].append(s["language"])
        cols["customer_id"].append(s["customer_id"])
        cols["status"].append(s["status"])
        cols["first_event_at"].append(s["first_event_at"])
        cols["last_event_at"].append(s["last_event_at"])
        cols["events"].append(r["events"])
        cols["messages"].append(r["messages"])
        cols["customer_messages"].append(r["customer_messages"])
        cols["sentiment_mean"].append(sentiment_mean(s))
        cols["last_sentiment"].append(s["last_sentiment"])
        cols["min_sentiment"].append(s["min_sentiment"])
        intent, confidence, escalations, lead_signals = conversation_figures(r)
        cols["intent"].append(intent)
        cols["intent_confidence"].append(confidence)
        cols["escalations"].append(escalations)
        cols["lead_signals"].append(lead_signals)
        cols["_topic"].append(topic)
        cols["_partition"].append(r["partition"])
        cols["_offset"].append(r["offset"])
        cols["_version"].append(r["offset"])
    return cols


def conversation_figures(record: Mapping[str, Any]
                         ) -> tuple[str | None, float | None, int, int]:
    """(intent, its confidence, escalations, lead signals) of a conversation record
    (``state.ConversationRecord``): a conversation raises at most one lead signal."""
    return (record["intent"], record["intent_confidence"], int(record["escalations"]),
            int(bool(record["lead_signaled"])))


def insight_record(record: Mapping[str, Any], now_ms: int) -> OutputRecord:
    """The compacted ``conversation.insights`` record of a conversation (v2: with its intent,
    escalations and lead signals)."""
    s: Rollup = record["rollup"]
    intent, confidence, escalations, lead_signals = conversation_figures(record)
    return OutputRecord(
        topic=topics.CONVERSATION_INSIGHTS,
        key=record["conversation_id"],
        value={
            "conversation_id": record["conversation_id"],
            "channel": s["channel"],
            "language": s["language"],
            "customer_id": s["customer_id"],
            "status": s["status"],
            "first_event_at": s["first_event_at"],
            "last_event_at": s["last_event_at"],
            "events": record["events"],
            "messages": record["messages"],
            "customer_messages": record["customer_messages"],
            "sentiment_mean": sentiment_mean(s),
            "last_sentiment": s["last_sentiment"],
            "min_sentiment": s["min_sentiment"],
            "intent": intent,
            "intent_confidence": confidence,
            "escalations": escalations,
            "lead_signals": lead_signals,
            "source_partition": record["partition"],
            "source_offset": record["offset"],
            "updated_at": now_ms,
        },
    )
