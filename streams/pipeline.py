"""The processing steps of each slice, from raw Kafka messages to a ``BatchResult``.

A batch is decoded and validated message by message (a bad one becomes a dead letter and the
rest go on), then processed as a whole: sentiment is scored for all texts at once, state is
folded once per key, and each table gets one set of columns.

If processing a whole batch raises, the batch is processed again one message at a time, so
that the message that makes it fail (a poison message) is dead-lettered with the error as its
reason and every other message still goes through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from streams import ads, chat, topics
from streams.batch import BatchResult, Raw, empty_columns
from streams.codec import AvroCodec
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.conversation.state import ConversationRecord
from streams.deadletter import DeadLetter, dead_letter, dead_letter_columns
from streams.errors import InvalidMessage
from streams.intelligence import understand

Validator = Callable[[Raw, Mapping[str, Any]], None]

log = logging.getLogger(__name__)


def _poison(raw: Raw, exc: Exception, dlq_topic: str, now_ms: int) -> DeadLetter:
    log.exception("processing %s[%d]@%d failed", raw.topic, raw.partition, raw.offset,
                  exc_info=exc)
    return dead_letter(
        raw, InvalidMessage("processing_failed", f"{type(exc).__name__}: {exc}"), dlq_topic,
        now_ms,
    )


def _merge(into: BatchResult, part: BatchResult) -> None:
    for table, cols in part.inserts.items():
        target = into.inserts.setdefault(table, empty_columns(list(cols)))
        for name, values in cols.items():
            target[name].extend(values)
    into.outputs.extend(part.outputs)
    into.processed += part.processed
    into.dead += part.dead


class _Batch(Protocol):
    result: BatchResult
    dead: list[DeadLetter]


B = TypeVar("B", bound=_Batch)


def _one_by_one(out: B, raws: Sequence[Raw], step: Callable[[Raw], B], dlq_topic: str,
                now_ms: int, absorb: Callable[[B], None] | None = None) -> B:
    """After a batch failed: ``step`` each message on its own into ``out``; a message whose
    step raises is dead-lettered as poison, the others are merged (``absorb`` carries their
    state forward)."""
    for raw in raws:
        try:
            one = step(raw)
        except Exception as exc:
            letter = _poison(raw, exc, dlq_topic, now_ms)
            poisoned = BatchResult(dead=1)
            poisoned.inserts["dead_letters"] = dead_letter_columns([letter])
            _merge(out.result, poisoned)
            out.dead.append(letter)
            continue
        _merge(out.result, one.result)
        if absorb is not None:
            absorb(one)
        out.dead.extend(one.dead)
    return out


@dataclass(slots=True)
class Decoded:
    raws: list[Raw] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


def decode_batch(
    codec: AvroCodec,
    logical_topic: str,
    raws: Sequence[Raw],
    validate: Validator,
    dlq_topic: str,
    now_ms: int,
) -> Decoded:
    out = Decoded()
    decoded = codec.decode_many(logical_topic, [raw.value for raw in raws])
    for raw, value in zip(raws, decoded, strict=True):
        try:
            if isinstance(value, InvalidMessage):
                raise value
            validate(raw, value)
        except InvalidMessage as exc:
            out.dead.append(dead_letter(raw, exc, dlq_topic, now_ms))
            continue
        out.raws.append(raw)
        out.values.append(value)
    return out


@dataclass(slots=True)
class ChatBatch:
    result: BatchResult
    states: dict[str, chat.ConversationState]
    dead: list[DeadLetter]
    records: dict[str, ConversationRecord] = field(default_factory=dict)
    follow_ups: dict[str, dict[str, Any] | None] = field(default_factory=dict)


LoadRecord = Callable[[str], "ConversationRecord | None"]


def process_chat(
    codec: AvroCodec,
    raws: Sequence[Raw],
    load_state: Callable[[str], chat.ConversationState | None],
    dlq_topic: str,
    now_ms: int,
    load_record: LoadRecord | None = None,
    physical_topic: Callable[[str], str] = str,
    policy: EscalationPolicy = DEFAULT_POLICY,
) -> ChatBatch:
    """``load_record`` (the conversation-intelligence table) turns on emotions, intent,
    escalations and lead signals; without it only sentiment and the rollup are computed."""
    try:
        return _process_chat(codec, raws, load_state, dlq_topic, now_ms, load_record,
                             physical_topic, policy)
    except Exception:  # isolate the message that fails, below
        pass
    # one at a time, carrying the state changes forward
    out = ChatBatch(result=BatchResult(), states={}, dead=[])

    def load(key: str) -> chat.ConversationState | None:
        return out.states[key] if key in out.states else load_state(key)

    load_rec: LoadRecord | None = None
    if load_record is not None:
        def load_rec(key: str) -> ConversationRecord | None:
            return out.records[key] if key in out.records else load_record(key)

    def absorb(one: ChatBatch) -> None:
        out.states.update(one.states)
        out.records.update(one.records)
        out.follow_ups.update(one.follow_ups)

    return _one_by_one(
        out, raws,
        lambda raw: _process_chat(codec, [raw], load, dlq_topic, now_ms, load_rec,
                                  physical_topic, policy),
        dlq_topic, now_ms, absorb)


def _process_chat(
    codec: AvroCodec,
    raws: Sequence[Raw],
    load_state: Callable[[str], chat.ConversationState | None],
    dlq_topic: str,
    now_ms: int,
    load_record: LoadRecord | None,
    physical_topic: Callable[[str], str],
    policy: EscalationPolicy,
) -> ChatBatch:
    decoded = decode_batch(codec, topics.CHAT_EVENTS, raws, chat.validate, dlq_topic, now_ms)
    sentiments = chat.message_sentiments(decoded.values)
    keys = {v["conversation_id"] for v in decoded.values}
    before = {key: load_state(key) for key in keys}
    changed = chat.fold_batch(before, decoded.raws, decoded.values, sentiments)
    result = BatchResult(processed=len(decoded.values), dead=len(decoded.dead))
    result.inserts["chat_events"] = chat.event_columns(decoded.raws, decoded.values, sentiments)
    result.inserts["conversations"] = chat.conversation_columns(list(changed.values()))
    result.inserts["dead_letters"] = dead_letter_columns(decoded.dead)
    result.outputs = [chat.insight_record(state, now_ms) for state in changed.values()]
    batch = ChatBatch(result=result, states=changed, dead=decoded.dead)
    if load_record is not None:
        smart = understand(decoded.raws, decoded.values, sentiments, load_record, physical_topic,
                           policy)
        result.inserts.update(smart.inserts)
        result.outputs.extend(smart.outputs)
        batch.records = smart.records
        batch.follow_ups = smart.follow_ups
    return batch


@dataclass(slots=True)
class AdsBatch:
    result: BatchResult
    dead: list[DeadLetter]


def process_ads(
    codec: AvroCodec, raws: Sequence[Raw], dlq_topic: str, now_ms: int
) -> AdsBatch:
    try:
        return _process_ads(codec, raws, dlq_topic, now_ms)
    except Exception:  # isolate the message that fails, below
        pass
    return _one_by_one(AdsBatch(result=BatchResult(), dead=[]), raws,
                       lambda raw: _process_ads(codec, [raw], dlq_topic, now_ms),
                       dlq_topic, now_ms)


def _process_ads(
    codec: AvroCodec, raws: Sequence[Raw], dlq_topic: str, now_ms: int
) -> AdsBatch:
    decoded = decode_batch(codec, topics.AD_METRICS, raws, ads.validate, dlq_topic, now_ms)
    result = BatchResult(processed=len(decoded.values), dead=len(decoded.dead))
    kpis = ads.kpi_columns(decoded.raws, decoded.values)
    result.inserts["campaign_kpis"] = kpis
    result.inserts["dead_letters"] = dead_letter_columns(decoded.dead)
    result.outputs = ads.kpi_records(kpis)
    return AdsBatch(result=result, dead=decoded.dead)
