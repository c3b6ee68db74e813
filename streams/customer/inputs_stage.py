"""The customer domain's first stage: touchpoints, conversions and CRM profile updates, checked,
put in the domain's own form and re-keyed to ``identity.observations``.

The inputs are keyed by one identifier of a person, so one person's events arrive on several
partitions and workers; identity resolution must see all of them. This stage therefore sends
every valid event, identifiers normalised (and emails and phones hashed when the setting asks),
to ``identity.observations`` under one constant key: one partition, so one worker, the single
writer of the identity graph (``identity_stage``). It holds no state.

Bad input (``validate_*``, dead-lettered with a reason): an empty id, a touchpoint or
conversion with no identifier at all, a conversion whose value is negative or not finite or
whose currency is not an ISO 4217 code, an event time more than ``MAX_FUTURE_MS`` ahead of
the wall clock. Doubtful but usable (flagged, kept, never merged on): a malformed or blocked
identifier (``malformed:<kind>``, ``blocked:<kind>``), and an event left with no usable
identifier (``no_usable_identifier``), which identity resolution then leaves unresolved.

Chats: a ``conversation.insights`` record of an ended (or timed-out) conversation becomes a
touchpoint of channel ``chat`` (type ``chat_session``, at the conversation's start, with its
outcome, channel, language, message count and mean sentiment as attributes), identified by the
conversation's customer id; insights of open conversations are skipped.

Every valid event leaves one ``customer_inputs`` row carrying its input position: that table
is what the position guard reads.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from streams.customer import contract as names
from streams.customer.identifiers import (
    DEFAULT_NORMALISATION,
    PERSON_IDENTIFIER_FIELDS,
    NormalisationPolicy,
    Normalised,
    hashed,
    normalise_identifiers,
)
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import BatchResult, Columns, OutputRecord, Raw, empty_columns
from streams.kernel.stage import Events, Input, Lookup, Outcome, Stage

NAME: Final = "customer_inputs"
MAX_FUTURE_MS: Final = 24 * 3_600_000
#: statuses of a conversation insight that make it a touchpoint
CHAT_ENDED: Final = frozenset({"ended", "timed_out"})
INPUT_COLUMNS: Final = ("event_id", "kind", "occurred_at", "identifiers", "flags", "_topic",
                        "_partition", "_offset", "_kafka_ts", "_version")
#: the CRM profile fields that become profile attributes
CRM_FIELDS: Final = ("first_name", "last_name", "company", "job_title", "country", "owner_id")
#: ISO 4217 alphabetic codes in use (no test or no-currency codes)
CURRENCIES: Final = frozenset(str.split("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED
VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""))


@dataclass(frozen=True, slots=True)
class InputsPolicy:
    """How identifiers are read and whether emails and phones are stored hashed."""

    normalisation: NormalisationPolicy = DEFAULT_NORMALISATION
    #: salt of the SHA-256 of emails and phones; None keeps the canonical values
    hash_salt: bytes | None = None
    hashed_kinds: frozenset[str] = field(default_factory=lambda: frozenset({"email", "phone"}))
    #: (physical, logical) name of each input topic; a topic not listed is its own logical name
    sources: tuple[tuple[str, str], ...] = ()


def _now_ms() -> int:
    return int(time.time() * 1000)


def _not_future(at: int, now_ms: int | None) -> None:
    now = _now_ms() if now_ms is None else now_ms
    if at > now + MAX_FUTURE_MS:
        raise InvalidMessage("invalid_field", f"event time {at} is more than a day ahead of {now}")


def _has_identifier(identifiers: Mapping[str, Any]) -> bool:
    return any(isinstance(identifiers.get(k), str) and identifiers[k].strip()
               for k in PERSON_IDENTIFIER_FIELDS)


def validate_touchpoint(raw: Raw, value: Mapping[str, Any], now_ms: int | None = None) -> None:
    if not value["touchpoint_id"].strip():
        raise InvalidMessage("invalid_field", "touchpoint_id is empty")
    if not value["channel"].strip():
        raise InvalidMessage("invalid_field", "channel is empty")
    if not _has_identifier(value["identifiers"]):
        raise InvalidMessage("invalid_field", "a touchpoint needs at least one identifier")
    _not_future(value["occurred_at"], now_ms)


def validate_conversion(raw: Raw, value: Mapping[str, Any], now_ms: int | None = None) -> None:
    if not value["conversion_id"].strip():
        raise InvalidMessage("invalid_field", "conversion_id is empty")
    amount = value["value"]
    if not math.isfinite(amount) or amount < 0:
        raise InvalidMessage("invalid_field", f"conversion value {amount!r} is negative or not finite")
    if value["currency"] not in CURRENCIES:
        raise InvalidMessage("invalid_field", f"unknown currency {value['currency']!r}")
    if not _has_identifier(value["identifiers"]):
        raise InvalidMessage("invalid_field", "a conversion needs at least one identifier")
    _not_future(value["occurred_at"], now_ms)


def validate_profile(raw: Raw, value: Mapping[str, Any], now_ms: int | None = None) -> None:
    if not value["customer_id"].strip():
        raise InvalidMessage("invalid_field", "customer_id is empty")
    ltv = value["lifetime_value"]
    if ltv is not None and not math.isfinite(ltv):
        raise InvalidMessage("invalid_field", f"lifetime_value {ltv!r} is not finite")
    _not_future(value["updated_at"], now_ms)


def validate_conversation(raw: Raw, value: Mapping[str, Any]) -> None:
    if not value["conversation_id"].strip():
        raise InvalidMessage("invalid_field", "conversation_id is empty")


def stage(policy: InputsPolicy) -> Stage:
    return Stage(
        name=NAME,
        inputs=(Input(names.TOUCHPOINTS, validate_touchpoint),
                Input(names.CONVERSIONS, validate_conversion),
                Input(names.CRM_PROFILES, validate_profile),
                Input(names.CONVERSATION_INSIGHTS, validate_conversation)),
        step=functools.partial(step, policy),
        sunk=(names.CUSTOMER_INPUTS_TABLE,),
    )


def chat_touchpoint_id(insight: Mapping[str, Any]) -> str:
    """One touchpoint per chat session (a conversation started again is a new session)."""
    return f"chat:{insight['conversation_id']}:{insight['first_event_at']}"


def _identifiers(policy: InputsPolicy, raw_ids: Mapping[str, Any]
                 ) -> tuple[list[dict[str, Any]], list[str]]:
    seen: Sequence[Normalised] = normalise_identifiers(raw_ids, policy.normalisation)
    if policy.hash_salt:
        seen = [hashed(n, policy.hash_salt, policy.hashed_kinds) for n in seen]
    flags = [f"{n.status}:{n.kind}" for n in seen if n.status != "ok"]
    if not any(n.status == "ok" for n in seen):
        flags.append("no_usable_identifier")
    return ([{"kind": n.kind, "value": n.value, "status": n.status, "reason": n.reason}
             for n in seen], flags)


def observation(policy: InputsPolicy, logical: str, raw: Raw, value: Mapping[str, Any]
                ) -> dict[str, Any]:
    """A valid input event in the domain's form (``customer_event.v1.avsc``), person unknown."""
    out: dict[str, Any] = {
        "person_id": None, "source_topic": raw.topic, "source_partition": raw.partition,
        "source_offset": raw.offset, "type": None, "channel": None, "platform": None,
        "campaign_id": None, "value": None, "currency": None, "order_id": None,
        "lifecycle_stage": None, "attributes": {}, "tags": [], "deleted": False,
        "merged_into": None, "state": None,
    }
    if logical == names.CRM_PROFILES:
        ids, flags = _identifiers(policy, {"customer_id": value["customer_id"],
                                           "email": value["email"], "phone": value["phone"]})
        attributes = {k: value[k] for k in CRM_FIELDS if value[k] is not None}
        attributes.update(value["attributes"])
        out.update(event_id=f"crm:{value['customer_id']}:{value['updated_at']}", kind="profile",
                   occurred_at=value["updated_at"], value=value["lifetime_value"],
                   currency=value["currency"], lifecycle_stage=value["lifecycle_stage"],
                   attributes=attributes, tags=list(value["tags"]), deleted=value["deleted"])
    elif logical == names.CONVERSATION_INSIGHTS:
        ids, flags = _identifiers(policy, {"customer_id": value["customer_id"] or None})
        attributes = {"outcome": value["status"], "chat_channel": value["channel"],
                      "language": value["language"], "messages": str(value["messages"])}
        if value["sentiment_mean"] is not None:
            attributes["sentiment_mean"] = f"{value['sentiment_mean']:.4f}"
        # v2: what the lead and churn features read of the conversation (strings, as attributes are)
        if value.get("intent"):
            attributes["intent"] = value["intent"]
            if value.get("intent_confidence") is not None:
                attributes["intent_confidence"] = f"{value['intent_confidence']:.4f}"
        attributes["escalations"] = str(value.get("escalations") or 0)
        attributes["lead_signals"] = str(value.get("lead_signals") or 0)
        out.update(event_id=chat_touchpoint_id(value), kind="touchpoint",
                   occurred_at=value["first_event_at"], type="chat_session", channel="chat",
                   attributes=attributes)
    elif logical == names.CONVERSIONS:
        ids, flags = _identifiers(policy, value["identifiers"])
        out.update(event_id=value["conversion_id"], kind="conversion",
                   occurred_at=value["occurred_at"], type=value["type"], value=value["value"],
                   currency=value["currency"], order_id=value["order_id"],
                   attributes=dict(value["properties"]))
    else:
        ids, flags = _identifiers(policy, value["identifiers"])
        out.update(event_id=value["touchpoint_id"], kind="touchpoint",
                   occurred_at=value["occurred_at"], type=value["type"],
                   channel=value["channel"], platform=value["platform"],
                   campaign_id=value["campaign_id"], attributes=dict(value["properties"]))
    out["identifiers"] = ids
    out["flags"] = flags
    return out


