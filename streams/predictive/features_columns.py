"""The lead features and churn signals of a whole batch of profiles, from columns.

``ProfileColumns`` is a batch of ``customer.profiles`` values as columns (``profile_columns``
reads them from the DataFrame a batch decoder gives, ``streams.io.avro_batch``): one entry
per profile, and the ``recent`` interactions of all of them one after the other with the index
of their profile. ``read_columns`` gives, per profile, what ``features.read_profile`` gives for
its dict: the counts, windows and recencies computed over the interaction columns with numpy,
the few parts that are Python arithmetic on single numbers (day roundings, the baseline rate,
the chat details) computed by the same expressions as there.

Invariants:
- the same features (bit for bit, in the same key order), churn signals (the same keys, ints
  where ints) and purchase interactions as ``read_profile`` on each profile's dict: the
  scoring stage's tests compare both paths' outcomes;
- pure: reads the columns, changes nothing; a contract violation of any profile raises
  ``InvalidMessage`` from ``profile_columns`` (the stage's ``validate`` rules), so the batch
  goes message by message and only that profile is dead-lettered.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import polars as pl
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
    identifier_kinds: Mapping[str, Bools]  # ``email``, ``phone``, ``customer_id`` -> per profile
    # the interactions
    profile: Ints  # index of the interaction's profile, ascending
    occurred_at: Ints
    masks: Mapping[str, Bools]  # kind, channel and type tests (``_MASKS``)
    channel: Ints  # a code per distinct channel (-1: none or empty)
    recent: pl.DataFrame  # the interaction columns, for the few rows read one by one
    #: the whole profile as the message-wise decoder gives it (for what reads all of it)
    whole: Callable[[int], dict[str, Any]]


def _is(column: str, values: frozenset[str] | set[str]) -> pl.Expr:
    return pl.col(column).is_in(sorted(values)).fill_null(False)


#: the tests ``read_profile`` makes of an interaction, as expressions over its columns
_MASKS: Final = {
    "touchpoint": _is("kind", {"touchpoint"}),
    "conversion": _is("kind", {"conversion"}),
    "chat": _is("channel", {CHAT_CHANNEL}),
    "email": _is("channel", {"email"}),
    "paid": _is("channel", set(PAID)),
    "web": _is("channel", set(WEB)) | _is("type", {"visit"}),
    "purchase": _is("type", set(PURCHASE_TYPES)),
    "lead": _is("type", set(LEAD_TYPES)),
    "demo": _is("type", set(DEMO_TYPES)),
    "failed": _is("type", set(FAILED_PAYMENT_TYPES)),
    "details": pl.col("attributes").map.len().fill_null(0) > 0,
}
_KINDS: Final = ("email", "phone", "customer_id")


def profile_columns(frame: pl.DataFrame, raws: Sequence[Raw],
                    whole: Callable[[int], dict[str, Any]]) -> ProfileColumns:
    """``frame`` (one row per message of ``raws``) as columns; raises ``InvalidMessage`` when
    a profile breaks the stage's contract rules (``stage.validate``)."""
    persons: list[str] = frame["person_id"].to_list()
    versions: list[int] = frame["version"].to_list()
    updated = frame["updated_at"].to_numpy()
    for raw, person, version, at in zip(raws, persons, versions, updated.tolist(), strict=True):
        if not person or raw.key_str != person or at <= 0 or version < 0:
            raise InvalidMessage("invalid_field", f"profile {person!r} breaks the contract")
    kinds = frame.select(**{k: pl.col("identifiers").list.eval(
        pl.element().str.split(":").list.first() == k).list.any().fill_null(False)
        for k in _KINDS})
    lengths = frame["recent"].list.len().to_numpy()
    recent = frame["recent"].explode(empty_as_null=False).struct.unnest()
    if int(lengths.sum()) != recent.height:
        recent = recent.filter(pl.col("kind").is_not_null())  # the nulls of empty lists
    tests = recent.select(**_MASKS, code=pl.when(pl.col("channel") != "")
                          .then(pl.col("channel").rank("dense")).otherwise(None)
                          .fill_null(0).cast(pl.Int64) - 1)
    return ProfileColumns(
        person_id=persons, version=versions, updated_at=updated.astype(np.int64),
        merged=[bool(m) for m in frame["merged_into"].to_list()],
        first_seen=frame["first_seen"].fill_null(0).to_list(),
        touchpoints=frame["touchpoints"].fill_null(0).to_list(),
        attributes=frame["attributes"].to_list(), tags=frame["tags"].to_list(),
        identifier_kinds={k: kinds[k].to_numpy() for k in _KINDS},
        profile=np.repeat(np.arange(len(persons), dtype=np.int64), lengths),
        occurred_at=recent["occurred_at"].to_numpy().astype(np.int64),
        masks={k: tests[k].to_numpy() for k in _MASKS}, channel=tests["code"].to_numpy(),
        recent=recent, whole=whole)


def _days(ms: int) -> float:
    return round(ms / DAY_MS, 2)


def read_columns(c: ProfileColumns) -> list[Read]:
    """Per profile, ``read_profile(profile, profile's updated_at, purchases)``."""
    n = len(c.person_id)
    seg, at, m = c.profile, c.occurred_at, c.masks
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
    channelled = month & (c.channel >= 0)
    pairs = np.unique(seg[channelled] * (int(c.channel.max(initial=0)) + 1) + c.channel[channelled])
    distinct = np.bincount(pairs // (int(c.channel.max(initial=0)) + 1), minlength=n).tolist()
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
    kinds = {k: v.tolist() for k, v in c.identifier_kinds.items()}
    bought = _purchases(c, purchase, n)
    details = _details(c, chat & m["details"], n)
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


def _rows(c: ProfileColumns, mask: Bools, fields: Sequence[str]
          ) -> tuple[list[int], list[dict[str, Any]]]:
    """The interactions of ``mask``: their profiles and their ``fields`` as dicts."""
    index = np.flatnonzero(mask)
    picked = c.recent.select(fields)[index]
    return c.profile[index].tolist(), picked.to_dicts()


def _purchases(c: ProfileColumns, mask: Bools, n: int) -> list[list[Mapping[str, Any]]]:
    out: list[list[Mapping[str, Any]]] = [[] for _ in range(n)]
    if mask.any():
        for i, row in zip(*_rows(c, mask, ("event_id", "occurred_at", "value", "currency")),
                          strict=True):
            out[i].append(row)
    return out


def _details(c: ProfileColumns, mask: Bools, n: int) -> list[list[tuple[int, Mapping[str, Any]]]]:
    out: list[list[tuple[int, Mapping[str, Any]]]] = [[] for _ in range(n)]
    if mask.any():
        for i, row in zip(*_rows(c, mask, ("occurred_at", "attributes")), strict=True):
            out[i].append((row["occurred_at"], row["attributes"]))
    return out

