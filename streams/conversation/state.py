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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NotRequired, Protocol, TypedDict

from streams.conversation import escalation as rules
from streams.conversation import journey as journeys
from streams.conversation import loops
from streams.conversation import rollup as rollups
from streams.conversation.effects import (
    CancelFollowUp,
    Effect,
    Escalate,
    LeadSignal,
    Message,
    ScheduleFollowUp,
)
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.conversation.journey import Journey
from streams.text import cues as textcues

RECENT_MESSAGES: Final = 6
TEXT_LIMIT: Final = 280
STATUSES: Final = ("open", "handoff", "ended", "timed_out")
RESOLUTIONS: Final = ("resolved", "unresolved", "unknown")
_ROLES: Final = {"CUSTOMER": "customer", "BOT": "bot", "AGENT": "agent", "SYSTEM": "system"}
_ID_FIELDS: Final = ("customer_id", "email", "phone", "anonymous_id")


class EmotionSignals(Protocol):
    """What the fold reads of ``streams.text.emotion.Emotions``."""

    @property
    def frustration(self) -> float: ...
    @property
    def anger(self) -> float: ...
    @property
    def confusion(self) -> float: ...
    @property
    def urgency(self) -> float: ...
    @property
    def satisfaction(self) -> float: ...
    @property
    def human_request(self) -> bool: ...


