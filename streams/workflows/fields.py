"""The events the workflow engine reads, as plain dicts, and where their fields come from.

Every name the engine knows of a person's data lives here, so that mapping a new source (the
unified profile, conversation outcomes, market intelligence) is a change to this one module.

Invariants:
- an event has a unique ``event_id`` (a redelivered event carries the same id), a ``kind``,
  a ``subject`` (the person id; a market key such as ``market:<competitor>`` for market
  events) and an event time ``occurred_at`` in epoch milliseconds;
- everything a condition can test is under ``facts`` as plain JSON values (dotted paths
  reach into nested dicts: ``scores.lead_score``, ``conversation.intent``);
- consent, opt-outs and quiet hours are read from the profile only (``from_profile``);
  an event that carries none keeps what the state last saw.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final, Literal, NotRequired, TypedDict

Kind = Literal["profile", "conversation", "market"]
KINDS: Final[tuple[str, ...]] = ("profile", "conversation", "market")


class QuietHours(TypedDict):
    """Local hours [start, end) during which no outbound message is sent; ``start > end``
    wraps midnight (22 → 7)."""

    start: int
    end: int
    timezone: str  # IANA name; unknown names fall back to UTC


class Preferences(TypedDict):
    """What the person allowed: consent per channel, opted-out channels (``all`` for every
    channel), quiet hours."""

    consent: dict[str, bool]
    opted_out: list[str]
    quiet_hours: NotRequired[QuietHours | None]
    timezone: NotRequired[str]  # IANA name: the person's local day (the daily cap)


class PersonEvent(TypedDict):
    event_id: str
    kind: str  # one of KINDS
    subject: str
    occurred_at: int
    facts: dict[str, Any]
    preferences: NotRequired[Preferences | None]
    #: increases with every event of this kind and subject (a profile's version): an event
    #: at or below the last one absorbed is a redelivery or stale, however old
    sequence: NotRequired[int]


class ConversationOutcome(TypedDict):
    """An ended conversation, re-keyed by its person (from ``conversation.insights``)."""

    conversation_id: str
    person_id: str
    ended_at: int
    intent: str
    sentiment: float
    resolved: bool
    escalated: bool
    products: NotRequired[list[str]]


class MarketEvent(TypedDict):
    """Market intelligence: a competitor's move seen on a segment or campaign."""

    event_id: str
    occurred_at: int
    type: str  # competitor_price_drop, competitor_campaign, share_of_voice_drop, ...
    competitor: str
    segment: str
    magnitude: float


# --- profile field names (customer.profiles, CustomerProfile v1) ---------------------------
PERSON_ID: Final = "person_id"
PROFILE_VERSION: Final = "version"
UPDATED_AT: Final = "updated_at"
LIFECYCLE_STAGE: Final = "lifecycle_stage"
SCORES: Final = "scores"
ATTRIBUTES: Final = "attributes"
TAGS: Final = "tags"
REVENUE: Final = "revenue"
CONVERSIONS: Final = "conversions"
TOUCHPOINTS: Final = "touchpoints"
#: score names the predictive stages write into ``scores``
LEAD_SCORE: Final = "lead_score"
CHURN_RISK: Final = "churn_risk"
PREDICTED_VALUE: Final = "predicted_value"
#: CRM attributes that carry the person's preferences
CONSENT_PREFIX: Final = "consent_"  # consent_email = "true" / "false"
OPT_OUT: Final = "opt_out"  # "email,sms" or "all"
OPT_OUT_TAG_PREFIX: Final = "opt_out:"  # tag opt_out:email
UNSUBSCRIBED: Final = "unsubscribed"  # "true": opted out of email
QUIET_HOURS: Final = "quiet_hours"  # "22-07" or "22:00-07:00"
TIMEZONE: Final = "timezone"

_TRUE: Final = frozenset({"true", "yes", "1", "granted", "opt_in", "y"})


