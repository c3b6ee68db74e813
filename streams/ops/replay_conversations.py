"""Replay of chat events through the conversation stage, without Kafka: what the worker would
decide (intent, team, language, escalations) for each conversation of a JSON-lines file.

Invariants:
- the events go through exactly what the worker runs: each is encoded with the topic's Avro
  schema (local schema ids), decoded, validated and computed by ``streams.kernel.stage.compute``
  over ``streams.conversation.stage.stage``, in batches, with the tables held in a dict;
- events keep the file's order (the order of one Kafka partition): offset ``i`` is the
  ``i``-th event of the file, all on partition 0;
- an escalation's ``event_id`` is the event whose offset the escalation carries (the message
  that triggered it); ``messages`` lists the customer messages with their signals, computed by
  the same batch functions the stage calls (``intelligence.signals_for``);
- an event that does not fit the schema or breaks the contract is reported in ``rejected``
  with its line number and reason, never silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from streams.contract.codec import AvroCodec, LocalSchemas
from streams.contract.manifest import load_topics
from streams.conversation import contract as names
from streams.conversation import escalation as rules
from streams.conversation import rollup
from streams.conversation import stage as conversation
from streams.conversation.intelligence import signals_for
from streams.kernel.records import Raw
from streams.kernel.stage import Changes, Value, compute

TOPIC: Final = names.CHAT_EVENTS
BATCH: Final = 500
#: inactivity timeout and retention of the replay's stage: long enough never to fire
_FOREVER: Final = 10 ** 15


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int  # 1-based line of the input
    reason: str


@dataclass(slots=True)
class Replay:
    """One JSON object per conversation (in order of first appearance) and the rejects."""

    conversations: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def _event(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A chat event as JSON states it, with the schema's optional fields filled in and the
    metadata values as strings (``customer_value`` may be written as a number)."""
    event = dict(raw)
    customer = dict(event.get("customer") or {})
    for name in ("customer_id", "email", "phone", "anonymous_id"):
        customer.setdefault(name, None)
    event["customer"] = customer
    event["metadata"] = {str(k): v if isinstance(v, str) else json.dumps(v)
                         for k, v in (event.get("metadata") or {}).items()}
    for name in ("sender_id", "text", "language"):
        event.setdefault(name, None)
    return event


def parse(lines: Iterable[str]) -> tuple[list[tuple[int, dict[str, Any]]], list[Rejected]]:
    """(line number, event) of each non-blank line; lines that are no JSON object rejected."""
    events: list[tuple[int, dict[str, Any]]] = []
    rejected: list[Rejected] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            rejected.append(Rejected(number, f"not JSON: {exc}"))
            continue
        if not isinstance(value, dict):
            rejected.append(Rejected(number, "not a JSON object"))
            continue
        events.append((number, _event(value)))
    return events, rejected


class _Memory:
    """The stage's tables, as the runtime keeps them, in a dict."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Value]] = {}

    def lookup(self, table: str, key: str) -> Value | None:
        return self.tables.get(table, {}).get(key)

    def apply(self, changes: Changes) -> None:
        for table, changed in changes.items():
            for key, (_, value) in changed.items():
                if value is None:
                    self.tables.get(table, {}).pop(key, None)
                else:
                    self.tables.setdefault(table, {})[key] = value


def replay(lines: Iterable[str], policy: rules.EscalationPolicy = rules.DEFAULT_POLICY,
           batch: int = BATCH) -> Replay:
    """Run the chat events of ``lines`` (JSON, one event a line) through the conversation
    stage; returns one summary per conversation."""
    parsed, rejected = parse(lines)
    codec = AvroCodec(LocalSchemas(load_topics()))
    stage_policy = conversation.ConversationPolicy(
        source_topic=TOPIC, inactivity_ms=_FOREVER, retain_ms=_FOREVER, timer_interval=1.0,
        escalation=policy)
    stage = conversation.stage(stage_policy)
    inputs = {i.topic: i for i in stage.inputs}
    decoders = {TOPIC: codec.decoder(TOPIC)}
    memory = _Memory()
    raws: list[Raw] = []
    line_of: dict[int, int] = {}
    for number, event in parsed:
        try:
            encoded = codec.encode(TOPIC, event)
        except ValueError as exc:
            rejected.append(Rejected(number, str(exc)))
            continue
        offset = len(raws)
        line_of[offset] = number
        key = event.get("conversation_id")
        raws.append(Raw(TOPIC, 0, offset, int(event.get("occurred_at") or 0),
                        str(key).encode() if key is not None else None, encoded))
    event_ids: dict[int, str] = {}
    order: dict[str, None] = {}
    escalations: dict[str, list[dict[str, Any]]] = {}
    messages: dict[str, list[dict[str, Any]]] = {}
    for lo in range(0, len(raws), batch):
        chunk = raws[lo:lo + batch]
        now = max(r.timestamp_ms for r in chunk)
        computed = compute(stage, chunk, decoders, inputs, memory.lookup, lambda t: t + ".dlq",
                           now)
        memory.apply(computed.outcome.changes)
        rejected.extend(Rejected(line_of[d.raw.offset], f"{d.error}: {d.reason}")
                        for d in computed.dead)
        dead = {d.raw.offset for d in computed.dead}
        good = [r for r in chunk if r.offset not in dead]
        values = [v for v in decoders[TOPIC]([r.value for r in good])
                  if isinstance(v, dict)]
        for raw, value in zip(good, values, strict=True):
            event_ids[raw.offset] = value["event_id"]
            order.setdefault(value["conversation_id"], None)
        _messages(values, messages)
        for output in computed.outcome.result.outputs:
            if output.topic == names.ESCALATIONS:
                e = output.value
                escalations.setdefault(e["conversation_id"], []).append({
                    "event_id": event_ids.get(e["source_offset"]),
                    "reasons": list(e["reasons"]), "team": e["team"],
                    "priority": e["priority"]})
    records = memory.tables.get(conversation.RECORDS, {})
    out = Replay(rejected=sorted(rejected, key=lambda r: r.line))
    for cid in order:
        record = records.get(cid)
        if record is None:
            continue
        out.conversations.append(summary(record, escalations.get(cid, []),
                                         messages.get(cid, []), policy))
    return out


def _messages(values: Sequence[dict[str, Any]], into: dict[str, list[dict[str, Any]]]) -> None:
    """The signals of the customer messages of a batch, as the stage computes them."""
    sentiments = rollup.message_sentiments(values)
    for value, signal in zip(values, signals_for(values, sentiments), strict=True):
        if signal is None or value["sender_role"] != "CUSTOMER":
            continue
        prediction = signal.intent
        into.setdefault(value["conversation_id"], []).append({
            "event_id": value["event_id"],
            "intent": prediction.intent if prediction is not None else None,
            "intent_confidence": prediction.confidence if prediction is not None else None,
            "language": signal.language, "sentiment": round(signal.compound, 4)})


def summary(record: Value, escalations: list[dict[str, Any]],
            messages: list[dict[str, Any]],
            policy: rules.EscalationPolicy = rules.DEFAULT_POLICY) -> dict[str, Any]:
    """The replay's line for one conversation record."""
    tier = rules.value_tier(record.get("customer_value"), policy)
    return {
        "conversation_id": record["conversation_id"], "intent": record.get("intent"),
        "intent_confidence": record.get("intent_confidence"),
        "team": rules.conversation_team(record, tier, policy),
        "language": record.get("language") or None, "escalations": escalations,
        "messages": messages,
    }


def dumps(conversation_summary: Mapping[str, Any]) -> str:
    return json.dumps(conversation_summary, ensure_ascii=False, sort_keys=False)
