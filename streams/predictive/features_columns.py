"""The lead features and churn signals of a whole batch of profiles, from columns.

``ProfileColumns`` is a batch of ``customer.profiles`` values as columns, as a batch decoder
gives them (``streams.io.avro_profiles``): one entry per profile, and the ``recent``
interactions of all of them one after the other with the index of their profile, their
``kind``, ``type`` and ``channel`` coded against ``VOCABULARY``. ``read_columns`` gives, per
profile, what ``features.read_profile`` gives for its dict: the counts, windows and recencies
computed over the interaction columns with numpy, the few parts that are Python arithmetic on
single numbers (day roundings, the baseline rate, the chat details) computed by the same
expressions as there.

Invariants:
- the same features (bit for bit, in the same key order), churn signals (the same keys, ints
  where ints) and purchase interactions as ``read_profile`` on each profile's dict: the
  scoring stage's tests compare both paths' outcomes;
- pure: reads the columns, changes nothing; ``check`` raises ``InvalidMessage`` when any
  profile breaks the stage's contract rules (``stage.validate``), so the batch goes message by
  message and only that profile is dead-lettered.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Raw
from streams.predictive.churn import ChurnSignals
from streams.predictive.features import (
    CHAT_CHANNEL,
    DAY_MS,
    DEMO_TYPES,
    FAILED_PAYMENT_TYPES,
    LEAD_TYPES,
    PAID,
    PURCHASE_TYPES,
    RECENT_WEEKS,
    WEB,
    WEEK_MS,
    chat_details,
)

Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]
#: what ``read_profile`` gives one profile, and the purchase interactions it saw
Read = tuple[dict[str, float], ChurnSignals, list[Mapping[str, Any]]]
_RECENT: Final = int(RECENT_WEEKS * WEEK_MS)


#: the words ``kind``, ``type`` and ``channel`` are coded against (their index; -1: another)
VOCABULARY: Final = ("touchpoint", "conversion", CHAT_CHANNEL, "email", "visit",
                     *sorted(PAID), *sorted(WEB), *sorted(PURCHASE_TYPES), *sorted(LEAD_TYPES),
                     *sorted(FAILED_PAYMENT_TYPES))
#: the identifier kinds the features read (a bit each, in this order)
IDENTIFIER_KINDS: Final = ("email", "phone", "customer_id")


def _codes(words: frozenset[str] | set[str]) -> list[int]:
    return [VOCABULARY.index(w) for w in sorted(words)]


@dataclass(frozen=True, slots=True)
class ProfileColumns:
    """A batch of profiles as columns (``n`` profiles, ``m`` interactions in all)."""

    person_id: list[str]
    version: list[int]
    updated_at: Ints
    merged: list[bool]  # merged into another person
    first_seen: list[int]  # 0 when unknown
    touchpoints: list[int]
    attributes: list[dict[str, str]]
    tags: list[list[str]]
    identifier_kinds: Ints  # per profile, bit i: an identifier of kind IDENTIFIER_KINDS[i]
    # the interactions
    profile: Ints  # index of the interaction's profile, ascending
    occurred_at: Ints
    kind: Ints  # index in VOCABULARY, -1 another word, -2 null
    type: Ints
    channel: Ints
    #: the first interaction of the profile with the same channel (-1: none, or empty)
    channel_first: Ints
    attribute_count: Ints  # entries in the interaction's attributes
    #: an interaction's ``event_id``, ``occurred_at``, ``value``, ``currency``, ``attributes``
    item: Callable[[int], dict[str, Any]]
    #: the whole profile as the message-wise decoder gives it (for what reads all of it)
    whole: Callable[[int], dict[str, Any]]


def check(c: ProfileColumns, raws: Sequence[Raw]) -> None:
    """The stage's contract rules (``stage.validate``) over the batch."""
    for raw, person, version, at in zip(raws, c.person_id, c.version, c.updated_at.tolist(),
                                        strict=True):
        if not person or raw.key_str != person or at <= 0 or version < 0:
            raise InvalidMessage("invalid_field", f"profile {person!r} breaks the contract")


def _days(ms: int) -> float:
    return round(ms / DAY_MS, 2)


