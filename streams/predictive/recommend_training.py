"""Training the personalisation model from the interaction history in ClickHouse, with a time
split: what ``touchstream train personalisation`` runs.

The rows are ``history.HISTORY_SQL``'s (``customer_events``: every touchpoint, conversion and
CRM update with its resolved person); a touchpoint's or conversion's ``attributes`` are its
event's properties, where ``recommend.items_of`` finds product and content ids (else a
touchpoint's campaign). A person's segment, towards which the best contact time is shrunk, is
the ``segment`` attribute of their latest event that has one.

Split: the last ``test_days`` of the history are held out. A model fitted on the events before
the cut recommends ``k`` items to every person who had interactions before it and bought
(a purchase weight) an item they had not met before it in the held-out window; hit rate at k
is the share of those persons with such an item among their k, for the co-occurrence model
and for the popularity baseline (the most popular items the person has not met), as
``benchmarks.recommend_quality`` measures them on the simulator. The model served is then
fitted on the whole history, so it knows the items of the held-out window too; the metrics
describe how the same method ranked a window it had not seen.

Invariants: pure over the rows (the caller queries and saves); deterministic (``fit`` breaks
ties by item id); no held-out event reaches the evaluated model (its events end before the
cut); a history without one item to recommend is refused (``ValueError``) rather than saved
as a model that only ever says nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from streams.predictive import recommend as rec
from streams.predictive.recommend_profile import Personalisation, fit_personalisation

DAY_MS: Final = 86_400_000
KS: Final = (5, 10)
INTERACTION_KINDS: Final = ("touchpoint", "conversion")


@dataclass(frozen=True)
class PersonalisationPolicy:
    test_days: int = 14  # the held-out latest window
    k: int = 5  # recommendations served per person
    half_life_days: float = rec.DEFAULT_POLICY.half_life_days


@dataclass(frozen=True)
class TrainedPersonalisation:
    model: Personalisation  # fitted on the whole history
    metadata: dict[str, Any]  # data window, split, hit rates, sizes


def events_of(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The touchpoints and conversions of history rows as ``fit_personalisation`` reads them
    (kind, value with ``properties`` = the event's attributes), oldest first."""
    dated = [(int(r["occurred_at"]), str(r["kind"]),
              {"person_id": str(r["person_id"]), "occurred_at": int(r["occurred_at"]),
               "type": r.get("type"), "campaign_id": r.get("campaign_id"),
               "properties": dict(r.get("attributes") or {})})
             for r in rows if r["kind"] in INTERACTION_KINDS]
    dated.sort(key=lambda e: e[0])
    return [(kind, value) for _, kind, value in dated]


def segments_of(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each person's segment: the ``segment`` attribute of their latest event that has one."""
    latest: dict[str, tuple[int, str]] = {}
    for r in rows:
        segment = (r.get("attributes") or {}).get("segment")
        at = int(r["occurred_at"])
        person = str(r["person_id"])
        if segment and (person not in latest or at >= latest[person][0]):
            latest[person] = (at, str(segment))
    return {person: segment for person, (_, segment) in latest.items()}


def held_out(events: Sequence[tuple[str, Mapping[str, Any]]], cut: int
             ) -> tuple[dict[str, list[tuple[str, int, float]]], dict[str, set[str]]]:
    """(each person's history before ``cut`` as ``recommend`` takes it, the items each bought
    at or after ``cut`` that their history does not hold), for persons with a history."""
    history: dict[str, list[tuple[str, int, float]]] = {}
    later: list[tuple[str, str, float]] = []
    for kind, value in events:
        at, person = int(value["occurred_at"]), str(value["person_id"])
        for item, weight in rec.items_of(kind, value):
            if at < cut:
                history.setdefault(person, []).append((item, at, weight))
            else:
                later.append((person, item, weight))
    met = {person: {h[0] for h in items} for person, items in history.items()}
    bought: dict[str, set[str]] = {}
    for person, item, weight in later:
        if weight >= rec.EVENT_WEIGHTS["purchase"] and person in met and item not in met[person]:
            bought.setdefault(person, set()).add(item)
    return history, bought


def hit_rates(model: rec.ItemModel, history: Mapping[str, Sequence[tuple[str, int, float]]],
              bought: Mapping[str, set[str]], as_of: int, policy: rec.RecommendPolicy,
              ks: Sequence[int] = KS) -> dict[str, dict[str, float | None]]:
    """Hit rate at each k of the co-occurrence model and the popularity baseline (None: no
    person to evaluate)."""
    k = max(ks)
    who = sorted(bought)
    ranked = {"co_occurrence": {p: [s.item for s in rec.recommend(model, history[p], as_of, k,
                                                                  policy)] for p in who},
              "popularity": {p: rec.popular(model, history[p], k) for p in who}}

    def rate(r: Mapping[str, Sequence[str]], at: int) -> float | None:
        value = rec.hit_rate(r, bought, at)
        return None if math.isnan(value) else round(value, 4)

    return {name: {f"at_{at}": rate(r, at) for at in ks} for name, r in ranked.items()}


def train_personalisation(rows: Sequence[Mapping[str, Any]],
                          policy: PersonalisationPolicy = PersonalisationPolicy()
                          ) -> TrainedPersonalisation:
    """Evaluate on the held-out latest window, then fit on everything (module docstring)."""
    events = events_of(rows)
    if not any(rec.items_of(kind, value) for kind, value in events):
        raise ValueError("no touchpoint or conversion names an item (product, content or "
                         "campaign): nothing to recommend")
    first, end = events[0][1]["occurred_at"], events[-1][1]["occurred_at"]
    cut = end - policy.test_days * DAY_MS
    segments = segments_of(rows)
    recommend_policy = rec.RecommendPolicy(half_life_days=policy.half_life_days)
    before = [e for e in events if e[1]["occurred_at"] < cut]
    history, bought = held_out(events, cut)
    evaluated: dict[str, Any] = {"persons_evaluated": len(bought),
                                 "hit_rate": {name: dict.fromkeys(f"at_{k}" for k in KS)
                                              for name in ("co_occurrence", "popularity")}}
    if before and bought:
        split_model = fit_personalisation(before, cut, segments, policy.k, recommend_policy)
        evaluated["hit_rate"] = hit_rates(split_model.items, history, bought, cut,
                                          recommend_policy)
        evaluated["items_before_cut"] = len(split_model.items.items)
    model = fit_personalisation(events, end, segments, policy.k, recommend_policy)
    metadata = {
        "version": model.version, "kind": "personalisation",
        "method": "item-item co-occurrence (cosine, shrunk), recency-weighted popularity "
                  "fallback; best contact hour shrunk towards the segment",
        "data": {"source": "customer_events", "first_event_ms": first, "last_event_ms": end,
                 "events": len(events), "persons": len({e[1]["person_id"] for e in events}),
                 "items": len(model.items.items), "segments": sorted(set(segments.values()))},
        "split": {"test_start_ms": cut, "test_days": policy.test_days},
        "metrics": {"test": evaluated},
        "k": policy.k, "half_life_days": policy.half_life_days}
    return TrainedPersonalisation(model, metadata)


__all__ = ["KS", "PersonalisationPolicy", "TrainedPersonalisation", "events_of", "held_out",
           "hit_rates", "segments_of", "train_personalisation"]