def _as_bool(text: str) -> bool:
    return text.strip().lower() in _TRUE


def _quiet_hours(attributes: Mapping[str, str]) -> QuietHours | None:
    spec = attributes.get(QUIET_HOURS, "").strip()
    if not spec or "-" not in spec:
        return None
    first, _, last = spec.partition("-")
    try:
        start, end = int(first.split(":")[0]), int(last.split(":")[0])
    except ValueError:
        return None
    if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
        return None
    return QuietHours(start=start, end=end, timezone=attributes.get(TIMEZONE, "UTC") or "UTC")


def preferences_of(attributes: Mapping[str, str], tags: list[str]) -> Preferences:
    consent = {key[len(CONSENT_PREFIX):]: _as_bool(value) for key, value in attributes.items()
               if key.startswith(CONSENT_PREFIX)}
    opted = {part.strip().lower() for part in attributes.get(OPT_OUT, "").split(",")
             if part.strip()}
    opted |= {tag[len(OPT_OUT_TAG_PREFIX):] for tag in tags if tag.startswith(OPT_OUT_TAG_PREFIX)}
    if _as_bool(attributes.get(UNSUBSCRIBED, "")):
        opted.add("email")
    return Preferences(consent=consent, opted_out=sorted(opted),
                       quiet_hours=_quiet_hours(attributes),
                       timezone=attributes.get(TIMEZONE, "UTC") or "UTC")


def from_profile(profile: Mapping[str, Any]) -> PersonEvent:
    """A ``customer.profiles`` value (one version of a person's profile) as an event."""
    attributes: dict[str, str] = dict(profile.get(ATTRIBUTES) or {})
    tags: list[str] = list(profile.get(TAGS) or [])
    scores: dict[str, float] = dict(profile.get(SCORES) or {})
    person = str(profile[PERSON_ID])
    facts: dict[str, Any] = {
        LIFECYCLE_STAGE: profile.get(LIFECYCLE_STAGE, ""),
        SCORES: scores,
        ATTRIBUTES: attributes,
        TAGS: tags,
        REVENUE: dict(profile.get(REVENUE) or {}),
        CONVERSIONS: int(profile.get(CONVERSIONS) or 0),
        TOUCHPOINTS: int(profile.get(TOUCHPOINTS) or 0),
    }
    return PersonEvent(
        event_id=f"profile:{person}:{int(profile.get(PROFILE_VERSION) or 0)}",
        kind="profile", subject=person, occurred_at=int(profile[UPDATED_AT]), facts=facts,
        preferences=preferences_of(attributes, tags),
        sequence=int(profile.get(PROFILE_VERSION) or 0))


def from_conversation(outcome: ConversationOutcome) -> PersonEvent:
    facts: dict[str, Any] = {"conversation": {
        "intent": outcome["intent"], "sentiment": outcome["sentiment"],
        "resolved": outcome["resolved"], "escalated": outcome["escalated"],
        "products": list(outcome.get("products", [])),
    }}
    return PersonEvent(event_id=f"conversation:{outcome['conversation_id']}",
                       kind="conversation", subject=outcome["person_id"],
                       occurred_at=outcome["ended_at"], facts=facts)


def from_market(event: MarketEvent) -> PersonEvent:
    """A market event's subject is its segment: the competitive response fires once per
    segment and window."""
    facts: dict[str, Any] = {"market": {
        "type": event["type"], "competitor": event["competitor"], "segment": event["segment"],
        "magnitude": event["magnitude"],
    }}
    return PersonEvent(event_id=f"market:{event['event_id']}", kind="market",
                       subject=f"market:{event['segment']}", occurred_at=event["occurred_at"],
                       facts=facts)


@functools.lru_cache(maxsize=1024)
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def fact(facts: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of ``facts``, or None."""
    node: Any = facts
    for part in _parts(path):
        if type(node) is not dict:  # facts are plain JSON: dicts, not other mappings
            return None
        node = node.get(part)
    return node
