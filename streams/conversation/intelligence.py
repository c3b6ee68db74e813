"""Conversation intelligence for a batch of chat events: emotions, intent and language of
each message (scored as one batch), the rich per-conversation record, and what it triggers
(escalations with their CRM task, lead signals).

Pure and synchronous; the chat agent runs it after the per-message sentiment step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from streams.conversation import contract as topics
from streams.conversation import records as crecords
from streams.conversation import rollup
from streams.conversation import state as cstate
from streams.conversation.effects import CancelFollowUp, Effect, Escalate, ScheduleFollowUp
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.kernel.records import Columns, OutputRecord, Raw
from streams.text import cues as textcues
from streams.text import discontent, emotion, language, mood, unhelped
from streams.text.intent import INTENT_HASHING, IntentPrediction, default_model
from streams.text.sentiment import Sentiment

Record = cstate.ConversationRecord


@dataclass(slots=True)
class Intelligence:
    records: dict[str, Record] = field(default_factory=dict)  # changed, latest per key
    effects: list[Effect] = field(default_factory=list)
    outputs: list[OutputRecord] = field(default_factory=list)
    inserts: dict[str, Columns] = field(default_factory=dict)
    #: pending follow-up task per conversation: its crm.tasks value (None: cancelled)
    follow_ups: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    #: positions in the batch of the events that were producer duplicates (not folded)
    duplicates: list[int] = field(default_factory=list)


def pending_follow_ups(effects: Sequence[Effect]) -> dict[str, dict[str, Any] | None]:
    """Follow-ups scheduled or cancelled by these effects, latest per conversation."""
    out: dict[str, dict[str, Any] | None] = {}
    for effect in effects:
        if isinstance(effect, ScheduleFollowUp):
            out[effect.conversation_id] = crecords.follow_up_task(effect).value
        elif isinstance(effect, CancelFollowUp):
            out[effect.conversation_id] = None
    return out


def expire_idle(
    records: Sequence[Record], now_ms: int, inactivity_ms: int,
    policy: EscalationPolicy = DEFAULT_POLICY, source: str = topics.CHAT_EVENTS,
) -> Intelligence:
    """Time out conversations silent for ``inactivity_ms``; may schedule follow-ups."""
    out = Intelligence()
    for record in records:
        after, effects = cstate.expire(record, now_ms, inactivity_ms, policy)
        if after is not record:
            out.records[after["conversation_id"]] = after
            out.effects.extend(effects)
    out.follow_ups = pending_follow_ups(out.effects)
    out.inserts[topics.CONVERSATION_STATES_TABLE] = crecords.state_columns(
        list(out.records.values()), source
    )
    return out


def due_follow_ups(
    pending: Mapping[str, dict[str, Any]], now_ms: int
) -> tuple[list[OutputRecord], Columns]:
    """The follow-up tasks that fell due: records for ``crm.tasks`` and ``crm_tasks`` rows.
    A stored value also carries its key's ``partition`` (set by the runtime), which is not a
    field of the task."""
    due = [{k: v for k, v in value.items() if k != "partition"}
           for value in pending.values() if value["due_at"] <= now_ms]
    records = [OutputRecord(topics.CRM_TASKS, v["conversation_id"], v) for v in due]
    return records, crecords.task_columns(due)


#: the confidence of a message's intent when the customer explicitly asks for a person
PERSON_CONFIDENCE: Final = 0.8


def _asked_for_person(prediction: IntentPrediction) -> IntentPrediction:
    """A message in which the customer explicitly asks for a person is ``human_request``
    whatever else it says (LABELS.md, rule 1 of the labels); the model's scores stay, so
    that the task it read besides the request can name the team
    (``escalation.message_topic``)."""
    if prediction.intent == "human_request":
        return prediction
    return IntentPrediction("human_request", max(prediction.confidence, PERSON_CONFIDENCE),
                            prediction.scores)


def signals_for(
    events: Sequence[Mapping[str, Any]], sentiments: Sequence[Sentiment | None]
) -> list[cstate.MessageSignals | None]:
    """Signals of every MESSAGE event (None for lifecycle events): the sentiment of every
    message; emotions, intent and language of the customer's (the fold reads no more of
    the bot's and the agents' messages), with the cues of the customer's. A customer message
    in es, fr, de or pt carries the mood of ``streams.text.mood`` as its compound, an English
    one VADER's."""
    index = [i for i, e in enumerate(events) if e["event_type"] == "MESSAGE"]
    customer = [i for i in index if events[i]["sender_role"] == "CUSTOMER"]
    texts = [events[i]["text"] for i in customer]
    languages = language.detect_many(texts) if texts else []
    # VADER reads English only: the customer's mood in es/fr/de/pt comes from their lexicons
    compounds = mood.compounds(
        texts, [lang for lang, _ in languages],
        [s.compound if (s := sentiments[i]) is not None else 0.0 for i in customer])
    emotions = emotion.detect_many(texts, compounds) if texts else []
    found = [textcues.found(t) for t in texts]
    # a request for a person, read by the emotion detector or by the cues the escalation
    # rules read (a salesperson or adviser asked to call), is the message's intent
    model = default_model()
    # the discontent model reads the intent model's features: hashed once for both
    groups = (INTENT_HASHING.feature_groups(texts)
              if texts and model.hashing == INTENT_HASHING else None)
    intents = [_asked_for_person(p) if e.human_request or "person" in f else p
               for p, e, f in zip(model.predict_many(texts, groups) if texts else [],
                                  emotions, found, strict=True)]
    discontents = discontent.scores(texts, groups)
    unhelpeds = unhelped.scores(texts, groups)
    out: list[cstate.MessageSignals | None] = [None] * len(events)
    for i, compound, emotions_of, prediction, (lang, _), cues_of, sunk, missed in zip(
            customer, compounds, emotions, intents, languages, found, discontents,
            unhelpeds, strict=True):
        out[i] = cstate.MessageSignals(compound=compound, emotions=emotions_of,
                                       intent=prediction, language=lang, cues=cues_of,
                                       discontent=sunk, unhelped=missed)
    for i in index:
        if out[i] is None:  # the bot's and the agents'
            s = sentiments[i]
            out[i] = cstate.MessageSignals(compound=s.compound if s is not None else 0.0)
    return out


