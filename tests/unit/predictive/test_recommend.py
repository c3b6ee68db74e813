"""Recommendations (item-item co-occurrence, popularity fallback), the best contact time and
their details on a profile, on small hand-made data and on the shopper simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streams.contract.codec import AvroCodec
from streams.predictive import recommend as rec
from streams.predictive.recommend_contact import (
    ContactModel,
    best_time,
    fit_contact,
    hour_of_week,
    label,
)
from streams.predictive.recommend_profile import (
    Personalisation,
    details,
    fit_personalisation,
    load_personalisation,
)
from streams.predictive.recommend_simulate import DAY_MS, T0, shoppers
from streams.settings import Settings

Ix = rec.Interaction


def basket_data() -> list[rec.Interaction]:
    """a and b go together (bought by the same people); c is popular with everyone else."""
    out = []
    for p in range(10):
        out += [Ix(f"ab{p}", "a", T0, 1.0), Ix(f"ab{p}", "b", T0 + 1, 3.0)]
    for p in range(20):
        out.append(Ix(f"c{p}", "c", T0 + p, 1.0))
    out.append(Ix("x", "d", T0, 1.0))
    return out


def test_items_that_go_together_are_recommended_before_popular_ones() -> None:
    model = rec.fit(basket_data(), T0 + DAY_MS)
    got = rec.recommend(model, [("a", T0, 1.0)], T0 + DAY_MS, k=3)
    assert got[0].item == "b" and got[0].because == "a"
    assert [s.item for s in got[1:]] == ["c", "d"]  # then by popularity
    assert {s.because for s in got[1:]} == {rec.POPULAR}
    assert "a" not in [s.item for s in got]  # never what the person has


def test_an_empty_or_unknown_history_gets_the_popular_items() -> None:
    model = rec.fit(basket_data(), T0 + DAY_MS)
    # b's purchases weigh 3 each: 30 against c's 20 views
    assert [s.item for s in rec.recommend(model, [], T0 + DAY_MS, k=2)] == ["b", "c"]
    assert rec.recommend(model, [("zz", T0, 1.0)], T0 + DAY_MS, k=2) == \
        rec.recommend(model, [], T0 + DAY_MS, k=2)
    assert rec.popular(model, [("c", T0, 1.0)], 2) == ["b", "a"]


def test_popularity_decays_with_age_and_later_interactions_are_not_fitted() -> None:
    old = [Ix(f"o{p}", "old", T0, 1.0) for p in range(10)]
    new = [Ix(f"n{p}", "new", T0 + 300 * DAY_MS, 1.0) for p in range(4)]
    future = [Ix(f"f{p}", "future", T0 + 400 * DAY_MS, 1.0) for p in range(50)]
    model = rec.fit(old + new + future, T0 + 301 * DAY_MS,
                    rec.RecommendPolicy(half_life_days=30.0))
    assert "future" not in model.items
    assert rec.popular(model, [], 2) == ["new", "old"]


def test_the_fit_is_deterministic_and_the_version_follows_the_content() -> None:
    data = basket_data()
    one, two = rec.fit(data, T0 + DAY_MS), rec.fit(list(reversed(data)), T0 + DAY_MS)
    assert one.version == two.version
    assert rec.fit(data[:-1], T0 + DAY_MS).version != one.version


def test_items_come_from_products_content_and_campaigns() -> None:
    view = {"type": "site_visit", "campaign_id": "cmp", "properties": {"product_id": "p1"}}
    assert rec.items_of("touchpoint", view) == [("product:p1", 1.0)]
    bought = {"type": "purchase", "properties": {"product_ids": "p1, p2,p1"}}
    assert rec.items_of("conversion", bought) == [("product:p1", 3.0), ("product:p2", 3.0)]
    assert rec.items_of("touchpoint", {"type": "email_open", "campaign_id": "spring"}) == \
        [("campaign:spring", 1.0)]
    assert rec.items_of("conversion", {"type": "signup", "campaign_id": "x"}) == []


def test_on_the_simulator_co_occurrence_beats_popularity_at_10() -> None:
    world = shoppers(persons=400, days=120, seed=5)
    cut = T0 + 90 * DAY_MS
    interactions = [Ix(v["identifiers"]["customer_id"], item, v["occurred_at"], w)
                    for kind, v in world.events for item, w in rec.items_of(kind, v)]
    model = rec.fit(interactions, cut)
    history: dict[str, list[tuple[str, int, float]]] = {}
    for i in interactions:
        if i.at < cut:
            history.setdefault(i.person, []).append((i.item, i.at, i.weight))
    held: dict[str, set[str]] = {}
    for i in interactions:
        if i.at >= cut and i.weight >= 3 and i.person in history and i.item not in {
                h[0] for h in history[i.person]}:
            held.setdefault(i.person, set()).add(i.item)
    ours = {p: [s.item for s in rec.recommend(model, history[p], cut, 10)] for p in held}
    baseline = {p: rec.popular(model, history[p], 10) for p in held}
    assert len(held) > 100
    assert rec.hit_rate(ours, held, 10) > rec.hit_rate(baseline, held, 10) + 0.05


def test_the_contact_time_is_the_persons_habit_shrunk_to_the_segment() -> None:
    assert hour_of_week(T0) == 3 * 24  # 2026-01-01 was a Thursday
    assert label(3 * 24 + 18) == "thu 18:00"
    evening = [20] * 21  # Mondays at 20:00
    model = fit_contact({"a": evening, "b": [9, 10]}, {"a": "evening", "b": "office"},
                        strength=8.0)
    assert best_time(model, [], "evening").hour_of_week == 20  # the segment's best
    # one event at an odd hour is not enough to leave the segment's habit ...
    assert best_time(model, [3], "evening").hour_of_week == 20
    # ... several are
    assert best_time(model, [3] * 9, "evening").hour_of_week == 3
    unknown = best_time(model, [], "nobody")
    assert unknown.events == 0 and 0 <= unknown.confidence <= 1
    assert np.allclose(model.shares.sum(axis=1), 1.0)
    bare = ContactModel(model.segments, model.shares, 0.0)
    assert best_time(bare, [3], "evening").hour_of_week == 3


def profile_of(recent: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    times = [i["occurred_at"] for i in recent]
    value = {"person_id": "p_1", "version": 1, "updated_at": max(times), "first_seen": min(times),
             "last_seen": max(times), "identifiers": ["email:a@b.net"], "attributes": {},
             "tags": [], "lifecycle_stage": "customer", "channels": [], "touchpoints": 1,
             "conversions": 0, "revenue": {}, "scores": {}, "recent": recent,
             "merged_into": None}
    value.update(extra)
    return value


def test_a_profile_gets_recommendations_and_a_contact_time_that_survive_a_file(
        tmp_path: Path) -> None:
    events = []
    for p in range(12):  # newsletter readers go on to the spring campaign
        events += [("touchpoint", {"person_id": f"r{p}", "occurred_at": T0 + p * 3_600_000,
                                   "type": "email_open", "campaign_id": "newsletter"}),
                   ("touchpoint", {"person_id": f"r{p}", "occurred_at": T0 + DAY_MS,
                                   "type": "email_click", "campaign_id": "spring"})]
    model = fit_personalisation(events, T0 + 2 * DAY_MS, {}, k=3)
    recent = [{"event_id": "e1", "kind": "touchpoint", "occurred_at": T0 + 2 * DAY_MS,
               "type": "email_open", "channel": "email", "campaign_id": "newsletter",
               "value": None, "currency": None}]
    got = details(model, profile_of(recent), T0 + 2 * DAY_MS)
    assert got["recommended"].split(",")[0] == "campaign:spring"
    assert got["recommended_because"].split(",")[0] == "campaign:newsletter"
    assert got["best_contact_time"].endswith(" UTC")
    assert got["personalisation_version"] == model.version
    path = tmp_path / "personalisation.npz"
    model.save(path)
    again = load_personalisation(tmp_path)
    assert again is not None and again.version == model.version
    assert details(again, profile_of(recent), T0 + 2 * DAY_MS) == got
    assert load_personalisation(tmp_path / "none") is None
    path.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a personalisation model"):
        Personalisation.load(path)
    # details are strings, as customer.scores details are
    codec = AvroCodec.from_settings(Settings())
    codec.encode("customer.scores", {
        "person_id": "p_1", "kind": "next_best_action", "score": 1.0, "probability": None,
        "label": "nurture_email", "reasons": [], "details": got, "model_version": "m",
        "profile_version": 1, "scored_at": T0})


def test_the_scoring_stage_puts_personalisation_on_the_next_best_action() -> None:
    from streams.predictive.scoring import Models
    from streams.predictive.stage import STATES, served
    from tests.unit.kernel.test_stage import Memory
    from tests.unit.predictive.test_stage import raws_for, run

    events = [("touchpoint", {"person_id": f"r{p}", "occurred_at": T0 + DAY_MS * d,
                              "type": "email_click", "campaign_id": c})
              for p in range(12) for d, c in ((0, "newsletter"), (1, "spring"))]
    model = fit_personalisation(events, T0 + 2 * DAY_MS, {}, k=2)
    recent = [{"event_id": "e1", "kind": "touchpoint", "occurred_at": T0 + 2 * DAY_MS,
               "type": "email_open", "channel": "email", "campaign_id": "newsletter",
               "value": None, "currency": None}]
    codec = AvroCodec.from_settings(Settings())
    memory = Memory()
    computed = run(codec, raws_for(codec, [profile_of(recent)]), memory,
                   Models(personalisation=model))
    action = next(r.value for r in computed.outcome.result.outputs
                  if r.value["kind"] == "next_best_action")
    # what the person met is never suggested again; nothing else is left in this catalogue
    assert action["details"]["recommended"] == "campaign:spring"
    assert action["details"]["recommended_because"] == "campaign:newsletter"
    assert action["details"]["personalisation_version"] == model.version
    assert {"lead_score", "churn_risk"} <= set(action["details"])  # the rule's figures stay
    # the state names the personalisation model too: a new one makes rescoring due
    assert memory.tables[STATES]["p_1"]["models"] == served(Models(personalisation=model))
    assert served(Models()) != served(Models(personalisation=model))


def test_chat_sessions_with_their_figures_suggest_a_service_on_the_profile() -> None:
    events = [("touchpoint", {"person_id": "r1", "occurred_at": T0, "type": "email_open",
                              "campaign_id": "newsletter"})]
    model = fit_personalisation(events, T0 + DAY_MS, {})
    figures = {"outcome": "ended", "messages": "9", "sentiment_mean": "-0.4412",
               "intent": "cancellation", "escalations": "1", "lead_signals": "0"}
    chat: dict[str, Any] = {"event_id": "chat:c1:1", "kind": "touchpoint", "occurred_at": T0 + DAY_MS,
            "type": "chat_session", "channel": "chat", "campaign_id": None, "value": None,
            "currency": None,
            "attributes": figures}
    got = details(model, profile_of([chat]), T0 + 2 * DAY_MS)
    assert got["service_suggestion"] == "retention_call"
    assert got["service_reason"].startswith("SERVICE_CANCELLATION: 1 conversation(s)")
    calm = {**chat, "attributes": {"intent": "other", "sentiment_mean": "0.5"}}
    assert "service_suggestion" not in details(model, profile_of([calm]), T0 + 2 * DAY_MS)
    broken = {**chat, "attributes": {**figures, "sentiment_mean": "n/a"}}
    assert "service_suggestion" not in details(model, profile_of([broken]), T0 + 2 * DAY_MS)
