"""Escalation rules, routing, priority and SLA: small pure functions over plain values, as
the label guide (``shared/design/LABELS.md``) states them.

Each rule returns its reason code when it fires, else None. ``state.fold`` evaluates them on
the messages of a conversation whose escalation episode is not open (see ``state``), so a
conversation is escalated once per episode whatever the rules keep saying.

Invariants (LABELS.md): cancellations go to retention whatever the customer's value (the
value sets priority and SLA, never the team); account questions go to general, except login
and security (technical) and the payment method or billing contact on file (billing);
complaints and requests for a person go to the team of their topic when the message makes it
clear, else general. Calm cancellations and refunds, mild irritation, sarcasm and polite
complaints are no reason to escalate; the reason codes keep their published names
(``LABEL_REASONS`` maps them onto the guide's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, Literal

from streams.conversation.journey import NEGATIVE, Journey, slope
from streams.text import cues as textcues

if TYPE_CHECKING:
    from streams.text.intent import Taxonomy

Reason = Literal["human_request", "sentiment_worsening", "bot_failure_loop", "vip_negative",
                 "policy_topic", "low_intent_confidence"]
REASONS: Final[tuple[Reason, ...]] = ("human_request", "sentiment_worsening",
                                      "bot_failure_loop", "vip_negative", "policy_topic",
                                      "low_intent_confidence")
#: the guide's name of each reason code
LABEL_REASONS: Final = {
    "human_request": "human_request", "sentiment_worsening": "negative_trend",
    "bot_failure_loop": "bot_loop", "vip_negative": "high_value_negative",
    "policy_topic": "policy_topic", "low_intent_confidence": "low_confidence"}
TEAMS: Final = ("billing", "technical", "sales", "retention", "general")
PRIORITIES: Final = ("P1", "P2", "P3", "P4")

MINUTE: Final = 60_000
HOUR: Final = 60 * MINUTE

#: Routing hints of the shipped intent taxonomy (schemas/models/intent_taxonomy.yaml).
TAXONOMY_TEAMS: Final = {
    "billing": "billing", "technical_issue": "technical", "cancellation": "retention",
    "refund": "billing", "purchase_inquiry": "sales", "pricing": "sales",
    "complaint": "general", "account": "general", "human_request": "general",
    "other": "general",
}
#: Intents whose team is fixed whatever the taxonomy says (LABELS.md, "Teams").
TEAM_OVERRIDES: Final = {
    "purchase_inquiry": "sales", "pricing": "sales", "billing": "billing", "refund": "billing",
    "technical_issue": "technical", "cancellation": "retention",
}
#: Intents whose team is the topic the message states (``message_topic``), else their hint.
TOPIC_INTENTS: Final = ("account", "complaint", "human_request")
#: (intent, customer value tier) -> team: none by default, since the customer's value sets
#: priority and SLA, not the team (LABELS.md); kept for deployments that route by value.
VALUE_ROUTES: Final[dict[tuple[str, str], str]] = {}
_MEDIUM_REASONS: Final = frozenset(REASONS) - {"low_intent_confidence"}
# Priority by (value tier, severity); a legal threat is always P1.
_PRIORITY: Final = {
    ("high", "high"): "P1", ("high", "medium"): "P2", ("high", "low"): "P3",
    ("medium", "high"): "P2", ("medium", "medium"): "P3", ("medium", "low"): "P4",
    ("low", "high"): "P2", ("low", "medium"): "P3", ("low", "low"): "P4",
}


@dataclass(frozen=True)
class EscalationPolicy:
    """Every threshold of the rules, routing, SLAs, follow-ups and lead signals."""

    # sentiment_worsening
    worsening_trend: float = -0.15  # slope per customer message ...
    worsening_min_messages: int = 3  # ... over at least this many ...
    worsening_last: float = -0.4  # ... ending clearly negative (mild irritation is no trend)
    # ... or a decline against the conversation's own start: from the third customer
    # message (``decline_min_messages``), one strongly negative or distressed (despair,
    # feeling ignored, a lot at stake: it counts as ``distress_compound``) and at least
    # ``decline_drop`` below the calmest earlier one
    decline_min_messages: int = 3
    decline_compound: float = -0.5
    distress_compound: float = -0.5
    decline_drop: float = 0.4
    ewma_threshold: float = -0.5
    ewma_min_messages: int = 2
    # ... or an outburst (``outburst``): from the third customer message of the window, a
    # complaint (or a clearly negative message) at least ``outburst_ratio`` times as long as
    # the customer's previous message and at least ``outburst_chars`` long
    outburst_ratio: float = 2.0
    outburst_chars: int = 100
    # a message the model reads as a complaint at least this much (among its top three) is
    # one: irony and resignation about a fault read half as the fault, half as a complaint
    outburst_complaint_score: float = 0.2
    # ... or a grievance that persists (``outburst.persisting``): from the fourth customer
    # message of the window, a reply to the bot that asks nothing from a customer who has
    # complained (complaint score or frustration at least ``grievance_score``) in at least
    # ``grievance_messages`` of their messages since they were last content, the last of them
    # this message or the one before (thresholds chosen leaving one set out)
    grievance_messages: int = 2
    grievance_score: float = 0.4
    grievance_min_messages: int = 4
    # ... or a mood that sinks as the learnt discontent reads it (``outburst.sinking``): from
    # the ``discontent_min_messages``-th customer message of the window, the last
    # ``discontent_sustain`` customer messages read at least ``discontent_level`` by the
    # discontent model (``streams.text.discontent``), the latest at least ``discontent_rise``
    # above the lowest before them (thresholds chosen leaving one development set out,
    # an escalation before the labelled message counted as a false alarm:
    # ``evaluation.discontent_fit``)
    discontent_min_messages: int = 3
    discontent_level: float = 0.7
    discontent_rise: float = 0.6
    discontent_sustain: int = 2
    # bot_failure_loop
    repeat_similarity: float = 0.8  # token Jaccard of consecutive customer messages
    repeat_min_tokens: int = 3
    repeat_limit: int = 2
    fallback_limit: int = 2
    loop_limit: int = 3  # fallbacks and repeats together: one failure the customer rephrases
    # after is no loop yet
    confusion_threshold: float = 0.6
    confusion_limit: int = 2
    # vip_negative and value tiers (customer_value / ltv from event metadata)
    high_value: float = 1000.0
    medium_value: float = 200.0
    vip_negative_compound: float = -0.3
    # languages whose sentiment scores the rules trust: VADER in English, the mood lexicons
    # of streams.text.mood in the others (VADER alone reads "die" or "no" as negative words)
    sentiment_languages: tuple[str, ...] = ("en", "es", "fr", "de", "pt")
    # strong negative moments of one message (LABELS.md rules 3 to 5)
    repeated_compound: float = -0.3  # "third time" counts with at least this negative tone
    strong_anger: float = 0.45  # the emotion detector's anger that is strong anger alone
    upset_compound: float = -0.5  # a cancellation or refund from a visibly upset customer
    # bot_failure_loop: the bot repeats an answer after the customer said it did not help
    # (the share of the shorter answer's content words met in the other: ``loops.echoes``)
    bot_repeat_similarity: float = 0.6
    # ... or the cosine of their hashed n-grams (``loops.ngram_cosine``) at least this: a
    # rephrase in other words (above 1: off; fitted leaving one development set out, an
    # early escalation counted as a false alarm, the simulator's precision kept:
    # ``evaluation.loop_fit``; 0.5 raised a false alarm on a follow-up that adds a step)
    bot_echo_cosine: float = 0.55
    unhelped_limit: int = 2  # or the customer says so twice
    # a reply to a bot answer says it did not help when the ``not_helped`` cue is in it, or
    # when the learnt "not helped" signal (``streams.text.unhelped``) reads at least this
    # (above 1: the signal off; fitted leaving one development set out,
    # ``evaluation.unhelped_fit``: 0.85 and 0.9 gain alike, the strictest is kept)
    unhelped_level: float = 0.9
    off_topic_limit: int = 1  # or answered off-topic after that (``loops.off_topic``)
    # human_request (intent route)
    human_intent_confidence: float = 0.65
    # the task read in a request for a person that names no topic sets its team from this
    # score of the intent model (``message_topic``)
    person_topic_score: float = 0.3
    # a complaint's own topic read the same way (LABELS.md: the team of the underlying topic),
    # but not as an order question: a complaint about a delivery goes to general
    complaint_read_skips: tuple[str, ...] = ("purchase_inquiry",)
    # low_intent_confidence
    low_confidence: float = 0.4
    low_confidence_min_messages: int = 2
    # severity
    high_anger: float = 0.6
    high_urgency: float = 0.7
    high_negative: float = -0.6
    medium_anger: float = 0.3
    medium_urgency: float = 0.4
    medium_frustration: float = 0.5
    # SLA per priority, milliseconds
    sla_ms: dict[str, int] = field(default_factory=lambda: {
        "P1": 15 * MINUTE, "P2": HOUR, "P3": 4 * HOUR, "P4": 24 * HOUR})
    # routing
    team_hints: dict[str, str] = field(default_factory=lambda: dict(TAXONOMY_TEAMS))
    team_overrides: dict[str, str] = field(default_factory=lambda: dict(TEAM_OVERRIDES))
    value_routes: dict[tuple[str, str], str] = field(default_factory=lambda: dict(VALUE_ROUTES))
    topic_intents: tuple[str, ...] = TOPIC_INTENTS
    # conversation intent: the first specific prediction at least this confident settles it
    intent_confidence: float = 0.5
    fallback_intents: tuple[str, ...] = ("other", "human_request")  # from the vaguest
    # ... except by a security incident (the ``security`` cue: access, changes or orders the
    # customer did not make) read as ``account`` at least ``intent_confidence`` sure: from
    # then on the conversation is about it, whatever it opened with, until an escalation has
    # routed it (LABELS.md: a hacked account is ``account``, for the technical team)
    security_supersedes: bool = True
    # the topic a later customer message gives a conversation whose own topic is open (None
    # or general): read in its words only (``later_topic_scores`` False), since the intent
    # model's scores of a follow-up ("Third time this month.") name a task at random; and
    # for the intents of ``later_topic_by_conversation``, read as the conversation's intent
    # reads it (a complaint in an account conversation about a data request is still an
    # account matter), where login or security (technical) overrides any earlier topic
    later_topic_scores: bool = False
    later_topic_by_conversation: tuple[str, ...] = ("account",)
    # follow-ups
    follow_up_delay_ms: int = 24 * HOUR
    follow_up_priority: str = "P3"
    resolved_satisfaction: float = 0.5
    resolved_compound: float = 0.3
    # lead signals
    lead_intents: tuple[str, ...] = ("purchase_inquiry", "pricing")
    lead_confidence: float = 0.6



DEFAULT_POLICY: Final = EscalationPolicy()


def policy_for(taxonomy: Taxonomy, base: EscalationPolicy = DEFAULT_POLICY) -> EscalationPolicy:
    """``base`` routing by the team hints of ``taxonomy`` (e.g. ``intent.load_taxonomy()``)."""
    return replace(base, team_hints={i.name: i.team for i in taxonomy.intents})


# --- text cues -------------------------------------------------------------------------------

# The patterns are matched on lower-cased text, and only when a cheap check finds one of
# their key words: a full search costs about 20 us a message, the check under 1 us.
_LEGAL: Final = re.compile(
    r"\b(?:lawyers?|attorneys?|sue|suing|legal action|take you to court|small claims"
    r"|abogad[oa]s?|demandar(?:é|e|los)?|acciones? legal(?:es)?"
    r"|avocats?|action en justice|poursuivre en justice|poursuites"
    r"|anwalt|anwältin|rechtsanwalt|verklagen|rechtliche schritte|klage einreichen"
    r"|advogad[oa]s?|processar|ação judicial|procon)\b")
_LEGAL_WORDS: Final = frozenset((
    "lawyer", "lawyers", "attorney", "attorneys", "sue", "suing", "legal", "court", "claims",
    "abogado", "abogada", "abogados", "abogadas", "demandar", "demandaré", "demandare",
    "demandarlos", "acción", "accion", "acciones", "avocat", "avocats", "justice",
    "poursuites", "anwalt", "anwältin", "rechtsanwalt", "verklagen", "rechtliche", "klage",
    "advogado", "advogada", "advogados", "advogadas", "processar", "judicial", "procon"))
_FALLBACK: Final = re.compile(
    r"(?:i did(?:n't| not) (?:quite )?(?:understand|get that)|i don't understand"
    r"|i'm not sure i understand|could you (?:please )?rephrase|can you rephrase"
    r"|please rephrase|say that another way"
    r"|no (?:te )?(?:he )?entend[ií]|no lo entend[ií]|pod(?:r[ií]as|ría|ías) reformular"
    r"|puedes reformular|puede reformular"
    r"|je n'ai pas (?:bien )?compris|pouvez-vous reformuler|pourriez-vous reformuler"
    r"|peux-tu reformuler"
    r"|(?:habe|hab) (?:ich )?(?:das |dich |sie )?nicht verstanden|nicht verstanden"
    r"|anders formulieren|umformulieren"
    r"|não (?:entendi|compreendi)|pode(?:ria)? reformular)")
_FALLBACK_KEYS: Final = ("understand", "rephrase", "another way", "entend", "reformul",
                         "compris", "verstanden", "formulieren", "compreendi")
_PUNCT: Final = ".,;:!?¡¿()[]{}\"'«»\u201c\u201d\u2018\u2019\u2026*-\u2013\u2014/#"


def legal_threat(text: str, words: list[str] | None = None) -> bool:
    """The message threatens legal action (lawyer, sue, ... in en/es/fr/de/pt); ``words`` are
    its :func:`tokens` when already known."""
    if _LEGAL_WORDS.isdisjoint(tokens(text) if words is None else words):
        return False
    return _LEGAL.search(text.lower()) is not None


def is_fallback(text: str) -> bool:
    """A bot message saying it did not understand (in en/es/fr/de/pt)."""
    low = text.lower()
    for key in _FALLBACK_KEYS:
        if key in low:
            return _FALLBACK.search(low) is not None
    return False


def tokens(text: str) -> list[str]:
    """Distinct lower-case words of ``text`` (its first 64), punctuation stripped; unordered."""
    words = {w.strip(_PUNCT) for w in text.lower().split()[:64]}
    words.discard("")
    return list(words)


def jaccard(a: list[str] | set[str], b: list[str] | set[str]) -> float:
    sa = a if isinstance(a, set) else set(a)
    union = len(sa.union(b))
    return len(sa.intersection(b)) / union if union else 0.0


def value_tier(value: float | None, policy: EscalationPolicy = DEFAULT_POLICY) -> str:
    """high | medium | low; an unknown value counts as low."""
    if value is None:
        return "low"
    if value >= policy.high_value:
        return "high"
    if value >= policy.medium_value:
        return "medium"
    return "low"


# --- rules -----------------------------------------------------------------------------------


def human_request(asked: bool, intent: str | None, confidence: float | None,
                  policy: EscalationPolicy = DEFAULT_POLICY) -> Reason | None:
    """The customer asks for a person (emotion cue, or the human_request intent)."""
    if asked or (intent == "human_request" and confidence is not None
                 and confidence >= policy.human_intent_confidence):
        return "human_request"
    return None


def sentiment_worsening(journey: Journey, window: int,
                        policy: EscalationPolicy = DEFAULT_POLICY) -> Reason | None:
    """Over the ``window`` customer messages of the current episode window: a downward trend
    over at least ``worsening_min_messages`` ending negative, or an EWMA below threshold."""
    points = journey["compound"][-window:] if window > 0 else []
    if (len(points) >= policy.worsening_min_messages
            and points[-1] <= min(NEGATIVE, policy.worsening_last)
            and slope(points) <= policy.worsening_trend):
        return "sentiment_worsening"
    ewma = journey["ewma"]
    if window >= policy.ewma_min_messages and ewma is not None and ewma <= policy.ewma_threshold:
        return "sentiment_worsening"
    return None


def mood_decline(journey: Journey, window: int, compound: float | None, distress: bool,
                 policy: EscalationPolicy = DEFAULT_POLICY) -> Reason | None:
    """A worsening mood read against the conversation's own start, without angry words: from
    the ``decline_min_messages``-th customer message of the window, the latest (its
    ``compound``; a ``distress``-ed one counts as at most ``distress_compound``) is strongly
    negative and at least ``decline_drop`` below the calmest earlier message of the window
    (the journey's last point is the latest message)."""
    earlier = journey["compound"][-window:-1] if window > 1 else []
    if window < policy.decline_min_messages or not earlier or compound is None:
        return None
    now = min(compound, policy.distress_compound) if distress else compound
    if now <= policy.decline_compound and max(earlier) - now >= policy.decline_drop:
        return "sentiment_worsening"
    return None


def bot_failure_loop(repeats: int, fallbacks: int, confused: int,
                     policy: EscalationPolicy = DEFAULT_POLICY, *, bot_repeats: int = 0,
                     unhelped: int = 0, off_topic: int = 0, pushbacks: int = 0
                     ) -> Reason | None:
    """The customer repeats themselves, the bot keeps failing to understand, the customer
    keeps being confused, the bot repeated an answer (``bot_repeats``) or answered
    off-topic (``off_topic``) after the customer said it did not help, or the customer said
    twice that it did not help: twice in words (``unhelped``), or once in words and once
    more by pushing back on an answer (``pushbacks`` counts both kinds; ``loops.pushback``).
    Counts since the episode window started."""
    if (repeats >= policy.repeat_limit or fallbacks >= policy.fallback_limit
            or repeats + fallbacks >= policy.loop_limit
            or confused >= policy.confusion_limit or bot_repeats >= 1
            or off_topic >= policy.off_topic_limit
            or unhelped >= policy.unhelped_limit
            or (unhelped >= 1 and pushbacks >= policy.unhelped_limit)):
        return "bot_failure_loop"
    return None


def vip_negative(tier: str, compound: float | None, frustration: float = 0.0,
                 anger: float = 0.0, policy: EscalationPolicy = DEFAULT_POLICY, *,
                 negative_cue: bool = False) -> Reason | None:
    """A high-value customer turns negative: a negative message, a frustrated or angry one
    (frustration reads in "I've already explained this twice" where sentiment does not), or
    one with a churn signal, price shock or repeated errors (``negative_cue``)."""
    if tier != "high":
        return None
    if ((compound is not None and compound <= policy.vip_negative_compound) or negative_cue
            or frustration >= policy.medium_frustration or anger >= policy.medium_anger):
        return "vip_negative"
    return None


def policy_topic(legal: bool, found: frozenset[str] = frozenset(), *,
                 asked_for_data: bool = False) -> Reason | None:
    """A legal threat, a complaint to a regulator or consumer body, a security incident or
    fraud (card or bank details given through a link: phishing), or an overdue
    data-protection request (``found``: the message's cues; ``asked_for_data``: the request
    was made in an earlier message of the window, "I asked for a copy of my data" then
    "still nothing after a month", or "my account still exists")."""
    if (legal or "legal" in found or "regulator" in found or "security" in found
            or ("card_details" in found and "link_followed" in found)
            or (("data_request" in found or asked_for_data) and "overdue" in found)
            or (asked_for_data and "persisting" in found)):
        return "policy_topic"
    return None


def strong_anger(found: frozenset[str], shouting: bool, compound: float | None,
                 policy: EscalationPolicy = DEFAULT_POLICY, anger: float = 0.0) -> bool:
    """Shouting in capitals, insults or accusations, exasperation, business-critical
    urgency, strong anger as the emotion detector reads it, or repeated failed attempts told
    with a negative tone (LABELS.md rule 3); one "not acceptable" or mild sarcasm matches
    none of these."""
    if (shouting or anger >= policy.strong_anger
            or not found.isdisjoint(("abuse", "exasperation", "urgency"))):
        return True
    return "repeated" in found and (
        "not_helped" in found
        or (compound is not None and compound <= policy.repeated_compound))


def upset_message(intent: str | None, found: frozenset[str], shouting: bool,
                  compound: float | None, policy: EscalationPolicy = DEFAULT_POLICY,
                  anger: float = 0.0) -> Reason | None:
    """One message strongly negative enough for a person (LABELS.md rules 3 to 5): strong
    anger, a cancellation threat (a churn cue, or a cancellation on a condition: "unless
    this is fixed"), a cancellation from a visibly upset customer, a refund demanded with
    anger or an ultimatum. A churn cue in a calm cancellation ("cancel the Pro licence, we
    are moving to another tool") is the reason for leaving, not a threat: the guide keeps
    calm cancellations with the bot. Ending a service on a condition ("unless this is fixed
    today I'm ending my contract") is a threat whatever intent the model read."""
    angry = strong_anger(found, shouting, compound, policy, anger)
    upset = angry or (compound is not None and compound <= policy.upset_compound)
    pressed = "condition" in found or "ultimatum" in found
    if (angry or ("churn" in found and (intent != "cancellation" or pressed))
            or (intent == "cancellation" and (upset or pressed))
            or ("condition" in found and "retention_topic" in found)
            or (intent == "refund" and (upset or "ultimatum" in found))):
        return "sentiment_worsening"
    return None


def low_intent_confidence(window: int, best_confidence: float | None,
                          satisfied: bool = False,
                          policy: EscalationPolicy = DEFAULT_POLICY) -> Reason | None:
    """After enough customer messages, no specific intent was predicted with confidence
    (``best_confidence`` counts a fallback intent such as "other" as 0): the bot cannot tell
    what the customer wants. Not when the customer's latest message is ``satisfied`` (a
    thank-you after small talk the bot answered)."""
    if (window >= policy.low_confidence_min_messages and not satisfied
            and best_confidence is not None
            and best_confidence < policy.low_confidence):
        return "low_intent_confidence"
    return None


# --- routing, priority, SLA ------------------------------------------------------------------


def message_topic(intent: str | None, found: frozenset[str],
                  read: Mapping[str, float] | None = None,
                  policy: EscalationPolicy = DEFAULT_POLICY) -> str | None:
    """The team the topic of a message names, for the intents whose team is their topic:
    for ``account`` technical (login, security), billing (payment method or billing contact
    on file) or general; for a complaint or a request for a person the topic's team when the
    cues make it clear (``streams.text.cues.topic_team``); without such a cue, the team of
    the task the intent model ``read`` in it besides the complaint or request (its scores:
    "a person to help me upgrade to fibre" reads as a purchase; never an order question for
    a complaint: ``complaint_read_skips``), when that task scores at least
    ``policy.person_topic_score``; else None."""
    if intent == "account":
        return textcues.account_team(found)
    if intent in ("complaint", "human_request"):
        topic = textcues.topic_team(found, asked_for_person=intent == "human_request")
        # a complaint read partly as an order question is about a delivery: general
        skip = policy.complaint_read_skips if intent == "complaint" else ()
        if topic is None and read:
            tasks = [(score, name) for name, score in read.items()
                     if name in policy.team_overrides and name not in skip
                     and score >= policy.person_topic_score]
            topic = policy.team_overrides[max(tasks)[1]] if tasks else None
        return topic
    return None


def route(intent: str | None, tier: str, policy: EscalationPolicy = DEFAULT_POLICY,
          topic: str | None = None) -> str:
    """The routing policy (LABELS.md, "Teams"): the team for a conversation whose intent is
    ``intent``, whose customer is in value tier ``tier`` and whose topic names the team
    ``topic`` (``message_topic``).

    First a value route where one is configured (none by default), then, for the intents of
    ``policy.topic_intents`` (account, complaint, human_request), the topic's team, then the
    fixed overrides (sales for purchase inquiries and pricing, billing for billing and
    refunds, technical for technical issues, retention for cancellations), then the
    taxonomy's hint; general for anything else, or no intent at all.
    """
    if intent is None:
        return "general"
    team = policy.value_routes.get((intent, tier))
    if team is None and intent in policy.topic_intents and topic in TEAMS:
        team = topic
    team = (team or policy.team_overrides.get(intent) or policy.team_hints.get(intent)
            or "general")
    return team if team in TEAMS else "general"


def conversation_team(record: Mapping[str, Any], tier: str,
                      policy: EscalationPolicy = DEFAULT_POLICY) -> str:
    """The team of a conversation record: its intent and topic, as ``route`` decides."""
    return route(record.get("intent"), tier, policy, record.get("topic"))


def severity(reasons: tuple[str, ...], *, anger: float, urgency: float, frustration: float,
             compound: float | None, legal: bool,
             policy: EscalationPolicy = DEFAULT_POLICY) -> str:
    """high | medium | low, from the emotions and sentiment of the triggering message; any
    reason but low_intent_confidence is at least medium."""
    low = compound if compound is not None else 0.0
    if (legal or anger >= policy.high_anger or urgency >= policy.high_urgency
            or low <= policy.high_negative):
        return "high"
    if (anger >= policy.medium_anger or urgency >= policy.medium_urgency
            or frustration >= policy.medium_frustration or low <= policy.vip_negative_compound
            or any(r in _MEDIUM_REASONS for r in reasons)):
        return "medium"
    return "low"


def priority(tier: str, level: str, legal: bool = False) -> str:
    """P1..P4 from the customer's value tier and the severity; a legal threat is P1."""
    return "P1" if legal else _PRIORITY[(tier, level)]


def sla_deadline(prio: str, at: int, policy: EscalationPolicy = DEFAULT_POLICY) -> int:
    return at + policy.sla_ms[prio]