def understand(
    raws: Sequence[Raw],
    events: Sequence[Mapping[str, Any]],
    sentiments: Sequence[Sentiment | None],
    load: Callable[[str], Record | None],
    source: str = topics.CHAT_EVENTS,
    policy: EscalationPolicy = DEFAULT_POLICY,
    now_ms: int = 0,
) -> Intelligence:
    """Fold a batch into the conversation records; returns changes, effects, rows (of
    ``escalations``, ``crm_tasks``, ``conversation_states`` and ``conversations``) and output
    records (``source``: the physical input topic, for the rows' positions). An event whose
    id the conversation already absorbed at another offset is not folded; its position in
    the batch is listed in ``duplicates``."""
    signals = signals_for(events, sentiments)
    out = Intelligence()
    for i, (raw, event, signal) in enumerate(zip(raws, events, signals, strict=True)):
        cid = event["conversation_id"]
        before = out.records[cid] if cid in out.records else load(cid)
        if cstate.duplicate(before, event, raw.offset):
            out.duplicates.append(i)
            continue
        after, effects = cstate.fold(before, event, raw.partition, raw.offset, signal, policy)
        if after is not before:
            out.records[cid] = after
        out.effects.extend(effects)
    changed = list(out.records.values())
    out.outputs = crecords.records_for(out.effects)
    out.outputs.extend(rollup.insight_record(record, now_ms) for record in changed)
    out.follow_ups = pending_follow_ups(out.effects)
    escalations = [e for e in out.effects if isinstance(e, Escalate)]
    out.inserts[topics.ESCALATIONS_TABLE] = crecords.escalation_columns(escalations, source)
    out.inserts[topics.CRM_TASKS_TABLE] = crecords.task_columns(
        [r.value for r in out.outputs if r.topic == topics.CRM_TASKS]
    )
    out.inserts[topics.CONVERSATION_STATES_TABLE] = crecords.state_columns(changed, source)
    out.inserts[topics.CONVERSATIONS_TABLE] = rollup.conversation_columns(changed, source)
    return out
