"""The processing steps of each slice, from raw Kafka messages to a ``BatchResult``.

A batch is decoded and validated message by message (a bad one becomes a dead letter and the
rest go on), then processed as a whole: sentiment is scored for all texts at once, state is
folded once per key, and each table gets one set of columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streams import ads, chat, topics
from streams.batch import BatchResult, Raw
from streams.codec import AvroCodec
from streams.deadletter import DeadLetter, dead_letter, dead_letter_columns
from streams.errors import InvalidMessage

Validator = Callable[[Raw, Mapping[str, Any]], None]


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


def process_chat(
    codec: AvroCodec,
    raws: Sequence[Raw],
    load_state: Callable[[str], chat.ConversationState | None],
    dlq_topic: str,
    now_ms: int,
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
    return ChatBatch(result=result, states=changed, dead=decoded.dead)


@dataclass(slots=True)
class AdsBatch:
    result: BatchResult
    dead: list[DeadLetter]


def process_ads(
    codec: AvroCodec, raws: Sequence[Raw], dlq_topic: str, now_ms: int
) -> AdsBatch:
    decoded = decode_batch(codec, topics.AD_METRICS, raws, ads.validate, dlq_topic, now_ms)
    result = BatchResult(processed=len(decoded.values), dead=len(decoded.dead))
    kpis = ads.kpi_columns(decoded.raws, decoded.values)
    result.inserts["campaign_kpis"] = kpis
    result.inserts["dead_letters"] = dead_letter_columns(decoded.dead)
    result.outputs = ads.kpi_records(kpis)
    return AdsBatch(result=result, dead=decoded.dead)
