"""People with several devices and identifiers, and the touchpoints, conversions and CRM
profile updates they leave, with the ground truth (who is who) that the events do not carry.

Each person browses anonymously from one to three devices (an ``anonymous_id`` and a
``device_id`` per device), then identifies on each device (a touchpoint carrying the email and
that device's anonymous id), may have a CRM profile (customer id, email, phone), and converts
zero to two times after that. Every identifier of a person is thus joined to the others by some
event, so the persons identity resolution should find are exactly the simulated people. The
Kafka key of each input event is its first present identifier, as producers key them: one
person's events land on several partitions.

``Person.events`` lists a person's events in time order; ``customers`` gives everyone's,
merged in time order, split into the identity phase (everything but conversions) and the
conversions, which all come later, so a conversion's journey is known once its identity is.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from streams import topics
from streams.customer.attribution import DAY_MS, person_key
from streams.kernel.records import OutputRecord

HOUR_MS: Final = 3_600_000
T0: Final = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
CHANNELS: Final = ("paid_search", "display", "social", "organic_search", "email", "direct",
                   "referral")
CAMPAIGNS: Final = {"paid_search": ("gads_brand", "gads_generic"), "display": ("dv_retarget",),
                    "social": ("meta_prospecting", "meta_retarget"), "email": ("newsletter",)}
FIRST: Final = ("ada", "bo", "chen", "dana", "emil", "fatima", "goran", "hana", "ivan", "jo")
LAST: Final = ("smith", "garcia", "kowalski", "nguyen", "okafor", "rossi", "schmidt", "tanaka")


@dataclass
class Person:
    """One simulated person: identifiers (canonical ``<kind>:<value>``) and events."""

    index: int
    identifiers: set[str] = field(default_factory=set)
    events: list[OutputRecord] = field(default_factory=list)

    @property
    def touchpoints(self) -> list[dict[str, Any]]:
        return [e.value for e in self.events if e.topic == topics.TOUCHPOINTS]

    @property
    def conversions(self) -> list[dict[str, Any]]:
        return [e.value for e in self.events if e.topic == topics.CONVERSIONS]


def _ids(**given: str | None) -> dict[str, str | None]:
    out: dict[str, str | None] = {k: None for k in ("customer_id", "email", "phone",
                                                    "anonymous_id", "device_id")}
    out.update(given)
    return out


def _record(topic: str, value: dict[str, Any]) -> OutputRecord:
    ids = value["identifiers"] if topic != topics.CRM_PROFILES else {
        "customer_id": value["customer_id"]}
    return OutputRecord(topic, person_key(ids) or "nobody", value)


def _touchpoint(rng: random.Random, at: int, ids: dict[str, str | None],
                channel: str | None = None) -> OutputRecord:
    channel = channel or rng.choice(CHANNELS)
    campaigns = CAMPAIGNS.get(channel)
    return _record(topics.TOUCHPOINTS, {
        "touchpoint_id": f"tp_{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}",
        "occurred_at": at, "type": "visit" if channel in ("direct", "organic_search") else "click",
        "channel": channel, "platform": None,
        "campaign_id": rng.choice(campaigns) if campaigns else None,
        "ad_group_id": None, "ad_id": None,
        "utm": {"source": None, "medium": None, "campaign": None, "term": None, "content": None},
        "identifiers": ids, "url": None, "referrer": None, "properties": {}})


def person(rng: random.Random, index: int, start: int) -> Person:
    """One person's identifiers and events from ``start`` on (all within about two weeks)."""
    p = Person(index)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = f"{first}.{last}.{index}@mail{index % 7}.net"
    phone = f"+1212{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    customer_id = f"cus_{index:06d}" if rng.random() < 0.6 else None
    p.identifiers.add(f"email:{email}")
    at = start
    devices = [(f"anon_{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}",
                f"dev_{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}")
               for _ in range(rng.randint(1, 3))]
    for anon, device in devices:
        p.identifiers |= {f"anonymous_id:{anon}", f"device_id:{device}"}
        for _ in range(rng.randint(1, 3)):
            at += rng.randint(1, 24) * HOUR_MS
            p.events.append(_touchpoint(rng, at, _ids(anonymous_id=anon, device_id=device)))
        at += rng.randint(1, 12) * HOUR_MS  # identifies on this device
        p.events.append(_touchpoint(rng, at, _ids(email=email.upper() if rng.random() < 0.3
                                                  else email, anonymous_id=anon), "email"))
    if customer_id is not None:
        at += HOUR_MS
        p.identifiers |= {f"customer_id:{customer_id}", f"phone:{phone}"}
        p.events.append(_record(topics.CRM_PROFILES, {
            "customer_id": customer_id, "updated_at": at, "email": email, "phone": phone,
            "first_name": first.title(), "last_name": last.title(), "company": None,
            "job_title": None, "country": "US", "lifecycle_stage": "lead", "owner_id": None,
            "lifetime_value": None, "currency": None, "attributes": {"segment": "retail"},
            "tags": ["simulated"], "deleted": False}))
    return p


