"""``profile.rebuild`` and ``profile.adopt``: a split person's profile divided by identifiers."""

from __future__ import annotations

from typing import Any

from streams.customer import profile as fold

T0 = 1_767_225_600_000


def event(eid: str, kind: str, at: int, ids: list[tuple[str, str]], **fields: Any
          ) -> dict[str, Any]:
    base = {"event_id": eid, "kind": kind, "occurred_at": at, "type": None, "channel": None,
            "campaign_id": None, "value": None, "currency": None, "attributes": {},
            "tags": [], "deleted": False, "lifecycle_stage": None,
            "identifiers": [{"kind": k, "value": v, "status": "ok"} for k, v in ids]}
    return {**base, **fields}


def folded(*events: dict[str, Any]) -> fold.Profile:
    profile = fold.new_profile("p1")
    for e in events:
        assert fold.absorb(profile, e, fold.DEFAULT_PROFILE_POLICY)
    return profile


def test_crm_records_attributes_and_stages_follow_their_part() -> None:
    profile = folded(
        event("crm:a", "profile", T0, [("record_id", "a")], attributes={"city": "Oslo"},
              tags=["x"], lifecycle_stage="customer"),
        event("crm:b", "profile", T0 + 1, [("record_id", "b")], attributes={"city": "Rome"},
              tags=["y"], lifecycle_stage="lead"),
        event("buy", "conversion", T0 + 2, [("record_id", "a")], type="purchase", value=10.0,
              currency="EUR"))
    assert profile["attributes"]["city"] == "Rome"
    parts = fold.rebuild(profile, {"p1": ["record_id:a"], "p2": ["record_id:b"]}, "p1")
    a, b = parts["p1"], parts["p2"]
    assert (a["attributes"], a["tags"], a["lifecycle_stage"]) == ({"city": "Oslo"}, ["x"],
                                                                   "customer")
    assert (b["attributes"], b["tags"], b["lifecycle_stage"]) == ({"city": "Rome"}, ["y"], "lead")
    assert (a["revenue"], b["revenue"], b["conversions"]) == ({"EUR": 10.0}, {}, 0)
    assert a["version"] == b["version"] == profile["version"] + 1


def test_what_was_counted_before_the_ledger_stays_with_the_holder() -> None:
    profile = folded(event("t1", "touchpoint", T0, [("email", "e@x.org")], channel="email"),
                     event("t2", "touchpoint", T0 + 1, [("anonymous_id", "n")], channel="direct"))
    legacy = {k: v for k, v in profile.items() if k not in ("ledger", "crm")}
    legacy["touchpoints"] += 3  # counted before this profile kept a ledger
    legacy["journey"] = [{k: v for k, v in t.items() if k != "ids"} for t in legacy["journey"]]
    parts = fold.rebuild(legacy, {"p1": ["email:e@x.org"], "p2": ["anonymous_id:n"]}, "p1")
    assert parts["p1"]["touchpoints"] == 5 and parts["p2"]["touchpoints"] == 0
    assert len(parts["p1"]["journey"]) == 2  # no identifiers recorded: the holder keeps them


def test_adopt_installs_a_part_over_a_retired_profile_and_folds_it_into_a_live_one() -> None:
    part = folded(event("t1", "touchpoint", T0, [("email", "e@x.org")], channel="email"))
    part["person_id"] = "p2"
    retired = fold.retire(folded(event("t0", "touchpoint", T0 - 1, [("email", "o@x.org")],
                                       channel="direct")), "p9")
    retired["person_id"] = "p2"
    adopted = fold.adopt(retired, part, "detach:1")
    assert adopted["merged_into"] is None and adopted["touchpoints"] == 1
    assert adopted["version"] > retired["version"]
    live = folded(event("t5", "touchpoint", T0 + 5, [("email", "e@x.org")], channel="social"))
    live["person_id"] = "p2"
    merged = fold.adopt(live, part, "detach:2")
    assert merged["touchpoints"] == 2 and fold.adopt(merged, part, "detach:2")["touchpoints"] == 2
