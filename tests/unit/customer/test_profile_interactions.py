"""A chat session's interaction keeps its conversation's attributes through the profile fold:
absorb, merge, split (``rebuild``), adoption and the ``customer.profiles`` v2 record."""

from __future__ import annotations

from typing import Any

from streams.customer import profile as fold
from tests.unit.customer.test_profile_split import T0, event, folded

FIGURES = {"intent": "cancellation", "escalations": "2", "lead_signals": "0",
           "sentiment_mean": "-0.4412", "messages": "9"}


def chat(eid: str, at: int, ids: list[tuple[str, str]]) -> dict[str, Any]:
    return event(eid, "touchpoint", at, ids, type="chat_session", channel="chat",
                 attributes=dict(FIGURES))


def attributes_of(profile: fold.Profile) -> dict[str, Any]:
    return {i["event_id"]: i.get("attributes") for i in profile["recent"]}


def test_only_chat_sessions_keep_their_attributes() -> None:
    profile = folded(
        chat("c1", T0, [("customer_id", "a")]),
        event("t1", "touchpoint", T0 + 1, [("customer_id", "a")], channel="paid_search",
              attributes={"gclid": "x"}),
        event("b1", "conversion", T0 + 2, [("customer_id", "a")], type="purchase", value=5.0,
              currency="EUR", attributes={"items": "2"}),
        event("crm1", "profile", T0 + 3, [("customer_id", "a")], attributes={"city": "Oslo"}))
    assert attributes_of(profile) == {"c1": FIGURES, "t1": None, "b1": None, "crm1": None}
    value = fold.record(profile)
    assert [i["attributes"] for i in value["recent"]] == [FIGURES, {}, {}, {}]
    assert all("ids" not in i for i in value["recent"])
    # a stored interaction from before v2 (no attributes key) gives an empty map
    legacy = {**profile, "recent": [{k: v for k, v in i.items() if k != "attributes"}
                                    for i in profile["recent"]]}
    assert [i["attributes"] for i in fold.record(legacy)["recent"]] == [{}, {}, {}, {}]


def test_the_figures_are_a_copy_of_the_event() -> None:
    source = chat("c1", T0, [("customer_id", "a")])
    profile = folded(source)
    source["attributes"]["intent"] = "pricing"
    assert profile["recent"][0]["attributes"]["intent"] == "cancellation"


def test_a_merge_keeps_the_absorbed_persons_chat_figures() -> None:
    survivor = folded(event("t1", "touchpoint", T0, [("email", "e@x.org")], channel="email"))
    absorbed = folded(chat("c1", T0 + 1, [("customer_id", "a")]))
    absorbed["person_id"] = "p2"
    assert fold.merge(survivor, absorbed, fold.DEFAULT_PROFILE_POLICY)
    assert attributes_of(survivor) == {"t1": None, "c1": FIGURES}
    assert fold.record(survivor)["recent"][1]["attributes"] == FIGURES


def test_a_split_and_an_adoption_keep_each_chat_figures_with_its_part() -> None:
    profile = folded(chat("c1", T0, [("customer_id", "a")]),
                     chat("c2", T0 + 1, [("customer_id", "b")]),
                     event("t1", "touchpoint", T0 + 2, [("customer_id", "b")], channel="email"))
    parts = fold.rebuild(profile, {"p1": ["customer_id:a"], "p2": ["customer_id:b"]}, "p1")
    assert attributes_of(parts["p1"]) == {"c1": FIGURES}
    assert attributes_of(parts["p2"]) == {"c2": FIGURES, "t1": None}
    live = folded(event("t0", "touchpoint", T0 - 1, [("customer_id", "b")], channel="direct"))
    adopted = fold.adopt(live, {**parts["p2"], "person_id": "p1"}, "split:1")
    assert attributes_of(adopted) == {"t0": None, "c2": FIGURES, "t1": None}
    fresh = fold.adopt(fold.new_profile("p2"), parts["p2"], "split:2")
    assert fold.record(fresh)["recent"][0]["attributes"] == FIGURES
