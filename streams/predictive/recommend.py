"""Content and product recommendations from implicit feedback: item-item co-occurrence with a
recency-weighted popularity fallback, in numpy.

Items are what a person interacted with: ``product:<id>`` from an event's ``product_id`` or
``product_ids`` property (conversions and touchpoints), ``content:<id>`` from ``content_id``,
and, for a touchpoint that names no item, the campaign it belongs to (``campaign:<id>``). A
purchase weighs more than a view (``EVENT_WEIGHTS``).

``fit`` counts, over persons, how often two items are met by the same person (each person's
items weighted by the recency of their last interaction), normalised as a cosine with a
shrinkage for rare pairs, and keeps the ``neighbours`` most similar items of each item;
popularity is each item's interactions decayed with ``half_life_days``. ``recommend`` scores
the items similar to a person's history (each history item weighted by its own recency and
weight) and fills what is left of ``k`` with the most popular items. Why not a factor model
(``implicit``'s ALS or BPR): it installs here, but the co-occurrence model answers a profile
in the stream from a person's latest interactions without refitting or a user factor, its
reasons are the items that led to a suggestion, and on the simulator it ranks as well or
better (``benchmarks.recommend_quality`` measures both).

Invariants:
- ``fit`` and ``recommend`` are pure and deterministic (ties broken by item id); an empty
  history gets the most popular items; an item not in the model contributes nothing;
- a recommendation never repeats an item of the history (``exclude_seen``) nor an item twice,
  and holds at most ``k`` items, each with a score and the history item that led to it
  (``popular`` for the fallback);
- the model's version is a hash of its content.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]

DAY_MS: Final = 86_400_000
EVENT_WEIGHTS: Final[Mapping[str, float]] = {"purchase": 3.0, "order": 3.0,
                                             "subscription": 3.0, "add_to_cart": 2.0}
VIEW_WEIGHT: Final = 1.0
POPULAR: Final = "popular"


class Interaction(NamedTuple):
    person: str
    item: str
    at: int  # epoch ms
    weight: float


class Suggestion(NamedTuple):
    item: str
    score: float
    because: str  # the history item that weighs most in it, or POPULAR


@dataclass(frozen=True, slots=True)
class RecommendPolicy:
    half_life_days: float = 90.0  # recency of popularity and of a person's history
    neighbours: int = 50  # most similar items kept per item
    shrink: float = 1.0  # added to a pair's cosine denominator: rare pairs count less
    k: int = 10
    exclude_seen: bool = True


DEFAULT_POLICY: Final = RecommendPolicy()


def items_of(kind: str, value: Mapping[str, Any]) -> list[tuple[str, float]]:
    """The items of a ``touchpoints`` or ``conversions`` value (``kind`` ``touchpoint`` or
    ``conversion``) with the weight of the interaction; the item ids are in its
    ``properties``, or, on a profile's interaction, in its ``attributes`` (the profile keeps
    them there)."""
    props: Mapping[str, str] = value.get("properties") or value.get("attributes") or {}
    weight = EVENT_WEIGHTS.get(str(value.get("type") or ""), VIEW_WEIGHT)
    ids = [p.strip() for p in (props.get("product_ids") or "").split(",") if p.strip()]
    if props.get("product_id"):
        ids.insert(0, props["product_id"].strip())
    found = [f"product:{p}" for p in dict.fromkeys(ids)]
    if props.get("content_id"):
        found.append(f"content:{props['content_id'].strip()}")
    if not found and kind == "touchpoint" and value.get("campaign_id"):
        found.append(f"campaign:{value['campaign_id']}")
    return [(item, weight) for item in found]


@dataclass(frozen=True, eq=False)
class ItemModel:
    items: tuple[str, ...]
    neighbours: NDArray[np.int32]  # (items, m): indices of the most similar items, -1 pads
    similarity: NDArray[np.float32]  # (items, m): their cosine similarity
    popularity: NDArray[np.float64]  # (items,): decayed interactions, summing to 1
    as_of: int
    half_life_days: float
    index: dict[str, int] = field(init=False, repr=False)  # item -> its row
    by_popularity: NDArray[np.int64] = field(init=False, repr=False)  # most popular first

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {item: i for i, item in enumerate(self.items)})
        # ties by item id (the items are sorted): deterministic
        object.__setattr__(self, "by_popularity",
                           np.lexsort((np.arange(len(self.items)), -self.popularity)))

    @functools.cached_property
    def version(self) -> str:
        digest = hashlib.blake2b(digest_size=8)
        for part in (repr(self.items).encode(), self.neighbours.tobytes(),
                     self.similarity.tobytes(), self.popularity.tobytes(),
                     f"{self.as_of}:{self.half_life_days}".encode()):
            digest.update(part)
        return f"recommend-{digest.hexdigest()}"


def _decay(age_ms: NDArray[np.float64] | float, half_life_days: float) -> Any:
    return np.power(0.5, np.maximum(age_ms, 0) / (half_life_days * DAY_MS))


def fit(interactions: Iterable[Interaction], as_of: int,
        policy: RecommendPolicy = DEFAULT_POLICY) -> ItemModel:
    """The item model of ``interactions`` up to ``as_of`` (later ones are ignored)."""
    rows = [i for i in interactions if i.at <= as_of]
    items = tuple(sorted({i.item for i in rows}))
    persons = sorted({i.person for i in rows})
    item_at = {item: n for n, item in enumerate(items)}
    person_at = {p: n for n, p in enumerate(persons)}
    if not items:
        empty = np.zeros((0, 0))
        return ItemModel((), empty.astype(np.int32), empty.astype(np.float32), np.zeros(0),
                         as_of, policy.half_life_days)
    col = np.fromiter((item_at[i.item] for i in rows), np.int64, len(rows))
    row = np.fromiter((person_at[i.person] for i in rows), np.int64, len(rows))
    ages = as_of - np.fromiter((i.at for i in rows), np.float64, len(rows))
    decayed = np.fromiter((i.weight for i in rows), np.float64, len(rows)) * _decay(
        ages, policy.half_life_days)
    counts = np.bincount(col, weights=decayed, minlength=len(items)).astype(np.float64)
    popularity: NDArray[np.float64] = counts / (counts.sum() or 1.0)
    # a person-item strength: the decayed weights summed (a log damping of heavy users was
    # tried and ranked worse on the simulator)
    strength = sparse.csr_matrix((decayed, (row, col)), shape=(len(persons), len(items)))
    strength.sum_duplicates()
    co = (strength.T @ strength).tocsr().astype(np.float64)
    norms = np.sqrt(co.diagonal())
    co.setdiag(0.0)
    co.eliminate_zeros()
    m = max(1, min(policy.neighbours, len(items) - 1))
    neighbours = np.full((len(items), m), -1, np.int32)
    similarity = np.zeros((len(items), m), np.float32)
    for i in range(len(items)):
        start, end = co.indptr[i], co.indptr[i + 1]
        if start == end:
            continue
        js = co.indices[start:end]
        sims = co.data[start:end] / (norms[i] * norms[js] + policy.shrink)
        order = np.lexsort((js, -sims))[:m]  # most similar first, ties by item index
        neighbours[i, :len(order)] = js[order]
        similarity[i, :len(order)] = sims[order]
    return ItemModel(items, neighbours, similarity, popularity, as_of, policy.half_life_days)


def recommend(model: ItemModel, history: Sequence[tuple[str, int, float]], as_of: int,
              k: int | None = None, policy: RecommendPolicy = DEFAULT_POLICY) -> list[Suggestion]:
    """Up to ``k`` items for a person whose ``history`` is (item, time, weight)."""
    k = policy.k if k is None else k
    index = model.index
    n = len(model.items)
    weights: dict[int, float] = {}
    half_life = policy.half_life_days * DAY_MS
    for item, at, weight in history:
        i = index.get(item)
        if i is None or at > as_of:
            continue
        weights[i] = weights.get(i, 0.0) + weight * 0.5 ** ((as_of - at) / half_life)
    out: list[Suggestion] = []
    taken: set[int] = set(weights) if policy.exclude_seen else set()
    if weights and n:
        rows = np.fromiter(weights, np.int64, len(weights))
        near = model.neighbours[rows]  # (history, m)
        pushes = model.similarity[rows] * np.fromiter(weights.values(), np.float64,
                                                      len(weights))[:, None]
        valid = near >= 0
        scores = np.bincount(near[valid], weights=pushes[valid], minlength=n)
        if taken:
            scores[rows] = 0.0
        candidates = np.flatnonzero(scores > 0)
        order = candidates[np.lexsort((candidates, -scores[candidates]))][:k]
        for j in order:
            hit = near == j  # the history item that pushes j most is its reason
            source = rows[int(np.argmax(np.where(hit, pushes, -1.0).max(axis=1)))]
            out.append(Suggestion(model.items[j], round(float(scores[j]), 6),
                                  model.items[source]))
            taken.add(int(j))
    for i in model.by_popularity:
        if len(out) >= k:
            break
        if int(i) not in taken:
            out.append(Suggestion(model.items[i], round(float(model.popularity[i]), 6), POPULAR))
            taken.add(int(i))
    return out


def popular(model: ItemModel, history: Sequence[tuple[str, int, float]], k: int) -> list[str]:
    """The baseline: the ``k`` most popular items the person has not met."""
    seen = {item for item, _, _ in history}
    out: list[str] = []
    for i in model.by_popularity:
        if len(out) >= k:
            break
        if model.items[i] not in seen:
            out.append(model.items[i])
    return out


def hit_rate(ranked: Mapping[str, Sequence[str]], held_out: Mapping[str, set[str]],
             k: int) -> float:
    """Share of persons with a held-out item among their first ``k`` ranked ones."""
    persons = [p for p in held_out if held_out[p]]
    if not persons:
        return math.nan
    return sum(bool(set(ranked.get(p, ())[:k]) & held_out[p]) for p in persons) / len(persons)


__all__ = [
    "DEFAULT_POLICY",
    "POPULAR",
    "Interaction",
    "ItemModel",
    "RecommendPolicy",
    "Suggestion",
    "fit",
    "hit_rate",
    "items_of",
    "popular",
    "recommend",
]
