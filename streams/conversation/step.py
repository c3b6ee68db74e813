"""The conversation domain's processing step: a batch of raw ``chat.events`` messages to
sentiment, rollups and conversation intelligence, with its rows, outputs and dead letters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streams.conversation import rollup as chat
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.conversation.intelligence import understand
from streams.conversation.state import ConversationRecord
from streams.kernel.deadletter import DeadLetter, dead_letter_columns
from streams.kernel.records import BatchResult, Raw
from streams.kernel.step import Decode, decode_batch, one_by_one


@dataclass(slots=True)
class ChatBatch:
    result: BatchResult
    states: dict[str, chat.ConversationState]
    dead: list[DeadLetter]
    records: dict[str, ConversationRecord] = field(default_factory=dict)
    follow_ups: dict[str, dict[str, Any] | None] = field(default_factory=dict)


LoadRecord = Callable[[str], "ConversationRecord | None"]


def process_chat(
    decode: Decode,
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
        return _process_chat(decode, raws, load_state, dlq_topic, now_ms, load_record,
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

    return one_by_one(
        out, raws,
        lambda raw: _process_chat(decode, [raw], load, dlq_topic, now_ms, load_rec,
                                  physical_topic, policy),
        dlq_topic, now_ms, absorb)


def _process_chat(
    decode: Decode,
    raws: Sequence[Raw],
    load_state: Callable[[str], chat.ConversationState | None],
    dlq_topic: str,
    now_ms: int,
    load_record: LoadRecord | None,
    physical_topic: Callable[[str], str],
    policy: EscalationPolicy,
) -> ChatBatch:
    decoded = decode_batch(decode, raws, chat.validate, dlq_topic, now_ms)
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


