"""The lead features and churn signals of a whole batch of profiles, from columns.

``ProfileColumns`` is a batch of ``customer.profiles`` values as columns, as a batch decoder
gives them (``streams.io.avro_profiles``): one entry per profile, and the ``recent``
interactions of all of them one after the other with the index of their profile, their
``kind``, ``type`` and ``channel`` coded against ``VOCABULARY``. ``read_columns`` gives, per
profile, what ``features.read_profile`` gives for its dict: the counts, windows and recencies
computed over the interaction columns with numpy, the few parts that are Python arithmetic on
single numbers (day roundings, the baseline rate, the chat details) computed by the same
expressions as there. The features are one (profiles, ``FEATURES``) float matrix, filled
column by column; each profile gets a ``FeatureRow`` over its row (no dict; the row's floats,
read for the whole batch in one call, answer a key or ``feature_values``), the model takes its
rows at once (``feature_matrix``).

Invariants:
- the same features (bit for bit, in the same key order, read through ``FeatureRow``), churn
  signals (the same keys, ints where ints) and purchase interactions (their fields, as
  ``rfm.purchase_fields`` gives them) as ``read_profile`` on each profile's dict: the
  scoring stage's tests compare both paths' outcomes;
- pure: reads the columns, changes nothing; ``check`` raises ``InvalidMessage`` when any
  profile breaks the stage's contract rules (``stage.validate``), so the batch goes message by
  message and only that profile is dead-lettered.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Raw
from streams.predictive.churn import ChurnSignals
from streams.predictive.features import (
    CHAT_CHANNEL,
    CHAT_DETAIL_FEATURES,
    DAY_MS,
    DEMO_TYPES,
    FAILED_PAYMENT_TYPES,
    FEATURES,
    LEAD_TYPES,
    PAID,
    PURCHASE_TYPES,
    RECENT_WEEKS,
    WEB,
    WEEK_MS,
    chat_details,
)
from streams.predictive.rfm import Purchase

Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]
#: what ``read_profile`` gives one profile (its features as a row of the batch's matrix), and
#: the purchase interactions it saw, as their four fields (``rfm.purchase_fields``)
Read = tuple["FeatureRow", ChurnSignals, list[Purchase]]
_RECENT: Final = int(RECENT_WEEKS * WEEK_MS)
#: where the conversation-detail features start (the last ones; NaN until a chat carries
#: its figures)
_DETAILS_AT: Final = len(FEATURES) - len(CHAT_DETAIL_FEATURES)
_INDEX: Final = {name: j for j, name in enumerate(FEATURES)}


#: the words ``kind``, ``type`` and ``channel`` are coded against (their index; -1: another)
VOCABULARY: Final = ("touchpoint", "conversion", CHAT_CHANNEL, "email", "visit",
                     *sorted(PAID), *sorted(WEB), *sorted(PURCHASE_TYPES), *sorted(LEAD_TYPES),
                     *sorted(FAILED_PAYMENT_TYPES))
#: the identifier kinds the features read (a bit each, in this order)
IDENTIFIER_KINDS: Final = ("email", "phone", "customer_id")


def _table(words: AbstractSet[str]) -> Bools:
    """Whether a code (shifted by 2: -2 null, -1 another word) is one of ``words``."""
    table = np.zeros(len(VOCABULARY) + 2, dtype=np.bool_)
    table[[VOCABULARY.index(w) + 2 for w in words]] = True
    return table


#: the tests ``read_profile`` makes of an interaction's kind, type or channel
_TESTS: Final = {name: _table(words) for name, words in {
    "touchpoint": {"touchpoint"}, "conversion": {"conversion"}, "chat": {CHAT_CHANNEL},
    "email": {"email"}, "paid": PAID, "web": WEB, "visit": {"visit"},
    "purchase": PURCHASE_TYPES, "lead": LEAD_TYPES, "demo": DEMO_TYPES,
    "failed": FAILED_PAYMENT_TYPES}.items()}


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
    #: (interactions, with their attributes) -> each one's ``event_id``, ``occurred_at``,
    #: ``value``, ``currency`` (and ``attributes``), as the message-wise decoder gives them
    items: Callable[[Ints, bool], list[dict[str, Any]]]
    #: (interactions) -> each one's (``event_id``, ``occurred_at``, ``value``, ``currency``)
    purchases: Callable[[Ints], list[Purchase]]
    #: the whole profile as the message-wise decoder gives it (for what reads all of it)
    whole: Callable[[int], dict[str, Any]]
    #: the batch's bytes, and per interaction where its ``event_id``, ``value`` and
    #: ``currency`` are in them (``rfm_columns``: event id start, length, the value's 8 bytes
    #: (-1: null), currency start, length (-1: null))
    blob: bytes
    spans: Ints


class FeatureRow(Mapping[str, float]):
    """One profile's features, a row of its batch's (profiles, ``FEATURES``) matrix, read as
    the dict ``read_profile`` gives (the same keys in the same order, the same floats). No dict
    is made: what takes the whole batch (the model's input, ``feature_values``) reads the
    matrix; a key read is one float from the row."""

    __slots__ = ("floats", "index", "matrix")

    def __init__(self, matrix: NDArray[np.float64], index: int,
                 floats: list[float] | None = None) -> None:
        self.matrix = matrix
        self.index = index
        self.floats = floats  # the row as floats, when made with it (never changed)

    def __getitem__(self, name: str) -> float:
        if self.floats is not None:
            return self.floats[_INDEX[name]]
        return float(self.matrix[self.index, _INDEX[name]])

    def __iter__(self) -> Iterator[str]:
        return iter(FEATURES)

    def __len__(self) -> int:
        return len(FEATURES)


def feature_values(features: Mapping[str, float]) -> list[float]:
    """The values of a profile's features in their order (a matrix row's, read at once)."""
    if isinstance(features, FeatureRow):
        if features.floats is not None:
            return features.floats[:]
        return features.matrix[features.index].tolist()  # type: ignore[no-any-return]
    return list(features.values())


def feature_matrix(rows: Sequence[Mapping[str, float]], names: Sequence[str]
                   ) -> NDArray[np.float64] | None:
    """The (rows, ``names``) matrix of rows that are all ``FeatureRow``s of one batch, taken
    from it at once (None: rows of another kind; the caller reads them key by key)."""
    views = [r for r in rows if isinstance(r, FeatureRow)]
    if not views or len(views) != len(rows) or not set(names) <= _INDEX.keys():
        return None
    matrix = views[0].matrix
    if any(r.matrix is not matrix for r in views):
        return None
    at = np.fromiter((r.index for r in views), dtype=np.intp, count=len(views))
    return matrix[np.ix_(at, np.asarray([_INDEX[name] for name in names], dtype=np.intp))]


def feature_columns(rows: Sequence[Mapping[str, float]], names: Sequence[str], default: float
                    ) -> list[list[float]]:
    """Per name, its value in each row (absent: ``default``): from the batch's matrix at once
    when the rows are its ``FeatureRow``s, else key by key."""
    matrix = feature_matrix(rows, names)
    if matrix is not None:
        return matrix.T.tolist()  # type: ignore[no-any-return]
    return [[row.get(name, default) for row in rows] for name in names]


def check(c: ProfileColumns, raws: Sequence[Raw]) -> None:
    """The stage's contract rules (``stage.validate``) over the batch."""
    for raw, person, version, at in zip(raws, c.person_id, c.version, c.updated_at.tolist(),
                                        strict=True):
        if not person or raw.key_str != person or at <= 0 or version < 0:
            raise InvalidMessage("invalid_field", f"profile {person!r} breaks the contract")