def conversions_of(rng: random.Random, p: Person, start: int) -> None:
    """Zero to two conversions from ``start`` on, identified by email or customer id."""
    email = next(i.split(":", 1)[1] for i in p.identifiers if i.startswith("email:"))
    cid = next((i.split(":", 1)[1] for i in p.identifiers if i.startswith("customer_id:")), None)
    anon = sorted(i.split(":", 1)[1] for i in p.identifiers if i.startswith("anonymous_id:"))
    at = start
    for _ in range(rng.choice((0, 1, 1, 2))):
        at += rng.randint(1, 48) * HOUR_MS
        ids = _ids(customer_id=cid) if cid and rng.random() < 0.5 else _ids(
            email=email, anonymous_id=rng.choice(anon))
        p.events.append(_record(topics.CONVERSIONS, {
            "conversion_id": f"cv_{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}",
            "occurred_at": at, "type": "purchase", "value": round(rng.uniform(5, 500), 2),
            "currency": rng.choice(("USD", "EUR")), "order_id": None, "identifiers": ids,
            "properties": {}}))


def customers(n: int, seed: int = 0) -> tuple[list[Person], list[OutputRecord], list[OutputRecord]]:
    """``n`` people; their identity-phase events and their conversions, each in time order."""
    rng = random.Random(seed)
    people = [person(rng, i, T0 + rng.randint(0, 3 * DAY_MS)) for i in range(n)]
    identity = sorted((e for p in people for e in p.events), key=_time)
    for p in people:
        conversions_of(rng, p, T0 + 20 * DAY_MS)
    converted = sorted((e for p in people for e in p.events if e.topic == topics.CONVERSIONS),
                       key=_time)
    return people, identity, converted


def _time(record: OutputRecord) -> int:
    v = record.value
    return int(v.get("occurred_at") or v["updated_at"])


def bad_events(seed: int = 0) -> list[OutputRecord]:
    """Events the pipeline must refuse (dead letters) or flag: no identifier, a negative, an
    infinite and an unknown-currency conversion, a far-future touchpoint, and a touchpoint
    whose only identifiers are malformed or blocked (kept, flagged, never merged)."""
    rng = random.Random(seed)
    ok = _ids(email=f"bad.{seed}@mail.net")
    conv = {"conversion_id": "cv_bad", "occurred_at": T0, "type": "purchase", "value": 10.0,
            "currency": "USD", "order_id": None, "identifiers": ok, "properties": {}}
    return [
        _touchpoint(rng, T0, _ids()),
        _record(topics.CONVERSIONS, {**conv, "conversion_id": "cv_negative", "value": -1.0}),
        _record(topics.CONVERSIONS, {**conv, "conversion_id": "cv_inf", "value": float("inf")}),
        _record(topics.CONVERSIONS, {**conv, "conversion_id": "cv_xyz", "currency": "XYZ"}),
        _touchpoint(rng, T0 + 400 * DAY_MS * 10, ok),
        _touchpoint(rng, T0, _ids(email="not-an-email", phone="0000000000")),
    ]
