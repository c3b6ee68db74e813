"""The events the workflow engine reads, as plain dicts, and where their fields come from.

Every name the engine knows of a person's data lives here, so that mapping a new source (the
unified profile, conversation outcomes, market intelligence) is a change to this one module.

Invariants:
- an event has a unique ``event_id`` (a redelivered event carries the same id), a ``kind``,
  a ``subject`` (the person id; a market key such as ``market:<competitor>`` for market
  events) and an event time ``occurred_at`` in epoch milliseconds;
- everything a condition can test is under ``facts`` as plain JSON values (dotted paths
  reach into nested dicts: ``scores.lead_score``, ``conversation.intent``);
- consent, opt-outs, quiet hours and contacts are read from the profile only
  (``from_profile``); an event that carries none keeps what the state last saw;
- a score (``from_score``, a ``customer.scores`` value) is a ``profile`` event with
  ``partial`` facts: the engine merges it into the person's view (the latest profile and the
  latest score of each kind: ``score.lead``, ``score.churn``, ``clv.expected_value``,
  ``next_best_action`` and its ``personalisation.*``: recommendations and the best contact
  time), so profile workflows fire on score changes; its ``sequence`` is its ``scored_at``,
  counted per score kind (``stream``).
"""

from __future__ import annotations

import functools
import hashlib
import math
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
    #: what ``sequence`` counts (default: ``kind``), e.g. ``score.lead``
    stream: NotRequired[str]
    #: facts that update the person's view one level deep (a score), instead of replacing
    #: the profile's part of it
    partial: NotRequired[bool]
    #: how to reach the person (``email``, ``phone``), from the profile's identifiers
    contacts: NotRequired[dict[str, str]]


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
#: customer.scores kinds -> (view key, field): ``score.lead``, ``score.churn``,
#: ``clv.expected_value``; ``next_best_action`` is the action's label at the top level
SCORE_KINDS: Final = ("lead", "churn", "clv", "next_best_action")
SCORE_FACTS: Final[Mapping[str, tuple[str, str]]] = {
    "lead": ("score", "lead"), "churn": ("score", "churn"), "clv": ("clv", "expected_value")}
NEXT_BEST_ACTION: Final = "next_best_action"
#: recommendations and the best contact time of the next best action (``personalisation_of``)
PERSONALISATION: Final = "personalisation"
#: profile ``scores`` names that feed the same facts (a profile that carries them)
_PROFILE_SCORE_FACTS: Final[Mapping[str, tuple[str, str]]] = {
    LEAD_SCORE: ("score", "lead"), CHURN_RISK: ("score", "churn"),
    PREDICTED_VALUE: ("clv", "expected_value")}
#: view keys merged one level deep (several sources fill them)
MERGED_FACTS: Final = frozenset({"score", "clv", "score_labels", "score_reasons"})
IDENTIFIERS: Final = "identifiers"
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
    for name, (group, key) in _PROFILE_SCORE_FACTS.items():
        if name in scores:
            facts.setdefault(group, {})[key] = scores[name]
    return PersonEvent(
        event_id=f"profile:{person}:{int(profile.get(PROFILE_VERSION) or 0)}",
        kind="profile", subject=person, occurred_at=int(profile[UPDATED_AT]), facts=facts,
        preferences=preferences_of(attributes, tags),
        sequence=int(profile.get(PROFILE_VERSION) or 0),
        contacts=contacts_of(list(profile.get(IDENTIFIERS) or [])))


def contacts_of(identifiers: list[str]) -> dict[str, str]:
    """The first email and phone of a profile's ``<kind>:<value>`` identifiers."""
    out: dict[str, str] = {}
    for identifier in identifiers:
        kind, _, value = identifier.partition(":")
        if kind in ("email", "phone") and value and kind not in out:
            out[kind] = value
    return out


def sha256_of(kind: str, value: str) -> str:
    """A contact as ad platforms' customer-match uploads take it: SHA-256 (hex) of the
    normalised value (emails trimmed and lower-cased, phones as E.164 digits with ``+``)."""
    if kind == "email":
        norm = value.strip().lower()
    else:
        digits = "".join(ch for ch in value if ch.isdigit())
        norm = f"+{digits}" if digits else ""
    return hashlib.sha256(norm.encode()).hexdigest() if norm else ""


def from_score(record: Mapping[str, Any]) -> PersonEvent:
    """A ``customer.scores`` value (one prediction of one kind on a person) as an event that
    updates the person's view: ``score.<lead|churn>``, ``clv.expected_value`` or
    ``next_best_action``, with the label and reasons under ``score_labels.<kind>`` and
    ``score_reasons.<kind>``."""
    person, kind = str(record[PERSON_ID]), str(record["kind"])
    scored_at = int(record["scored_at"])
    score = float(record["score"])
    facts: dict[str, Any] = {
        "score_labels": {kind: str(record.get("label") or "")},
        "score_reasons": {kind: list(record.get("reasons") or [])},
    }
    if kind == NEXT_BEST_ACTION:
        facts[NEXT_BEST_ACTION] = str(record.get("label") or "")
        # always set: a next best action without personalisation clears the last one
        facts[PERSONALISATION] = personalisation_of(record.get("details") or {})
    elif kind in SCORE_FACTS and math.isfinite(score):
        group, name = SCORE_FACTS[kind]
        facts[group] = {name: score}
    return PersonEvent(event_id=f"score:{person}:{kind}:{scored_at}", kind="profile",
                       subject=person, occurred_at=scored_at, facts=facts,
                       sequence=scored_at, stream=f"score.{kind}", partial=True)


def personalisation_of(details: Mapping[str, str]) -> dict[str, Any]:
    """The personalisation a next best action carries (``recommend_profile.details``) as
    facts: ``recommended`` (a list, best first: test it with ``contains``),
    ``best_contact_hour_of_week`` (0 = Monday 00:00 UTC), ``best_contact_hour`` (of the day,
    UTC), ``best_contact_time`` (``tue 18:00 UTC``), ``service`` (a service the person's
    conversations call for, e.g. ``retention_call``); empty when there is none."""
    out: dict[str, Any] = {}
    if details.get("recommended"):
        out["recommended"] = [i for i in details["recommended"].split(",") if i]
    hour = details.get("best_contact_hour_of_week", "")
    if hour.isdigit():
        out["best_contact_hour_of_week"] = int(hour)
        out["best_contact_hour"] = int(hour) % 24
        out["best_contact_time"] = details.get("best_contact_time", "")
    if details.get("service_suggestion"):
        out["service"] = details["service_suggestion"]
    return out


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