def purchase_index(c: ProfileColumns) -> Ints:
    """The purchase interactions ``read_profile`` gives (at or before the profile's instant),
    ascending."""
    t = _TESTS
    return np.flatnonzero((c.occurred_at <= c.updated_at[c.profile]) & t["conversion"][c.kind + 2]
                          & t["purchase"][c.type + 2])


def read_columns(c: ProfileColumns, fields: bool = True) -> list[Read]:
    """Per profile, ``read_profile(profile, profile's updated_at, purchases)`` (``fields``
    False: the purchases left empty, for a caller that reads them by ``purchase_index``)."""
    n = len(c.person_id)
    seg, at = c.profile, c.occurred_at
    kind, type_, channel = c.kind + 2, c.type + 2, c.channel + 2
    t = _TESTS
    m = {"touchpoint": t["touchpoint"][kind], "conversion": t["conversion"][kind],
         "chat": t["chat"][channel], "email": t["email"][channel], "paid": t["paid"][channel],
         "web": t["web"][channel] | t["visit"][type_], "purchase": t["purchase"][type_],
         "lead": t["lead"][type_], "demo": t["demo"][type_], "failed": t["failed"][type_]}
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
    first = np.zeros(len(seg), dtype=np.bool_)  # the first interaction of each channel counted
    first[c.channel_first[channelled]] = True
    distinct = np.bincount(seg[first], minlength=n).tolist()
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
    bought: list[list[Purchase]] = [[] for _ in range(n)]
    if fields:
        index = np.flatnonzero(purchase)
        for i, one in zip(seg[index].tolist(), c.purchases(index), strict=True):
            bought[i].append(one)
    details: list[list[tuple[int, Mapping[str, Any]]]] = [[] for _ in range(n)]
    index = np.flatnonzero(chat & (c.attribute_count > 0))
    for i, item in zip(seg[index].tolist(), c.items(index, True), strict=True):
        details[i].append((item["occurred_at"], item["attributes"]))
    as_of_ms = c.updated_at.tolist()
    first_seen = c.first_seen

    def days(since: list[int]) -> list[float]:
        """Days from each profile's ``since`` (-1: none) to its instant, as ``read_profile``
        (``features._days``' expression, written out: no call per profile)."""
        return [math.nan if t < 0 else round((now - t) / DAY_MS, 2)
                for now, t in zip(as_of_ms, since, strict=True)]

    def floats(counts: list[int] | NDArray[Any]) -> list[float]:
        return np.asarray(counts, dtype=np.float64).tolist()  # type: ignore[no-any-return]

    kinds = [(c.identifier_kinds >> i) & 1 for i in range(len(IDENTIFIER_KINDS))]
    # the matrix in ``FEATURES`` order, column by column; the chat details unknown until
    # ``chat_details`` (the same floats as the dict path: each column is ints or the same
    # Python expressions as ``read_profile``, converted once)
    matrix = np.empty((n, len(FEATURES)), dtype=np.float64)
    for j, column in enumerate((
            [round(max(0, now - f) / DAY_MS, 2) if f > 0 else math.nan
             for now, f in zip(as_of_ms, first_seen, strict=True)],
            days(columns["last_touch"]),
            np.maximum(np.asarray(c.touchpoints, dtype=np.int64), 0),
            columns["touches_7d"], columns["touches_30d"], columns["paid"], columns["email"],
            columns["web"], distinct, columns["leads"], np.asarray(columns["demo"]) > 0,
            columns["bought"], *kinds, columns["chats_30d"], columns["chats"],
            days(columns["last_chat"]))):
        matrix[:, j] = column
    matrix[:, _DETAILS_AT:] = math.nan
    made: list[ChurnSignals] = []
    for i, (now, failed_n, base_n, active_n, since) in enumerate(zip(
            as_of_ms, columns["failed"], columns["base"], columns["active"],
            columns["first_active"], strict=True)):
        signals = ChurnSignals(failed_payments=failed_n)
        start = now - _RECENT
        if base_n:
            weeks = (start - since) / WEEK_MS
            signals["baseline_weeks"] = weeks
            signals["baseline_activity_per_week"] = base_n / max(weeks, 1.0)
            signals["recent_activity_per_week"] = (active_n - base_n) / RECENT_WEEKS
        if details[i]:
            # the few chats with figures: the dict path's own code, its values written back
            features = dict(zip(FEATURES, matrix[i].tolist(), strict=True))
            chat_details(details[i], now, start, features, signals)
            matrix[i] = list(features.values())
        made.append(signals)
    # each row also as floats, read at once: what a key read or ``feature_values`` takes
    return [(FeatureRow(matrix, i, row), signals, purchases) for i, (row, signals, purchases)
            in enumerate(zip(matrix.tolist(), made, bought, strict=True))]
