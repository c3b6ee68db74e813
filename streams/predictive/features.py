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
- ``CONVERSATION_FEATURES`` are the ones taken from chat sessions (the conversation signals the
  profile carries: chat touchpoints), so a model can be trained with and without them;
- the churn signals are those of ``churn.ChurnSignals`` the profile can give (activity against
  the person's own baseline, failed payments); sentiment, cancellation intents and escalations
  are not on the profile (v1) and stay absent, which ``churn.assess`` reads as no evidence.
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

CONVERSATION_FEATURES: Final = ("chat_sessions_30d", "chat_sessions_total", "days_since_chat")
BEHAVIOUR_FEATURES: Final = (
    "tenure_days", "days_since_last_touch", "touchpoints_total", "touchpoints_7d",
    "touchpoints_30d", "paid_touches_30d", "email_touches_30d", "web_visits_30d",
    "distinct_channels_30d", "lead_conversions", "demo_requested", "prior_purchases",
    "has_email", "has_phone", "has_customer_id",
)
FEATURES: Final = BEHAVIOUR_FEATURES + CONVERSATION_FEATURES
#: the churn signals as model features (absent: NaN), after the lead features
CHURN_SIGNAL_FEATURES: Final = ("baseline_activity_per_week", "recent_activity_per_week",
                                "baseline_weeks", "failed_payments")
CHURN_MODEL_FEATURES: Final = FEATURES + CHURN_SIGNAL_FEATURES

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
    "baseline_activity_per_week": ReasonCode("USUAL_ACTIVITY", "usually {value} interactions a week"),
    "recent_activity_per_week": ReasonCode("RECENT_ACTIVITY", "{value} interactions a week lately"),
    "baseline_weeks": ReasonCode("HISTORY", "{value} weeks of history"),
    "failed_payments": ReasonCode("FAILED_PAYMENTS", "{value} failed payments lately",
                                  "no failed payment lately"),
}


def _kinds(identifiers: Any) -> set[str]:
    return {str(i).split(":", 1)[0] for i in identifiers or ()}


def _days(ms: float) -> float:
    return round(ms / DAY_MS, 2)


def lead_features(profile: Mapping[str, Any], as_of_ms: int) -> dict[str, float]:
    """The lead model's features of ``profile`` as of ``as_of_ms`` (epoch ms)."""
    return read_profile(profile, as_of_ms)[0]


def churn_signals(profile: Mapping[str, Any], as_of_ms: int) -> ChurnSignals:
    """Activity of the last ``RECENT_WEEKS`` against the person's own rate before them (from
    the interactions the profile holds), and failed payments in the recent window."""
    return read_profile(profile, as_of_ms)[1]


def read_profile(profile: Mapping[str, Any], as_of_ms: int) -> tuple[dict[str, float], ChurnSignals]:
    """The lead features and the churn signals of ``profile`` as of ``as_of_ms``, in one pass
    over its recent interactions (the stream's hot path)."""
    week, month = as_of_ms - WEEK_MS, as_of_ms - 30 * DAY_MS
    recent_start = as_of_ms - int(RECENT_WEEKS * WEEK_MS)
    touches_7d = touches_30d = paid = email = web = leads = purchases = 0
    chats = chats_30d = failed = active = base = 0
    demo = False
    channels: set[str] = set()
    first_active: int | None = None
    last_touch = last_chat = -1
    paid_channels, web_channels, chat = PAID, WEB, CHAT_CHANNEL  # locals: the loop is hot
    lead_types, demo_types = LEAD_TYPES, DEMO_TYPES
    purchase_types, failed_types = PURCHASE_TYPES, FAILED_PAYMENT_TYPES
    for i in profile.get("recent") or ():
        at = int(i["occurred_at"])
        if at > as_of_ms:
            continue
        kind = i["kind"]
        if kind == "touchpoint":
            channel = i.get("channel")
            if at > last_touch:
                last_touch = at
            this_month = at > month
            if channel == chat:
                chats += 1
                if at > last_chat:
                    last_chat = at
                chats_30d += this_month
            elif this_month and (channel in web_channels or i.get("type") == "visit"):
                web += 1
            if this_month:
                touches_30d += 1
                touches_7d += at > week
                if channel:
                    paid += channel in paid_channels
                    email += channel == "email"
                    channels.add(channel)
        elif kind == "conversion":
            type_ = i.get("type")
            leads += type_ in lead_types
            demo = demo or type_ in demo_types
            purchases += type_ in purchase_types
            failed += type_ in failed_types and at >= recent_start
        else:
            continue
        active += 1
        if at < recent_start:
            base += 1
        if first_active is None or at < first_active:
            first_active = at
    kinds = _kinds(profile.get("identifiers"))
    first_seen = int(profile.get("first_seen") or 0)
    features = {
        "tenure_days": _days(max(0, as_of_ms - first_seen)) if first_seen > 0 else math.nan,
        "days_since_last_touch": math.nan if last_touch < 0 else _days(as_of_ms - last_touch),
        "touchpoints_total": float(max(0, int(profile.get("touchpoints") or 0))),
        "touchpoints_7d": float(touches_7d),
        "touchpoints_30d": float(touches_30d),
        "paid_touches_30d": float(paid),
        "email_touches_30d": float(email),
        "web_visits_30d": float(web),
        "distinct_channels_30d": float(len(channels)),
        "lead_conversions": float(leads),
        "demo_requested": float(demo),
        "prior_purchases": float(purchases),
        "has_email": float("email" in kinds),
        "has_phone": float("phone" in kinds),
        "has_customer_id": float("customer_id" in kinds),
        "chat_sessions_30d": float(chats_30d),
        "chat_sessions_total": float(chats),
        "days_since_chat": math.nan if last_chat < 0 else _days(as_of_ms - last_chat),
    }
    signals = ChurnSignals(failed_payments=failed)
    if base and first_active is not None:
        weeks = (recent_start - first_active) / WEEK_MS
        signals["baseline_weeks"] = weeks
        signals["baseline_activity_per_week"] = base / max(weeks, 1.0)
        signals["recent_activity_per_week"] = (active - base) / RECENT_WEEKS
    return features, signals
