"""``quality.recommend``: recommendations and best contact times on a time split of the shopper
simulator, whose tastes and contact habits are known.

Per seed: ``recommend_simulate.shoppers`` (``--persons`` over 120 days); the models are fitted
on the first 90 days; a person is evaluated when they have history before day 90 and bought,
after it, a product they had not met before. Hit rate at k: the share of those persons with
such a product among their first k suggestions. Methods:
- ``popularity``: the recency-weighted most popular products the person has not met (the
  baseline);
- ``co_occurrence``: ``streams.predictive.recommend`` (what the stream serves);
- ``implicit_als`` and ``implicit_cosine``: the ``implicit`` library's ALS (32 factors) and
  item-item cosine on the same weighted matrix, as references (skipped when ``implicit``, in
  the ``bench`` extra, is not installed);
- ``known_taste``: the most popular unmet products of the person's two strongest true
  categories (what a perfect taste estimate would give; a ceiling of sorts).
Contact time: the share of persons whose estimated best hour of the week is their true
favourite, over persons with 1-3 sessions before day 90 and over all, for the person's own
most frequent hour (ties: the earliest), the segment's best hour (what a person without
engagement gets), everyone's best hour and the shrunk estimate (``recommend_contact``).

Run: ``flock /tmp/touchstream-bench.lock .venv/bin/python -m benchmarks.recommend_quality``
(``--seeds 3 --persons 3000``; ``--no-save`` prints only); merges into
``benchmarks/results/latest.json`` under ``quality.recommend`` and keeps every other key.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]

from benchmarks.predictive_quality import merge_quality
from streams.predictive import recommend as rec
from streams.predictive.recommend_contact import (
    ContactModel,
    best_time,
    fit_contact,
    hour_of_week,
)
from streams.predictive.recommend_simulate import DAY_MS, T0, Shoppers, shoppers

KS: Final = (5, 10)
CUT_DAY: Final = 90
History = dict[str, list[tuple[str, int, float]]]


def split(world: Shoppers, cut: int) -> tuple[list[rec.Interaction], History, dict[str, set[str]]]:
    interactions = [rec.Interaction(v["identifiers"]["customer_id"], item, v["occurred_at"], w)
                    for kind, v in world.events for item, w in rec.items_of(kind, v)]
    train = [i for i in interactions if i.at < cut]
    history: History = {}
    for i in train:
        history.setdefault(i.person, []).append((i.item, i.at, i.weight))
    met = {p: {h[0] for h in hs} for p, hs in history.items()}
    held: dict[str, set[str]] = {}
    for i in interactions:
        if i.at >= cut and i.weight >= rec.EVENT_WEIGHTS["purchase"] and i.person in met \
                and i.item not in met[i.person]:
            held.setdefault(i.person, set()).add(i.item)
    return train, history, held


def known_taste(world: Shoppers, model: rec.ItemModel, history: History,
                persons: Sequence[str], k: int) -> dict[str, list[str]]:
    out = {}
    for p in persons:
        top = set(np.argsort(-world.taste[p])[:2].tolist())
        seen = {h[0] for h in history[p]}
        out[p] = [model.items[i] for i in model.by_popularity
                  if model.items[i] not in seen
                  and world.category_of[model.items[i].removeprefix("product:")] in top][:k]
    return out


def implicit_runs(train: Sequence[rec.Interaction], model: rec.ItemModel,
                  persons: Sequence[str], k: int) -> dict[str, dict[str, list[str]]]:
    try:
        import implicit  # noqa: F401  (the bench extra)
    except ImportError:
        return {}
    from threadpoolctl import threadpool_limits  # implicit's
    people = sorted({i.person for i in train})
    at = {p: n for n, p in enumerate(people)}
    matrix = sparse.csr_matrix(
        ([i.weight for i in train], ([at[i.person] for i in train],
                                     [model.index[i.item] for i in train])),
        shape=(len(people), len(model.items)))
    matrix.sum_duplicates()
    rows = np.array([at[p] for p in persons])
    out: dict[str, dict[str, list[str]]] = {}
    with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, not BLAS's
        out = _implicit(matrix.tocsr(), rows, model, persons, k)
    return out


def _implicit(matrix: Any, rows: Any, model: rec.ItemModel, persons: Sequence[str], k: int
              ) -> dict[str, dict[str, list[str]]]:
    from implicit.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import CosineRecommender

    out: dict[str, dict[str, list[str]]] = {}
    for name, algo in (("implicit_als", AlternatingLeastSquares(
            factors=32, regularization=0.05, iterations=15, random_state=0)),
                       ("implicit_cosine", CosineRecommender(K=50))):
        algo.fit(matrix, show_progress=False)
        ids, _ = algo.recommend(rows, matrix[rows], N=k, filter_already_liked_items=True)
        out[name] = {p: [model.items[j] for j in ids[n] if j >= 0]
                     for n, p in enumerate(persons)}
    return out


def recommendations(world: Shoppers) -> dict[str, Any]:
    cut = T0 + CUT_DAY * DAY_MS
    train, history, held = split(world, cut)
    started = time.process_time()
    model = rec.fit(train, cut)
    fit_s = time.process_time() - started
    who = sorted(held)
    k = max(KS)
    started = time.process_time()
    ranked = {"co_occurrence": {p: [s.item for s in rec.recommend(model, history[p], cut, k)]
                                for p in who}}
    per_person_us = (time.process_time() - started) / len(who) * 1e6
    ranked["popularity"] = {p: rec.popular(model, history[p], k) for p in who}
    ranked["known_taste"] = known_taste(world, model, history, who, k)
    ranked.update(implicit_runs(train, model, who, k))
    return {"persons_evaluated": len(who), "items": len(model.items),
            "fit_cpu_s": round(fit_s, 3), "recommend_cpu_us_per_person": round(per_person_us, 1),
            "hit_rate": {name: {f"at_{k_}": round(rec.hit_rate(r, held, k_), 4) for k_ in KS}
                         for name, r in ranked.items()}}


def contact_times(world: Shoppers) -> dict[str, Any]:
    cut = T0 + CUT_DAY * DAY_MS
    sessions: dict[str, set[int]] = {}
    for kind, v in world.events:
        if kind == "touchpoint" and v["occurred_at"] < cut:
            # a session's views are minutes apart: one engagement an hour
            sessions.setdefault(v["identifiers"]["customer_id"], set()).add(
                v["occurred_at"] // 3_600_000)
    hours = {p: [hour_of_week(h * 3_600_000) for h in sorted(s)] for p, s in sessions.items()}
    model = fit_contact(hours, world.segment)
    no_person = ContactModel(model.segments, model.shares, 1e9)  # the segment's best alone
    everyone = ContactModel(("",), model.shares[:1], 1e9)
    own = ContactModel(model.segments, model.shares, 0.0)  # ties: the earliest hour
    methods: dict[str, Callable[[str], int]] = {
        "own_mode": lambda p: best_time(own, hours[p], world.segment[p]).hour_of_week,
        "segment_best": lambda p: best_time(no_person, hours[p], world.segment[p]).hour_of_week,
        "everyone_best": lambda p: best_time(everyone, hours[p], "").hour_of_week,
        "shrunk": lambda p: best_time(model, hours[p], world.segment[p]).hour_of_week,
    }

    def accuracy(group: Sequence[str]) -> dict[str, float]:
        return {name: round(float(np.mean([f(p) == world.favourite_hour[p] for p in group])), 4)
                for name, f in methods.items()}

    sparse_group = [p for p, h in hours.items() if 1 <= len(h) <= 3]
    return {"persons": len(hours), "persons_with_1_to_3_sessions": len(sparse_group),
            "strength": model.strength,
            "favourite_hour_found": {"all": accuracy(list(hours)),
                                     "with_1_to_3_sessions": accuracy(sparse_group)}}


def mean_of(runs: Sequence[Mapping[str, Any]], path: Sequence[str]) -> float:
    values = []
    for run in runs:
        node: Any = run
        for part in path:
            node = node[part]
        values.append(float(node))
    return round(float(np.mean(values)), 4)


def measure(seeds: int, persons: int) -> dict[str, Any]:
    worlds = [shoppers(persons=persons, days=120, seed=seed) for seed in range(1, seeds + 1)]
    recs = [recommendations(world) for world in worlds]
    contacts = [contact_times(world) for world in worlds]
    methods = list(recs[0]["hit_rate"])
    return {
        "data": f"recommend_simulate.shoppers: {persons} persons, 120 days, 20 categories x 15 "
                f"products, split at day {CUT_DAY}; seeds 1..{seeds}",
        "hit_rate_mean": {m: {f"at_{k}": mean_of(recs, ("hit_rate", m, f"at_{k}")) for k in KS}
                          for m in methods},
        "persons_evaluated_mean": mean_of(recs, ("persons_evaluated",)),
        "fit_cpu_s_mean": mean_of(recs, ("fit_cpu_s",)),
        "recommend_cpu_us_per_person_mean": mean_of(recs, ("recommend_cpu_us_per_person",)),
        "contact_time_mean": {
            group: {m: mean_of(contacts, ("favourite_hour_found", group, m))
                    for m in contacts[0]["favourite_hour_found"][group]}
            for group in ("all", "with_1_to_3_sessions")},
        "per_seed": {"recommend": recs, "contact": contacts},
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "command": f"python -m benchmarks.recommend_quality --seeds {seeds} --persons {persons}",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args(argv)
    figures = measure(args.seeds, args.persons)
    if not args.no_save:
        merge_quality({"recommend": figures})
    print(json.dumps({"recommend": figures}, indent=2))


if __name__ == "__main__":
    main()
