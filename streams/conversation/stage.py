"""The conversation domain's stage: what the runtime runs for ``chat.events``.

One table holds each conversation's record (lifecycle, rollup counters, emotional journey,
escalation episodes), keyed by conversation id and positioned (it carries the offset of the
last event it absorbed); a second holds pending follow-up tasks until they fall due. The
step scores a batch's messages at once (sentiment, emotions, intent, language) and folds
them into the records; one timer ends conversations silent for the inactivity timeout, a
second emits follow-ups that fell due. A record closed and silent for the retention period
leaves the table (its rows in ClickHouse stay).

A chat event whose ``event_id`` its conversation's record already absorbed at another offset
(a producer duplicate) is neither folded nor given a ``chat_events`` row, and is counted in
``BatchResult.duplicates`` (``events.duplicates``), never dead-lettered. The window is the
record's life: the conversation and the retention period after it closed; past it,
``chat_events`` (ordered by ``(conversation_id, event_id)``) still collapses the row.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from streams.conversation import contract as names
from streams.conversation import rollup
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.conversation.intelligence import Intelligence, due_follow_ups, expire_idle, understand
from streams.conversation.state import ConversationRecord
from streams.kernel.records import BatchResult
from streams.kernel.stage import (
    Changes,
    Events,
    Input,
    Lookup,
    Outcome,
    Stage,
    Table,
    Timer,
    Value,
)

NAME: Final = "chat_events"
RECORDS: Final = names.CONVERSATION_STATES_TABLE  # the worker's table, named as its rows
FOLLOW_UPS: Final = "follow_ups"
#: statuses of a conversation the inactivity timeout may still end
OPEN: Final = frozenset({"open", "handoff"})


@dataclass(frozen=True, slots=True)
class ConversationPolicy:
    """How the stage behaves, from the settings."""

    source_topic: str  # the physical name of chat.events, for the rows timers make
    inactivity_ms: int
    retain_ms: int
    timer_interval: float
    escalation: EscalationPolicy = DEFAULT_POLICY
    max_future_ms: int = rollup.MAX_FUTURE_MS


def is_open(record: Value) -> bool:
    return record.get("status") in OPEN


def stage(policy: ConversationPolicy) -> Stage:
    return Stage(
        name=NAME,
        inputs=(Input(names.CHAT_EVENTS, functools.partial(
            rollup.validate, max_future_ms=policy.max_future_ms)),),
        step=functools.partial(step, policy),
        tables=(
            Table(RECORDS, positioned=True, index=is_open, retain_ms=policy.retain_ms,
                  closed=lambda record: not is_open(record)),
            Table(FOLLOW_UPS),
        ),
        timers=(
            Timer("chat_timeouts", policy.timer_interval, RECORDS,
                  functools.partial(time_out, policy), indexed=True),
            Timer("chat_follow_ups", policy.timer_interval, FOLLOW_UPS, fall_due),
        ),
        sunk=(names.CHAT_EVENTS_TABLE, names.CONVERSATIONS_TABLE, RECORDS),
    )


def step(policy: ConversationPolicy, events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    """A batch of chat events: their rows with sentiment, the records they change, and what
    that triggers (escalations, tasks, lead signals, insights)."""
    sentiments = rollup.message_sentiments(events.values)
    source = events.raws[0].topic if events.raws else policy.source_topic

    def load(key: str) -> ConversationRecord | None:
        value: Any = lookup(RECORDS, key)
        return value  # type: ignore[no-any-return]

    smart = understand(events.raws, events.values, sentiments, load, source, policy.escalation,
                       now_ms)
    raws, values = events.raws, events.values
    if smart.duplicates:  # a producer duplicate gets no second row
        dropped = set(smart.duplicates)
        kept = [i for i in range(len(raws)) if i not in dropped]
        raws, values = [raws[i] for i in kept], [values[i] for i in kept]
        sentiments = [sentiments[i] for i in kept]
    result = BatchResult(inserts={
        names.CHAT_EVENTS_TABLE: rollup.event_columns(raws, values, sentiments),
        **smart.inserts,
    }, outputs=smart.outputs, duplicates=len(smart.duplicates))
    return Outcome(result, _changes(smart))


def time_out(policy: ConversationPolicy, entries: Sequence[tuple[str, Value]],
             now_ms: int) -> Outcome:
    """End the open conversations silent for the inactivity timeout."""
    idle: list[Any] = sorted((record for _, record in entries), key=lambda r: r["offset"])
    expired = expire_idle(idle, now_ms, policy.inactivity_ms, policy.escalation,
                          policy.source_topic)
    return Outcome(BatchResult(inserts=expired.inserts), _changes(expired))


def fall_due(entries: Sequence[tuple[str, Value]], now_ms: int) -> Outcome:
    """Emit the follow-up tasks that fell due (``crm.tasks`` and ``crm_tasks``), once."""
    pending = dict(entries)
    due, rows = due_follow_ups(pending, now_ms)
    changes: Changes = {FOLLOW_UPS: {r.key: (pending[r.key]["partition"], None) for r in due}}
    return Outcome(BatchResult(inserts={names.CRM_TASKS_TABLE: rows}, outputs=due), changes)


def _changes(smart: Intelligence) -> Changes:
    """The records a fold changed, and the follow-ups it scheduled or cancelled (stored with
    their conversation's partition: the record may leave the table before one falls due)."""
    records: dict[str, tuple[int, Value | None]] = {
        key: (record["partition"], cast(Value, record)) for key, record in smart.records.items()}
    follow_ups: dict[str, tuple[int, Value | None]] = {
        key: (records[key][0], value) for key, value in smart.follow_ups.items()}
    return {RECORDS: records, FOLLOW_UPS: follow_ups}
