"""The profile fold the profile stage runs: order, redelivery, lifecycle, merge, bounds."""

from __future__ import annotations

from typing import Any

from streams.customer import profile as fold

POLICY = fold.ProfilePolicy(recent_limit=3, journey_limit=10, lookback_ms=10_000)


def event(event_id: str, at: int, kind: str = "touchpoint", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": event_id, "kind": kind, "occurred_at": at, "type": None, "channel": None,
        "campaign_id": None, "value": None, "currency": None, "identifiers": [],
        "attributes": {}, "tags": [], "deleted": False, "lifecycle_stage": None}
    if kind == "touchpoint":
        base["channel"] = "email"
    base.update(extra)
    return base


def test_out_of_order_events_end_in_time_order_and_a_redelivery_counts_once() -> None:
    p = fold.new_profile("p1")
    for e in (event("b", 2_000), event("a", 1_000), event("c", 3_000, channel="direct")):
        assert fold.absorb(p, e, POLICY)
    assert not fold.absorb(p, event("a", 1_000), POLICY)
    assert [i["event_id"] for i in p["recent"]] == ["a", "b", "c"]
    assert [t["touchpoint_id"] for t in p["journey"]] == ["a", "b", "c"]
    assert p["touchpoints"] == 3 and p["version"] == 3
    assert p["channels"] == ["email", "direct"]
    assert (p["first_seen"], p["last_seen"]) == (1_000, 3_000)


def test_bounds_recent_list_and_lookback_of_the_journey() -> None:
    p = fold.new_profile("p1")
    for i in range(6):
        fold.absorb(p, event(f"t{i}", i * 4_000), POLICY)
    assert [i["event_id"] for i in p["recent"]] == ["t3", "t4", "t5"]
    # lookback 10 s before the latest event (20 s): 12 s and 16 s and 20 s remain
    assert [t["touchpoint_id"] for t in p["journey"]] == ["t3", "t4", "t5"]
    assert p["touchpoints"] == 6


def test_lifecycle_moves_forward_and_the_crm_may_set_at_risk() -> None:
    p = fold.new_profile("p1")
    assert p["lifecycle_stage"] == "anonymous"
    fold.absorb(p, event("t", 1, identifiers=[{"kind": "email", "value": "a@b.io",
                                                 "status": "ok", "reason": None}]), POLICY)
    assert p["lifecycle_stage"] == "known"
    fold.absorb(p, event("crm1", 2, "profile", lifecycle_stage="Marketing Qualified Lead",
                         attributes={"first_name": "A"}), POLICY)
    assert p["lifecycle_stage"] == "mql" and p["attributes"] == {"first_name": "A"}
    fold.absorb(p, event("crm0", 1, "profile", lifecycle_stage="lead",
                         attributes={"first_name": "old", "city": "X"}), POLICY)
    assert p["lifecycle_stage"] == "mql"  # an older update only fills the gaps
    assert p["attributes"] == {"first_name": "A", "city": "X"}
    fold.absorb(p, event("crm2", 3, "profile", lifecycle_stage="at_risk"), POLICY)
    assert p["lifecycle_stage"] == "at_risk"
    fold.absorb(p, event("cv", 4, "conversion", type="purchase", value=9.5, currency="EUR"),
                POLICY)
    assert p["lifecycle_stage"] == "customer" and p["revenue"] == {"EUR": 9.5}


def test_a_merge_adds_the_other_persons_history_once() -> None:
    a, b = fold.new_profile("a"), fold.new_profile("b")
    fold.absorb(a, event("a1", 5_000), POLICY)
    fold.absorb(b, event("b1", 4_000), POLICY)
    fold.absorb(b, event("bc", 6_000, "conversion", type="signup", value=0.0, currency="USD"),
                POLICY)
    assert fold.merge(a, b, POLICY)
    assert not fold.merge(a, b, POLICY)
    assert [t["touchpoint_id"] for t in a["journey"]] == ["b1", "a1"]
    assert (a["touchpoints"], a["conversions"], a["first_seen"]) == (2, 1, 4_000)
    assert not fold.absorb(a, event("b1", 4_000), POLICY)  # b's events are known to a
    retired = fold.retire(b, "a")
    assert retired["merged_into"] == "a" and retired["touchpoints"] == 0
    assert fold.record(a)["recent"][0]["event_id"] == "b1"