def step(policy: InputsPolicy, events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    """Every valid event: one ``customer_inputs`` row and one observation keyed to the single
    identity partition."""
    cols: Columns = empty_columns(INPUT_COLUMNS)
    outputs: list[OutputRecord] = []
    logical_of = dict(policy.sources)
    for raw, value in zip(events.raws, events.values, strict=True):
        logical = logical_of.get(raw.topic, raw.topic)
        if logical == names.CONVERSATION_INSIGHTS and value["status"] not in CHAT_ENDED:
            continue  # a chat becomes a touchpoint once, when it has ended
        obs = observation(policy, logical, raw, value)
        outputs.append(OutputRecord(names.IDENTITY_OBSERVATIONS, names.OBSERVATION_KEY, obs))
        cols["event_id"].append(obs["event_id"])
        cols["kind"].append(obs["kind"])
        cols["occurred_at"].append(obs["occurred_at"])
        cols["identifiers"].append([f"{i['kind']}:{i['value']}:{i['status']}"
                                    for i in obs["identifiers"]])
        cols["flags"].append(obs["flags"])
        cols["_topic"].append(raw.topic)
        cols["_partition"].append(raw.partition)
        cols["_offset"].append(raw.offset)
        cols["_kafka_ts"].append(raw.timestamp_ms)
        cols["_version"].append(raw.offset)
    return Outcome(BatchResult(inserts={names.CUSTOMER_INPUTS_TABLE: cols}, outputs=outputs))