def read_columns(c: ProfileColumns) -> list[Read]:
    """Per profile, ``read_profile(profile, profile's updated_at, purchases)``."""
    n = len(c.person_id)
    seg, at = c.profile, c.occurred_at
    m = {"touchpoint": c.kind == VOCABULARY.index("touchpoint"),
         "conversion": c.kind == VOCABULARY.index("conversion"),
         "chat": c.channel == VOCABULARY.index(CHAT_CHANNEL),
         "email": c.channel == VOCABULARY.index("email"),
         "paid": np.isin(c.channel, _codes(PAID)),
         "web": np.isin(c.channel, _codes(WEB)) | (c.type == VOCABULARY.index("visit")),
         "purchase": np.isin(c.type, _codes(PURCHASE_TYPES)),
         "lead": np.isin(c.type, _codes(LEAD_TYPES)),
         "demo": np.isin(c.type, _codes(DEMO_TYPES)),
         "failed": np.isin(c.type, _codes(FAILED_PAYMENT_TYPES))}
    as_of = c.updated_at[seg]
    valid = at <= as_of
    touch, conv = valid & m["touchpoint"], valid & m["conversion"]

    def count(mask: Bools) -> list[int]:
        return np.bincount(seg[mask], minlength=n).tolist()  # type: ignore[no-any-return]

    def latest(mask: Bools) -> list[int]:
        out = np.full(n, -1, dtype=np.int64)
        np.maximum.at(out, seg[mask], at[mask])
        return out.tolist()  # type: ignore[no-any-return]

    chat = touch & m["chat"]
    month = touch & (at > as_of - 30 * DAY_MS)
    channelled = month & (c.channel_first >= 0)
    distinct = np.bincount(seg[np.unique(c.channel_first[channelled])], minlength=n).tolist()
    purchase = conv & m["purchase"]
    lead = conv & ~m["purchase"] & m["lead"]
    recent_start = as_of - _RECENT
    failed = conv & ~m["purchase"] & ~m["lead"] & m["failed"] & (at >= recent_start)
    active = touch | conv
    base = active & (at < recent_start)
    first_active = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_active, seg[active], at[active])
    columns = {
        "last_touch": latest(touch), "chats": count(chat), "last_chat": latest(chat),
        "touches_30d": count(month), "touches_7d": count(month & (at > as_of - WEEK_MS)),
        "chats_30d": count(month & m["chat"]), "web": count(month & ~m["chat"] & m["web"]),
        "paid": count(channelled & m["paid"]), "email": count(month & m["email"]),
        "leads": count(lead), "demo": count(lead & m["demo"]), "bought": count(purchase),
        "failed": count(failed), "active": count(active), "base": count(base),
        "first_active": first_active.tolist(),
    }
    kinds = {k: ((c.identifier_kinds >> i) & 1).tolist() for i, k in enumerate(IDENTIFIER_KINDS)}
    bought: list[list[Mapping[str, Any]]] = [[] for _ in range(n)]
    index = np.flatnonzero(purchase)
    for i, j in zip(seg[index].tolist(), index.tolist(), strict=True):
        bought[i].append(c.item(j))
    details: list[list[tuple[int, Mapping[str, Any]]]] = [[] for _ in range(n)]
    index = np.flatnonzero(chat & (c.attribute_count > 0))
    for i, j in zip(seg[index].tolist(), index.tolist(), strict=True):
        item = c.item(j)
        details[i].append((item["occurred_at"], item["attributes"]))
    out: list[Read] = []
    for i, (as_of_ms, first_seen, touchpoints) in enumerate(zip(
            c.updated_at.tolist(), c.first_seen, c.touchpoints, strict=True)):
        last_touch, last_chat = columns["last_touch"][i], columns["last_chat"][i]
        features = {
            "tenure_days": _days(max(0, as_of_ms - first_seen)) if first_seen > 0 else math.nan,
            "days_since_last_touch": math.nan if last_touch < 0 else _days(as_of_ms - last_touch),
            "touchpoints_total": float(max(0, touchpoints)),
            "touchpoints_7d": float(columns["touches_7d"][i]),
            "touchpoints_30d": float(columns["touches_30d"][i]),
            "paid_touches_30d": float(columns["paid"][i]),
            "email_touches_30d": float(columns["email"][i]),
            "web_visits_30d": float(columns["web"][i]),
            "distinct_channels_30d": float(distinct[i]),
            "lead_conversions": float(columns["leads"][i]),
            "demo_requested": float(columns["demo"][i] > 0),
            "prior_purchases": float(columns["bought"][i]),
            "has_email": float(kinds["email"][i]),
            "has_phone": float(kinds["phone"][i]),
            "has_customer_id": float(kinds["customer_id"][i]),
            "chat_sessions_30d": float(columns["chats_30d"][i]),
            "chat_sessions_total": float(columns["chats"][i]),
            "days_since_chat": math.nan if last_chat < 0 else _days(as_of_ms - last_chat),
            "chat_escalations_90d": math.nan, "chat_last_sentiment": math.nan,
            "chat_sentiment_trend": math.nan, "chat_purchase_intent_90d": math.nan,
            "days_since_buying_chat": math.nan, "chat_cancel_intent_90d": math.nan,
            "chat_lead_signals": math.nan,
        }
        signals = ChurnSignals(failed_payments=columns["failed"][i])
        start = as_of_ms - _RECENT
        if columns["base"][i]:
            base_n = columns["base"][i]
            weeks = (start - columns["first_active"][i]) / WEEK_MS
            signals["baseline_weeks"] = weeks
            signals["baseline_activity_per_week"] = base_n / max(weeks, 1.0)
            signals["recent_activity_per_week"] = (columns["active"][i] - base_n) / RECENT_WEEKS
        if details[i]:
            chat_details(details[i], as_of_ms, start, features, signals)
        out.append((features, signals, bought[i]))
    return out
