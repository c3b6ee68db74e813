"""What a customer message does to a conversation's record: the counters of the escalation
window, the journey, the conversation's intent and topic, a lead signal, and the escalation
rules read against it; and opening an escalation episode, which a bot message can do too.

Invariants:
- every function changes only the record it is given, which is the fold's own copy
  (``streams.conversation.state.fold``), and replaces nested values instead of mutating
  them;
- at most one ``Escalate`` per episode: a rule that fires while an episode is open (or the
  conversation is not open) is counted as suppressed, never emitted;
- the conversation's intent settles on the first specific prediction sure enough
  (``choose_intent``) unless a security incident supersedes it, and an escalated
  conversation keeps the intent it was routed by;
- the topic (the team of an intent routed by its topic) is read from the message that set
  the intent; a later message only fills an open topic, from its words (``later_topic``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.conversation import escalation as rules
from streams.conversation import journey as journeys
from streams.conversation import loops
from streams.conversation import outburst as outbursts
from streams.conversation.effects import CancelFollowUp, Effect, Escalate, LeadSignal
from streams.conversation.escalation import DEFAULT_POLICY, EscalationPolicy
from streams.conversation.state_record import (
    TEXT_LIMIT,
    ConversationRecord,
    EscalationBook,
    IntentSignal,
    MessageSignals,
    reopen,
)
from streams.text import cues as textcues


def customer_message(new: ConversationRecord, event: Mapping[str, Any], text: str, at: int,
                     signals: MessageSignals | None, policy: EscalationPolicy,
                     effects: list[Effect], partition: int, offset: int) -> None:
    """Absorb a customer message into ``new`` (the fold's copy): counters, follow-ups,
    journey, intent, lead signal and, when a rule fires in an idle window, an escalation."""
    new["customer_messages"] += 1
    if new["first_customer_at"] is None:
        new["first_customer_at"] = at
    new["last_customer_at"] = at
    if new["status"] in ("ended", "timed_out"):
        reopen(new)
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
    found = (signals.cues if signals is not None and signals.cues is not None
             else textcues.found(text))
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
        # a pushback the learnt signal reads as "it did not help" (a "no" that is one, not
        # "no thanks, that's all"), in a reply that says what it is about (a curt "done,
        # nothing" after a suggested step leaves no subject to tell a follow-up from another
        # one): the bot's next answer about another subject is a loop, as after the words,
        # though the reading never counts as saying it
        if (signals.unhelped is not None and signals.unhelped >= policy.unhelped_level
                and len(loops.words(text)) >= loops.MIN_ANSWER_WORDS):
            book["unhelped_read"] = True
    if emotions is not None:
        new["last_satisfaction"] = emotions.satisfaction
        if emotions.confusion >= policy.confusion_threshold:
            book["confused"] += 1
    prediction = signals.intent
    # a content customer ("great, a replacement works for me") holds no grievance any more
    if emotions is not None and emotions.satisfaction >= policy.resolved_satisfaction:
        book["grievances"] = 0
    if outbursts.grieved(prediction.scores if prediction is not None else None,
                         emotions.frustration if emotions is not None else 0.0, policy):
        book["grievances"] = book.get("grievances", 0) + 1
        book["grieved_at"] = book["window_messages"]
    if prediction is not None:
        _update_intent(new, prediction, found, policy)
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
    # the discontent of the customer's previous message and the lowest before it; this
    # message becomes the previous one for the next
    previous, floor = book.get("discontent_last"), book.get("discontent_floor")
    if signals.discontent is not None:
        if previous is not None:
            book["discontent_floor"] = previous if floor is None else min(floor, previous)
        book["discontent_last"] = signals.discontent
    if book["phase"] != "idle" and new["status"] != "open":
        return
    legal = rules.legal_threat(text, words)
    reasons = _reasons(new, book, signals, legal, found, textcues.shouting(text), policy,
                       asked_before, (previous, floor))
    if not reasons:
        return
    if book["phase"] != "idle":
        book["suppressed"] += 1
        return
    effects.append(escalate(new, reasons, at, signals, legal, policy, partition, offset))


def _reasons(new: ConversationRecord, book: EscalationBook, signals: MessageSignals,
             legal: bool, cues: frozenset[str], shouting: bool, policy: EscalationPolicy,
             asked_for_data: bool,
             discontent: tuple[float | None, float | None] = (None, None)
             ) -> tuple[str, ...]:
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
        or upset
        or outbursts.outburst(new["recent"], window, intent, compound, policy,
                              prediction.scores if prediction is not None else None)
        or outbursts.persisting(new["recent"], window, book.get("grievances", 0),
                                window - book.get("grieved_at", 0),
                                emotions.satisfaction if emotions is not None else 0.0,
                                policy)
        or outbursts.sinking(window, signals.discontent, *discontent, policy),
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


def escalate(new: ConversationRecord, reasons: tuple[str, ...], at: int,
             signals: MessageSignals | None, legal: bool, policy: EscalationPolicy,
             partition: int, offset: int) -> Escalate:
    """Open an episode on ``new`` (the fold's copy) for ``reasons``; the effect to emit."""
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


def _update_intent(new: ConversationRecord, prediction: IntentSignal, found: frozenset[str],
                   policy: EscalationPolicy) -> None:
    """The conversation's intent (``choose_intent``, or a security incident that supersedes
    it) and its topic: that of the message that set the intent, or of a later one
    (``later_topic``)."""
    before = new["intent"], new["intent_confidence"]
    intent, confidence = choose_intent(before[0], before[1], prediction, policy,
                                       settled=new["escalations"] > 0)
    if (policy.security_supersedes and "security" in found and prediction.intent == "account"
            and prediction.confidence >= policy.intent_confidence and not new["escalations"]):
        intent, confidence = prediction.intent, prediction.confidence
    new["intent"] = intent
    new["intent_confidence"] = confidence
    if (intent, confidence) != before:
        new["topic"] = rules.message_topic(prediction.intent, found, prediction.scores, policy)
    elif intent in policy.topic_intents:
        new["topic"] = later_topic(new.get("topic"), intent, prediction, found, policy)


def later_topic(current: str | None, intent: str, prediction: IntentSignal,
                found: frozenset[str], policy: EscalationPolicy = DEFAULT_POLICY) -> str | None:
    """The topic of a conversation whose intent ``intent`` (one routed by its topic) was set
    by an earlier message, after a customer message read as ``prediction`` with the cues
    ``found``: the topic the message names fills an open one (None or general). It is read
    in the message's words, and in the intent model's scores only when
    ``policy.later_topic_scores``; for the intents of ``policy.later_topic_by_conversation``
    as the conversation's intent reads it, where a technical topic (login, security)
    overrides any earlier one."""
    own = intent in policy.later_topic_by_conversation
    topic = rules.message_topic(intent if own else prediction.intent, found,
                                prediction.scores if policy.later_topic_scores else None,
                                policy)
    if topic is not None and (current in (None, "general")
                              or (own and intent == "account" and topic == "technical")):
        return topic
    return current


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
