"""The features a person's unified profile gives the lead model, and the churn signals.

One function, ``lead_features``, reads a profile-shaped dict (the ``customer.profiles`` value:
counters, identifiers, the bounded ``recent`` interactions) as of an instant. The stream calls
it on every profile version with the profile's ``updated_at``; training calls it on a profile
rebuilt from ``customer_events`` as of a cut-off (``history.profile_as_of``), so the model sees
in training exactly what it sees when it scores: no training/serving skew by construction.

Invariants:
- pure; only interactions at or before ``as_of_ms`` count (an interaction dated later, which a
  rebuilt profile never holds and a live one should not, is ignored rather than leaking);
- every feature is a finite float or NaN (unknown: no such interaction yet); counts are >= 0;
- ``CONVERSATION_FEATURES`` are the ones taken from chat sessions, so a model can be trained
  with and without them: the sessions themselves (``CHAT_SESSION_FEATURES``) and the figures of
  their conversations (``CHAT_DETAIL_FEATURES``: intents, sentiment and its trend, escalations,
  lead signals) that a chat touchpoint carries in ``attributes`` (strings, as
  ``customer.inputs_stage`` writes them from ``conversation.insights``); an interaction without
  attributes gives NaN (unknown), never 0;
- the churn signals are those of ``churn.ChurnSignals`` the profile can give: activity against
  the person's own baseline and failed payments always; sentiment (recent chats against the
  earlier ones), escalations and cancellation intents when chats carry their figures (absent
  otherwise, which ``churn.assess`` reads as no evidence).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from streams.predictive.churn import ChurnSignals
from streams.predictive.reasons import ReasonCode

DAY_MS: Final = 86_400_000
WEEK_MS: Final = 7 * DAY_MS
PAID: Final = frozenset({"paid_search", "display", "social"})
WEB: Final = frozenset({"organic_search", "direct", "referral", "web"})
LEAD_TYPES: Final = frozenset({"lead", "signup", "demo_request", "trial", "form"})
DEMO_TYPES: Final = frozenset({"demo_request", "trial"})
PURCHASE_TYPES: Final = frozenset({"purchase", "order", "subscription"})
FAILED_PAYMENT_TYPES: Final = frozenset({"failed_payment", "payment_failed"})
CHAT_CHANNEL: Final = "chat"
#: the churn signal's windows: recent activity against the baseline before it
RECENT_WEEKS: Final = 4.0

#: the intents (``streams/text/intent``) a conversation's insight names, as the features read them
PURCHASE_INTENTS: Final = frozenset({"purchase_inquiry", "pricing"})
CANCEL_INTENTS: Final = frozenset({"cancellation"})
#: the sentiment trend: the last chat against the mean of up to this many chats before it
TREND_CHATS: Final = 2

CHAT_SESSION_FEATURES: Final = ("chat_sessions_30d", "chat_sessions_total", "days_since_chat")
#: from the figures a chat touchpoint carries in its attributes (``conversation.insights`` v2:
#: sentiment, intent, escalations, lead signals); NaN when no chat held carries them
CHAT_DETAIL_FEATURES: Final = ("chat_escalations_90d", "chat_last_sentiment",
                               "chat_sentiment_trend", "chat_purchase_intent_90d",
                               "days_since_buying_chat", "chat_cancel_intent_90d",
                               "chat_lead_signals")
CONVERSATION_FEATURES: Final = CHAT_SESSION_FEATURES + CHAT_DETAIL_FEATURES
BEHAVIOUR_FEATURES: Final = (
    "tenure_days", "days_since_last_touch", "touchpoints_total", "touchpoints_7d",
    "touchpoints_30d", "paid_touches_30d", "email_touches_30d", "web_visits_30d",
    "distinct_channels_30d", "lead_conversions", "demo_requested", "prior_purchases",
    "has_email", "has_phone", "has_customer_id",
)
#: the lead features with the chat details: the unified profile's chat interactions carry their
#: conversation's attributes (``customer_profile.v2`` ``Interaction.attributes``), as training's
#: ``customer_events`` rows do, so the stream reads the same figures training saw
FEATURES_WITH_CHAT_DETAILS: Final = BEHAVIOUR_FEATURES + CONVERSATION_FEATURES
#: what the served lead model reads: every lead feature, the chat details included
FEATURES: Final = FEATURES_WITH_CHAT_DETAILS
#: the churn signals as model features (absent: NaN), after the lead features
CHURN_SIGNAL_FEATURES: Final = ("baseline_activity_per_week", "recent_activity_per_week",
                                "baseline_weeks", "failed_payments")
#: the churn signals the chat details give (sentiment against the baseline, escalations,
#: cancellation intents)
CHURN_CHAT_SIGNAL_FEATURES: Final = ("baseline_sentiment", "recent_sentiment", "escalations",
                                     "cancellation_intents")
#: the chat churn signals before the activity ones, so the churn signals every profile gives
#: close the list (as they did before the chat ones were served)
CHURN_FEATURES_WITH_CHAT_DETAILS: Final = (FEATURES_WITH_CHAT_DETAILS + CHURN_CHAT_SIGNAL_FEATURES
                                           + CHURN_SIGNAL_FEATURES)
#: what the served churn model reads: the lead features, the churn signals, the chat ones included
CHURN_MODEL_FEATURES: Final = CHURN_FEATURES_WITH_CHAT_DETAILS

LEAD_REASON_CODES: Final[Mapping[str, ReasonCode]] = {
    "tenure_days": ReasonCode("TENURE", "known for {value} days", "known for only {value} days"),
    "days_since_last_touch": ReasonCode("RECENCY", "last touch {value} days ago",
                                        "no touch for {value} days"),
    "touchpoints_total": ReasonCode("ENGAGEMENT", "{value} touchpoints in all",
                                    "only {value} touchpoints in all"),
    "touchpoints_7d": ReasonCode("ACTIVE_WEEK", "{value} touchpoints in 7 days",
                                 "only {value} touchpoints in 7 days"),
    "touchpoints_30d": ReasonCode("ACTIVE_MONTH", "{value} touchpoints in 30 days",
                                  "only {value} touchpoints in 30 days"),
    "paid_touches_30d": ReasonCode("PAID_MEDIA", "{value} ad interactions in 30 days",
                                   "{value} ad interactions in 30 days"),
    "email_touches_30d": ReasonCode("EMAIL_ENGAGED", "{value} email interactions in 30 days",
                                    "only {value} email interactions in 30 days"),
    "web_visits_30d": ReasonCode("WEB_VISITS", "{value} site visits in 30 days",
                                 "only {value} site visits in 30 days"),
    "distinct_channels_30d": ReasonCode("MULTICHANNEL", "active on {value} channels",
                                        "active on {value} channels only"),
    "lead_conversions": ReasonCode("LEAD_FORMS", "{value} sign-ups or lead forms",
                                   "no sign-up or lead form"),
    "demo_requested": ReasonCode("DEMO", "asked for a demo or trial",
                                 "has not asked for a demo or trial"),
    "prior_purchases": ReasonCode("CUSTOMER", "{value} earlier purchases", "no earlier purchase"),
    "has_email": ReasonCode("KNOWN_EMAIL", "email known", "no email known"),
    "has_phone": ReasonCode("KNOWN_PHONE", "phone known", "no phone known"),
    "has_customer_id": ReasonCode("CRM_RECORD", "has a CRM record", "no CRM record"),
    "chat_sessions_30d": ReasonCode("CHAT_RECENT", "{value} chat conversations in 30 days",
                                    "no recent chat conversation"),
    "chat_sessions_total": ReasonCode("CHAT_HISTORY", "{value} chat conversations in all",
                                      "never chatted"),
    "days_since_chat": ReasonCode("CHAT_RECENCY", "last chatted {value} days ago",
                                  "last chatted {value} days ago"),
    "chat_escalations_90d": ReasonCode("CHAT_ESCALATED", "{value} escalated chats in 90 days",
                                       "no escalated chat in 90 days"),
    "chat_last_sentiment": ReasonCode("CHAT_MOOD", "last chat's sentiment {value}",
                                      "last chat's sentiment {value}"),
    "chat_sentiment_trend": ReasonCode("CHAT_MOOD_TREND", "chat sentiment moved {value} lately",
                                       "chat sentiment moved {value} lately"),
    "chat_purchase_intent_90d": ReasonCode("CHAT_BUYING_INTENT",
                                           "asked about buying or pricing in a chat",
                                           "no buying or pricing question in chats"),
    "days_since_buying_chat": ReasonCode("CHAT_BUYING_RECENCY",
                                         "asked about buying or pricing {value} days ago",
                                         "asked about buying or pricing {value} days ago"),
    "chat_cancel_intent_90d": ReasonCode("CHAT_CANCEL_INTENT", "spoke of cancelling in a chat",
                                         "no cancellation talk in chats"),
    "chat_lead_signals": ReasonCode("CHAT_LEAD_SIGNALS", "{value} lead signals in chats",
                                    "no lead signal in chats"),
    "baseline_sentiment": ReasonCode("USUAL_MOOD", "usual chat sentiment {value}"),
    "recent_sentiment": ReasonCode("RECENT_MOOD", "chat sentiment {value} lately"),
    "escalations": ReasonCode("ESCALATIONS", "{value} escalations lately", "no escalation lately"),
    "cancellation_intents": ReasonCode("CANCEL_INTENTS", "{value} cancellation intents lately",
                                       "no cancellation intent lately"),
    "baseline_activity_per_week": ReasonCode("USUAL_ACTIVITY", "usually {value} interactions a week"),
    "recent_activity_per_week": ReasonCode("RECENT_ACTIVITY", "{value} interactions a week lately"),
    "baseline_weeks": ReasonCode("HISTORY", "{value} weeks of history"),
    "failed_payments": ReasonCode("FAILED_PAYMENTS", "{value} failed payments lately",
                                  "no failed payment lately"),
}


def _kinds(identifiers: Any) -> set[str]:
    return {str(i).partition(":")[0] for i in identifiers or ()}


def _days(ms: float) -> float:
    return round(ms / DAY_MS, 2)


def lead_features(profile: Mapping[str, Any], as_of_ms: int) -> dict[str, float]:
    """The lead model's features of ``profile`` as of ``as_of_ms`` (epoch ms)."""
    return read_profile(profile, as_of_ms)[0]