class IntentSignal(Protocol):
    """What the fold reads of ``streams.text.intent.IntentPrediction``."""

    @property
    def intent(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def scores(self) -> Mapping[str, float]: ...


@dataclass(frozen=True, slots=True)
class MessageSignals:
    """Scores of one MESSAGE event, computed in batch before the fold."""

    compound: float
    emotions: EmotionSignals | None = None
    intent: IntentSignal | None = None
    language: str | None = None


class EscalationBook(TypedDict):
    episode: int  # episodes opened so far; the current or last one
    phase: str  # idle | open (escalated, waiting for a human) | with_human
    opened_at: int | None
    reasons: list[str]  # of the current or last episode
    suppressed: int  # rule firings ignored while an episode was open
    # evidence since the window (re)started: at the start and whenever a human hands back
    window_messages: int
    repeats: int
    fallbacks: int
    confused: int
    best_confidence: float | None
    # bot loops: the customer said the bot did not help; the bot repeated an answer after
    # that; the customer pushed back on the bot's last answer (``loops.pushback``) since it
    # (absent from records written before; ``bot_tokens``, the words of the bot's last
    # answer, is no longer written: the previous answer is read from ``recent``)
    unhelped: NotRequired[int]
    bot_repeats: NotRequired[int]
    bot_tokens: NotRequired[list[str]]
    pushed: NotRequired[bool]
    pushbacks: NotRequired[int]  # replies that pushed back, in words or not
    # bot answers that shared no subject with the recent messages (``loops``)
    off_topic: NotRequired[int]
    # the customer asked for their personal data (a request that may become overdue)
    data_request: NotRequired[bool]


class ConversationRecord(TypedDict):
    """Per-conversation state kept in the worker's table (JSON-serialisable)."""

    conversation_id: str
    channel: str
    language: str
    customer_id: str  # CRM id, else email, phone or anonymous id
    identifiers: dict[str, str]
    bots: list[str]
    agents: list[str]
    status: str  # open | handoff | ended | timed_out
    started_at: int
    first_customer_at: int | None
    first_response_at: int | None  # first bot/agent message after the first customer one
    first_response_ms: int | None
    last_event_at: int
    last_customer_at: int | None
    last_role: str
    ended_at: int | None
    duration_ms: int | None
    events: int
    messages: int
    customer_messages: int
    bot_turns: int
    agent_turns: int
    handoff: bool
    handoffs: int
    handoff_at: int | None
    resolution: str  # resolved | unresolved | unknown
    customer_value: float | None
    intent: str | None
    intent_confidence: float | None
    topic: NotRequired[str | None]  # the team the topic names (escalation.message_topic)
    last_satisfaction: float | None
    journey: Journey
    escalation: EscalationBook
    escalations: int
    follow_up_id: str | None
    follow_up_due_at: int | None
    lead_signaled: bool
    recent: list[Message]
    last_tokens: list[str]
    rollup: rollups.Rollup
    partition: int
    offset: int
    #: event id -> offset it was absorbed at, for every event folded (producer duplicates)
    event_ids: NotRequired[dict[str, int]]


def _empty_book() -> EscalationBook:
    return EscalationBook(episode=0, phase="idle", opened_at=None, reasons=[], suppressed=0,
                          window_messages=0, repeats=0, fallbacks=0, confused=0,
                          best_confidence=None, unhelped=0, bot_repeats=0, off_topic=0,
                          pushed=False, pushbacks=0)


def new_record(event: Mapping[str, Any], partition: int) -> ConversationRecord:
    at = event["occurred_at"]
    return ConversationRecord(
        conversation_id=event["conversation_id"], channel=event["channel"],
        language=event.get("language") or "", customer_id="", identifiers={}, bots=[],
        agents=[], status="open", started_at=at, first_customer_at=None,
        first_response_at=None, first_response_ms=None, last_event_at=at,
        last_customer_at=None, last_role="", ended_at=None, duration_ms=None, events=0,
        messages=0, customer_messages=0, bot_turns=0, agent_turns=0, handoff=False,
        handoffs=0, handoff_at=None, resolution="unknown", customer_value=None, intent=None,
        intent_confidence=None, topic=None, last_satisfaction=None, journey=journeys.empty(),
        escalation=_empty_book(), escalations=0, follow_up_id=None, follow_up_due_at=None,
        lead_signaled=False, recent=[], last_tokens=[], rollup=rollups.new_rollup(event),
        partition=partition, offset=-1, event_ids={},
    )


def already_seen(record: ConversationRecord | None, partition: int, offset: int) -> bool:
    """True for an event at or before the last one the record absorbed (a redelivery)."""
    return record is not None and record["partition"] == partition and offset <= record["offset"]


def duplicate(record: ConversationRecord | None, event: Mapping[str, Any], offset: int) -> bool:
    """True for an event whose ``event_id`` the record absorbed at another offset: the same
    event produced again (a redelivery of the offset it was absorbed at is not one)."""
    if record is None:
        return False
    absorbed_at = record.get("event_ids", {}).get(event["event_id"])
    return absorbed_at is not None and absorbed_at != offset


def customer_value(metadata: Mapping[str, str] | None) -> float | None:
    """``customer_value`` (else ``ltv``) of the event metadata, when it is a number."""
    if not metadata:
        return None
    raw = metadata.get("customer_value") or metadata.get("ltv")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value else None  # NaN is no value


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
        _reopen(new)
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
        _customer_message(new, event, text, at, signals, policy, effects, partition, offset)
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
        new["escalation"] = _fresh_window(book, "idle")
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
    if book.get("unhelped", 0) or book.get("pushed", False):
        before = new["recent"][:-1]
        if loops.echoes(text, loops.previous_answer(before), policy.bot_repeat_similarity):
            book["bot_repeats"] = book.get("bot_repeats", 0) + 1
            failed = True
        elif book.get("unhelped", 0) and loops.strays(text, before):
            book["off_topic"] = book.get("off_topic", 0) + 1
            failed = True
    book["pushed"] = False
    if failed and book["phase"] == "idle" and new["status"] == "open":
        reason = rules.bot_failure_loop(book["repeats"], book["fallbacks"], book["confused"],
                                        policy, bot_repeats=book.get("bot_repeats", 0),
                                        off_topic=book.get("off_topic", 0))
        if reason is not None:
            effects.append(_escalate(new, (reason,), at, None, False, policy, partition,
                                     offset))


def _customer_message(new: ConversationRecord, event: Mapping[str, Any], text: str, at: int,
                      signals: MessageSignals | None, policy: EscalationPolicy,
                      effects: list[Effect], partition: int, offset: int) -> None:
    new["customer_messages"] += 1
    if new["first_customer_at"] is None:
        new["first_customer_at"] = at
    new["last_customer_at"] = at
    if new["status"] in ("ended", "timed_out"):
        _reopen(new)
    if new["follow_up_id"] is not None:
        effects.append(CancelFollowUp(new["follow_up_id"], new["conversation_id"],
                                      "customer_returned"))
        new["follow_up_id"] = None
        new["follow_up_due_at"] = None
    book = new["escalation"] = new["escalation"].copy()
    book["window_messages"] += 1
    words = rules.tokens(text)
    if (len(words) >= policy.repeat_min_tokens and new["last_tokens"]
            and rules.jaccard(set(words), new["last_tokens"]) >= policy.repeat_similarity):
        book["repeats"] += 1
    new["last_tokens"] = words
    found = textcues.found(text)
    if "not_helped" in found:
        book["unhelped"] = book.get("unhelped", 0) + 1
    # a data-protection request made in an earlier message (one made now is in ``found``)
    asked_before = book.get("data_request", False)
    if "data_request" in found:
        book["data_request"] = True
    if signals is None:
        return
    new["journey"] = journeys.add(new["journey"], at, signals.compound)
    emotions = signals.emotions
    # pushback is a reply to an answer (a first message's "it does not work" is none) from
    # a customer who is not content ("no, it works now, thank you"); "no thanks, I just want
    # to cancel" is one
    if (new["bot_turns"]
            and (emotions is None or emotions.satisfaction < policy.resolved_satisfaction)
            and loops.pushback(text, new["language"], found)):
        book["pushed"] = True
        book["pushbacks"] = book.get("pushbacks", 0) + 1
    if emotions is not None:
        new["last_satisfaction"] = emotions.satisfaction
        if emotions.confusion >= policy.confusion_threshold:
            book["confused"] += 1
    prediction = signals.intent
    if prediction is not None:
        _update_intent(new, prediction, rules.message_topic(
            prediction.intent, found, prediction.scores, policy), policy)
        # a fallback intent ("other", ...) says what the customer does not want: no evidence
        confidence = (0.0 if prediction.intent in policy.fallback_intents
                      else prediction.confidence)
        best = book["best_confidence"]
        if best is None or confidence > best:
            book["best_confidence"] = confidence
        if (not new["lead_signaled"] and prediction.intent in policy.lead_intents
                and prediction.confidence >= policy.lead_confidence):
            new["lead_signaled"] = True
            effects.append(_lead(new, prediction, text, at, signals.compound))
    if book["phase"] != "idle" and new["status"] != "open":
        return
    legal = rules.legal_threat(text, words)
    reasons = _reasons(new, book, signals, legal, found, textcues.shouting(text), policy,
                       asked_before)
    if not reasons:
        return
    if book["phase"] != "idle":
        book["suppressed"] += 1
        return
    effects.append(_escalate(new, reasons, at, signals, legal, policy, partition, offset))


def _reasons(new: ConversationRecord, book: EscalationBook, signals: MessageSignals,
             legal: bool, cues: frozenset[str], shouting: bool, policy: EscalationPolicy,
             asked_for_data: bool) -> tuple[str, ...]:
    emotions, prediction = signals.emotions, signals.intent
    intent = prediction.intent if prediction is not None else None
    confidence = prediction.confidence if prediction is not None else None
    window = book["window_messages"]
    # sentiment counts only where the sentiment model reads the language
    trusted = (signals.language or new["language"] or "en") in policy.sentiment_languages
    compound = signals.compound if trusted else None
    upset = rules.upset_message(intent, cues, shouting, compound, policy,
                                emotions.anger if emotions is not None else 0.0)
    found = (
        rules.human_request((emotions is not None and emotions.human_request)
                            or "person" in cues, intent, confidence, policy),
        (rules.sentiment_worsening(new["journey"], window, policy)
         or rules.mood_decline(new["journey"], window, compound, "distress" in cues, policy)
         if trusted else None)
        or upset,
        rules.bot_failure_loop(book["repeats"], book["fallbacks"], book["confused"], policy,
                               bot_repeats=book.get("bot_repeats", 0),
                               unhelped=book.get("unhelped", 0),
                               off_topic=book.get("off_topic", 0),
                               pushbacks=book.get("pushbacks", 0)),
        rules.vip_negative(rules.value_tier(new["customer_value"], policy), compound,
                           emotions.frustration if emotions is not None else 0.0,
                           emotions.anger if emotions is not None else 0.0, policy,
                           negative_cue=upset is not None or not cues.isdisjoint(
                               ("churn", "repeated", "not_helped"))),
        rules.policy_topic(legal, cues, asked_for_data=asked_for_data),
        rules.low_intent_confidence(
            window, book["best_confidence"],
            (compound or 0.0) >= policy.resolved_compound or (
                emotions is not None and emotions.satisfaction >= policy.resolved_satisfaction),
            policy),
    )
    return tuple(r for r in found if r is not None)


def _escalate(new: ConversationRecord, reasons: tuple[str, ...], at: int,
              signals: MessageSignals | None, legal: bool, policy: EscalationPolicy,
              partition: int, offset: int) -> Escalate:
    book = new["escalation"]
    book["episode"] += 1
    book["phase"] = "open"
    book["opened_at"] = at
    book["reasons"] = list(reasons)
    new["escalations"] += 1
    tier = rules.value_tier(new["customer_value"], policy)
    emotions = signals.emotions if signals is not None else None
    compound = signals.compound if signals is not None else journeys.last(new["journey"])
    level = rules.severity(
        reasons, anger=emotions.anger if emotions else 0.0,
        urgency=emotions.urgency if emotions else 0.0,
        frustration=emotions.frustration if emotions else 0.0,
        compound=compound, legal=legal, policy=policy)
    prio = rules.priority(tier, level, legal)
    cid = new["conversation_id"]
    return Escalate(
        escalation_id=f"{cid}:e{book['episode']}", conversation_id=cid,
        episode=book["episode"], reasons=reasons,
        team=rules.conversation_team(new, tier, policy), priority=prio, severity=level,
        created_at=at, sla_deadline=rules.sla_deadline(prio, at, policy),
        customer_id=new["customer_id"], customer_value=new["customer_value"],
        channel=new["channel"], language=new["language"], intent=new["intent"],
        intent_confidence=new["intent_confidence"],
        sentiment_path=tuple(new["journey"]["compound"]), recent=tuple(new["recent"]),
        source_partition=partition, source_offset=offset,
    )


def _lead(new: ConversationRecord, prediction: IntentSignal, text: str, at: int,
          compound: float) -> LeadSignal:
    cid = new["conversation_id"]
    return LeadSignal(
        signal_id=f"{cid}:lead", conversation_id=cid, customer_id=new["customer_id"],
        identifiers=dict(new["identifiers"]), intent=prediction.intent,
        confidence=prediction.confidence, channel=new["channel"], language=new["language"],
        occurred_at=at, text=text[:TEXT_LIMIT], sentiment_compound=compound,
        customer_value=new["customer_value"], customer_messages=new["customer_messages"],
    )


def _update_intent(new: ConversationRecord, prediction: IntentSignal, topic: str | None,
                   policy: EscalationPolicy) -> None:
    """The conversation's intent (``choose_intent``) and its topic: that of the message that
    set the intent, or of a later one that states it when none was clear yet."""
    before = new["intent"], new["intent_confidence"]
    intent, confidence = choose_intent(before[0], before[1], prediction, policy,
                                       settled=new["escalations"] > 0)
    new["intent"] = intent
    new["intent_confidence"] = confidence
    if (intent, confidence) != before or (
            topic is not None and new.get("topic") in (None, "general")
            and intent in policy.topic_intents):
        new["topic"] = topic


def choose_intent(current: str | None, confidence: float | None, prediction: IntentSignal,
                  policy: EscalationPolicy = DEFAULT_POLICY, *, settled: bool = False,
                  ) -> tuple[str | None, float | None]:
    """The conversation's intent after one more customer message: the topic the customer
    opened with. The first specific prediction at least ``policy.intent_confidence`` sure
    settles it: later messages are mostly follow-ups ("still broken", "this is ridiculous")
    whose own intent is not what the conversation is about. Until then the most confident
    specific prediction so far holds it, and a vague one (``policy.fallback_intents``) only
    fills a gap, replaces a vaguer one (a request for a person after a greeting) or a less
    sure one of its kind. ``settled`` (the conversation was routed by an escalation) keeps it as it is,
    so the team an escalation went to stays the team."""
    if settled and current is not None:
        return current, confidence
    specific = prediction.intent not in policy.fallback_intents
    if current is None:
        return prediction.intent, prediction.confidence
    sure = confidence if confidence is not None else 0.0
    if current not in policy.fallback_intents:
        if sure >= policy.intent_confidence or not specific or prediction.confidence <= sure:
            return current, confidence
        return prediction.intent, prediction.confidence
    if specific:
        return prediction.intent, prediction.confidence
    # ``fallback_intents`` go from the vaguest: a request for a person after a greeting
    # says more than the greeting however sure the model is of the greeting, and a greeting
    # after it never takes it back
    order = policy.fallback_intents
    now, before = order.index(prediction.intent), order.index(current)
    if now > before or (now == before and prediction.confidence > sure):
        return prediction.intent, prediction.confidence
    return current, confidence


def _human_took_over(new: ConversationRecord, at: int) -> None:
    new["handoff"] = True
    new["handoffs"] += 1
    new["handoff_at"] = at
    book = new["escalation"] = new["escalation"].copy()
    book["phase"] = "with_human"


def _fresh_window(book: EscalationBook, phase: str) -> EscalationBook:
    return EscalationBook(episode=book["episode"], phase=phase, opened_at=book["opened_at"],
                          reasons=book["reasons"], suppressed=book["suppressed"],
                          window_messages=0, repeats=0, fallbacks=0, confused=0,
                          best_confidence=None, unhelped=0, bot_repeats=0, off_topic=0,
                          pushed=False, pushbacks=0)


def _reopen(new: ConversationRecord) -> None:
    new["status"] = "open"
    new["ended_at"] = None
    new["duration_ms"] = None
    new["resolution"] = "unknown"


def _end(new: ConversationRecord, at: int, status: str, stated: str | None, reason: str,
         policy: EscalationPolicy, effects: list[Effect]) -> None:
    resolution = stated or infer_resolution(new, policy)
    new["status"] = status
    new["ended_at"] = at
    new["duration_ms"] = max(0, at - new["started_at"])
    new["resolution"] = resolution
    new["escalation"] = _fresh_window(new["escalation"], "idle")
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
