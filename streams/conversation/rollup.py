"""Conversation slice: validate chat events, score message sentiment, roll conversations up.

Pure and synchronous. The conversation rollup remembers the partition and offset of the last
event it absorbed, so an event redelivered after a crash is recognised and not counted twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

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
    "last_sentiment", "min_sentiment", "_topic", "_partition", "_offset", "_version",
)


class ConversationState(TypedDict):
    """Per-conversation rollup kept in the worker's table (JSON-serialisable)."""

    conversation_id: str
    channel: str
    language: str
    customer_id: str
    status: str  # open | handoff | ended
    first_event_at: int
    last_event_at: int
    events: int
    messages: int
    customer_messages: int
    sentiment_sum: float
    sentiment_count: int
    last_sentiment: float | None
    min_sentiment: float | None
    topic: str
    partition: int
    offset: int


def validate(raw: Raw, event: Mapping[str, Any]) -> None:
    """Contract rules beyond what Avro checks; raises InvalidMessage."""
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
    if event["occurred_at"] <= 0:
        raise InvalidMessage("invalid_field", f"occurred_at {event['occurred_at']} is not a time")


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


def _new_state(event: Mapping[str, Any], raw: Raw) -> ConversationState:
    return ConversationState(
        conversation_id=event["conversation_id"],
        channel=event["channel"],
        language=event["language"] or "",
        customer_id=event["customer"]["customer_id"] or "",
        status="open",
        first_event_at=event["occurred_at"],
        last_event_at=event["occurred_at"],
        events=0,
        messages=0,
        customer_messages=0,
        sentiment_sum=0.0,
        sentiment_count=0,
        last_sentiment=None,
        min_sentiment=None,
        topic=raw.topic,
        partition=raw.partition,
        offset=-1,
    )


def already_seen(state: ConversationState | None, raw: Raw) -> bool:
    """True for an event at or before the last one the state absorbed (a redelivery)."""
    return (
        state is not None
        and state["partition"] == raw.partition
        and state["topic"] == raw.topic
        and raw.offset <= state["offset"]
    )


def fold(
    state: ConversationState | None,
    raw: Raw,
    event: Mapping[str, Any],
    sentiment: Sentiment | None,
) -> ConversationState:
    """Absorb one event into the rollup (returns a new dict; redeliveries change nothing)."""
    if state is not None and already_seen(state, raw):
        return state
    new = _new_state(event, raw) if state is None else ConversationState(**state)
    new["events"] += 1
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
        new["messages"] += 1
        if new["status"] == "ended":
            new["status"] = "open"
        if event["sender_role"] == "CUSTOMER":
            new["customer_messages"] += 1
            if sentiment is not None:
                new["sentiment_sum"] += sentiment.compound
                new["sentiment_count"] += 1
                new["last_sentiment"] = sentiment.compound
                low = new["min_sentiment"]
                new["min_sentiment"] = (
                    sentiment.compound if low is None else min(low, sentiment.compound)
                )
    new["topic"] = raw.topic
    new["partition"] = raw.partition
    new["offset"] = raw.offset
    return new


def fold_batch(
    states: Mapping[str, ConversationState | None],
    raws: Sequence[Raw],
    events: Sequence[Mapping[str, Any]],
    sentiments: Sequence[Sentiment | None],
) -> dict[str, ConversationState]:
    """Fold a batch in order; returns only the conversations that changed, once each."""
    current: dict[str, ConversationState | None] = dict(states)
    changed: dict[str, ConversationState] = {}
    for raw, event, sentiment in zip(raws, events, sentiments, strict=True):
        cid = event["conversation_id"]
        before = current.get(cid)
        after = fold(before, raw, event, sentiment)
        if after is not before:
            current[cid] = after
            changed[cid] = after
    return changed


def sentiment_mean(state: ConversationState) -> float | None:
    count = state["sentiment_count"]
    return state["sentiment_sum"] / count if count else None


def conversation_columns(states: Sequence[ConversationState]) -> Columns:
    cols = empty_columns(CONVERSATION_COLUMNS)
    for s in states:
        cols["conversation_id"].append(s["conversation_id"])
        cols["channel"].append(s["channel"])
        cols["language"].append(s["language"])
        cols["customer_id"].append(s["customer_id"])
        cols["status"].append(s["status"])
        cols["first_event_at"].append(s["first_event_at"])
        cols["last_event_at"].append(s["last_event_at"])
        cols["events"].append(s["events"])
        cols["messages"].append(s["messages"])
        cols["customer_messages"].append(s["customer_messages"])
        cols["sentiment_mean"].append(sentiment_mean(s))
        cols["last_sentiment"].append(s["last_sentiment"])
        cols["min_sentiment"].append(s["min_sentiment"])
        cols["_topic"].append(s["topic"])
        cols["_partition"].append(s["partition"])
        cols["_offset"].append(s["offset"])
        cols["_version"].append(s["offset"])
    return cols


def insight_record(state: ConversationState, now_ms: int) -> OutputRecord:
    """The compacted ``conversation.insights`` record of a conversation."""
    return OutputRecord(
        topic=topics.CONVERSATION_INSIGHTS,
        key=state["conversation_id"],
        value={
            "conversation_id": state["conversation_id"],
            "channel": state["channel"],
            "language": state["language"],
            "customer_id": state["customer_id"],
            "status": state["status"],
            "first_event_at": state["first_event_at"],
            "last_event_at": state["last_event_at"],
            "events": state["events"],
            "messages": state["messages"],
            "customer_messages": state["customer_messages"],
            "sentiment_mean": sentiment_mean(state),
            "last_sentiment": state["last_sentiment"],
            "min_sentiment": state["min_sentiment"],
            "source_partition": state["partition"],
            "source_offset": state["offset"],
            "updated_at": now_ms,
        },
    )