def churn_signals(profile: Mapping[str, Any], as_of_ms: int) -> ChurnSignals:
    """Activity of the last ``RECENT_WEEKS`` against the person's own rate before them (from
    the interactions the profile holds), and failed payments in the recent window."""
    return read_profile(profile, as_of_ms)[1]


def _number(text: Any) -> float:
    """An attribute's number (attributes are strings); NaN when absent or not a number."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def chat_details(chats: list[tuple[int, Mapping[str, Any]]], as_of_ms: int, recent_start: int,
                  features: dict[str, float], signals: ChurnSignals) -> None:
    """The conversation-detail features and churn signals of the chat sessions held (``chats``:
    (time, attributes) of those whose touchpoint carries its conversation's attributes)."""
    chats.sort(key=lambda c: c[0])
    quarter = as_of_ms - 90 * DAY_MS
    escalations_90d = lead_signals = 0.0
    purchase = cancel = False
    last_buying = -1
    sentiments: list[float] = []
    base_sent: list[float] = []
    recent_sent: list[float] = []
    recent_messages = recent_escalations = cancellations = 0
    for at, a in chats:
        escalations = _number(a.get("escalations"))
        escalations = 0.0 if escalations != escalations else escalations
        signals_seen = _number(a.get("lead_signals"))
        lead_signals += 0.0 if signals_seen != signals_seen else signals_seen
        intent = a.get("intent")
        sentiment = _number(a.get("sentiment_mean"))
        if intent in PURCHASE_INTENTS:
            last_buying = at
        if at > quarter:
            escalations_90d += escalations
            purchase = purchase or intent in PURCHASE_INTENTS
            cancel = cancel or intent in CANCEL_INTENTS
        if sentiment == sentiment:
            sentiments.append(sentiment)
            (recent_sent if at >= recent_start else base_sent).append(sentiment)
        if at >= recent_start:
            recent_escalations += int(escalations)
            cancellations += intent in CANCEL_INTENTS
            messages = _number(a.get("messages"))
            recent_messages += 0 if messages != messages else int(messages)
    features["chat_escalations_90d"] = escalations_90d
    features["chat_lead_signals"] = lead_signals
    features["chat_purchase_intent_90d"] = float(purchase)
    features["chat_cancel_intent_90d"] = float(cancel)
    if last_buying >= 0:
        features["days_since_buying_chat"] = _days(as_of_ms - last_buying)
    if sentiments:
        features["chat_last_sentiment"] = sentiments[-1]
    if len(sentiments) >= 2:
        before = sentiments[-1 - TREND_CHATS:-1]
        features["chat_sentiment_trend"] = round(sentiments[-1] - sum(before) / len(before), 4)
    signals["escalations"] = recent_escalations
    signals["cancellation_intents"] = cancellations
    if base_sent and recent_sent:
        signals["baseline_sentiment"] = sum(base_sent) / len(base_sent)
        signals["recent_sentiment"] = sum(recent_sent) / len(recent_sent)
        signals["recent_messages"] = recent_messages


def read_profile(profile: Mapping[str, Any], as_of_ms: int,
                 purchases: list[Mapping[str, Any]] | None = None
                 ) -> tuple[dict[str, float], ChurnSignals]:
    """The lead features and the churn signals of ``profile`` as of ``as_of_ms``, in one pass
    over its recent interactions (the stream's hot path). ``purchases``, when given, receives
    the purchase interactions seen on the way (the stage folds them into its RFM state)."""
    week, month = as_of_ms - WEEK_MS, as_of_ms - 30 * DAY_MS
    recent_start = as_of_ms - int(RECENT_WEEKS * WEEK_MS)
    touches_7d = touches_30d = web = leads = bought = 0
    chats = chats_30d = failed = active = base = 0
    demo = False
    month_channels: dict[str, int] = {}  # touches per channel in 30 days
    first_active = as_of_ms + 1  # none yet
    last_touch = last_chat = -1
    details: list[tuple[int, Mapping[str, Any]]] = []
    web_channels, chat = WEB, CHAT_CHANNEL  # locals: the loop is hot
    lead_types, demo_types = LEAD_TYPES, DEMO_TYPES
    purchase_types, failed_types = PURCHASE_TYPES, FAILED_PAYMENT_TYPES
    for i in profile.get("recent") or ():
        at = i["occurred_at"]  # epoch ms, an int in every source (Avro, ClickHouse, JSON)
        if at > as_of_ms:
            continue
        kind = i["kind"]
        if kind == "touchpoint":
            channel = i.get("channel")
            if at > last_touch:
                last_touch = at
            if channel == chat:
                chats += 1
                if at > last_chat:
                    last_chat = at
                attributes = i.get("attributes")
                if attributes:
                    details.append((at, attributes))
            if at > month:
                touches_30d += 1
                if at > week:
                    touches_7d += 1
                if channel == chat:
                    chats_30d += 1
                elif channel in web_channels or i.get("type") == "visit":
                    web += 1
                if channel:
                    month_channels[channel] = month_channels.get(channel, 0) + 1
        elif kind == "conversion":
            type_ = i.get("type")
            if type_ in purchase_types:
                bought += 1
                if purchases is not None:
                    purchases.append(i)
            elif type_ in lead_types:
                leads += 1
                demo = demo or type_ in demo_types
            elif type_ in failed_types and at >= recent_start:
                failed += 1
        else:
            continue
        active += 1
        if at < recent_start:
            base += 1
        if at < first_active:
            first_active = at
    kinds = _kinds(profile.get("identifiers"))
    first_seen = int(profile.get("first_seen") or 0)
    features = {
        "tenure_days": _days(max(0, as_of_ms - first_seen)) if first_seen > 0 else math.nan,
        "days_since_last_touch": math.nan if last_touch < 0 else _days(as_of_ms - last_touch),
        "touchpoints_total": float(max(0, int(profile.get("touchpoints") or 0))),
        "touchpoints_7d": float(touches_7d),
        "touchpoints_30d": float(touches_30d),
        "paid_touches_30d": float(sum(month_channels.get(c, 0) for c in PAID)),
        "email_touches_30d": float(month_channels.get("email", 0)),
        "web_visits_30d": float(web),
        "distinct_channels_30d": float(len(month_channels)),
        "lead_conversions": float(leads),
        "demo_requested": float(demo),
        "prior_purchases": float(bought),
        "has_email": float("email" in kinds),
        "has_phone": float("phone" in kinds),
        "has_customer_id": float("customer_id" in kinds),
        "chat_sessions_30d": float(chats_30d),
        "chat_sessions_total": float(chats),
        "days_since_chat": math.nan if last_chat < 0 else _days(as_of_ms - last_chat),
        # conversation details: unknown (NaN) until a chat carries its conversation's figures
        "chat_escalations_90d": math.nan, "chat_last_sentiment": math.nan,
        "chat_sentiment_trend": math.nan, "chat_purchase_intent_90d": math.nan,
        "days_since_buying_chat": math.nan, "chat_cancel_intent_90d": math.nan,
        "chat_lead_signals": math.nan,
    }
    signals = ChurnSignals(failed_payments=failed)
    if base:
        weeks = (recent_start - first_active) / WEEK_MS
        signals["baseline_weeks"] = weeks
        signals["baseline_activity_per_week"] = base / max(weeks, 1.0)
        signals["recent_activity_per_week"] = (active - base) / RECENT_WEEKS
    if details:
        chat_details(details, as_of_ms, recent_start, features, signals)
    return features, signals
