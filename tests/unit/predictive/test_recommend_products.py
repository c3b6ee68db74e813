"""Recommendations in the stream are by product: the unified profile keeps the item ids of its
touchpoints and conversions (``customer.profile.ITEM_ATTRIBUTES``), through the
``customer.profiles`` record and its Avro encoding, where personalisation reads them."""

from __future__ import annotations

from typing import Any

from streams.contract.codec import AvroCodec
from streams.customer import profile as fold
from streams.predictive import contract as names
from streams.predictive.features import read_profile
from streams.predictive.recommend_profile import details, history
from streams.predictive.recommend_simulate import DAY_MS, T0, shoppers
from streams.predictive.recommend_training import train_personalisation
from streams.settings import Settings
from tests.unit.predictive.helpers import shopper_rows

IDS = [{"kind": "customer_id", "value": "c1", "status": "ok"}]


def event(eid: str, kind: str, at: int, **fields: Any) -> dict[str, Any]:
    base = {"event_id": eid, "kind": kind, "occurred_at": at, "type": None, "channel": None,
            "campaign_id": None, "value": None, "currency": None, "attributes": {},
            "tags": [], "deleted": False, "lifecycle_stage": None, "identifiers": IDS}
    return {**base, **fields}


def folded(*events: dict[str, Any]) -> dict[str, Any]:
    profile = fold.new_profile("c1")
    for e in events:
        assert fold.absorb(profile, e, fold.DEFAULT_PROFILE_POLICY)
    codec = AvroCodec.from_settings(Settings())
    return codec.decode(names.CUSTOMER_PROFILES,
                        codec.encode(names.CUSTOMER_PROFILES, fold.record(profile)))


def test_the_profile_keeps_the_item_ids_and_nothing_else_of_an_event() -> None:
    value = folded(
        event("t1", "touchpoint", T0, type="site_visit", channel="direct",
              attributes={"product_id": "p01-02", "page_title": "Kettle", "gclid": "x"}),
        event("b1", "conversion", T0 + 1, type="purchase", value=30.0, currency="EUR",
              attributes={"product_ids": "p01-03,p02-00", "coupon": "SPRING"}),
        event("t2", "touchpoint", T0 + 2, type="click", channel="email", campaign_id="cmp9",
              attributes={"subject": "News"}))
    assert [i["attributes"] for i in value["recent"]] == [
        {"product_id": "p01-02"}, {"product_ids": "p01-03,p02-00"}, {}]
    assert [item for item, _, _ in history(value)] == [
        "product:p01-02", "product:p01-03", "product:p02-00", "campaign:cmp9"]


def test_item_ids_leave_the_lead_and_churn_features_as_they_were() -> None:
    plain = folded(event("t1", "touchpoint", T0, type="site_visit", channel="direct"),
                   event("b1", "conversion", T0 + DAY_MS, type="purchase", value=30.0,
                         currency="EUR"))
    named = folded(event("t1", "touchpoint", T0, type="site_visit", channel="direct",
                         attributes={"product_id": "p01-02"}),
                   event("b1", "conversion", T0 + DAY_MS, type="purchase", value=30.0,
                         currency="EUR", attributes={"product_id": "p01-02"}))
    as_of = T0 + 2 * DAY_MS
    assert repr(read_profile(plain, as_of)) == repr(read_profile(named, as_of))


def test_a_live_profile_gets_products_recommended_from_its_own_products() -> None:
    world = shoppers(persons=400, days=90, categories=8, per_category=10, seed=4)
    model = train_personalisation(shopper_rows(world)).model
    end = max(v["occurred_at"] for _, v in world.events)
    person = next(p for p in sorted(world.segment)
                  if sum(v["identifiers"]["customer_id"] == p for _, v in world.events) >= 6)
    views = [v for kind, v in world.events
             if kind == "touchpoint" and v["identifiers"]["customer_id"] == person]
    value = folded(*(event(v["touchpoint_id"], "touchpoint", v["occurred_at"],
                           type="site_visit", channel="direct", attributes=v["properties"])
                     for v in views))
    out = details(model, value, end)
    seen = {f"product:{v['properties']['product_id']}" for v in views}
    recommended = out["recommended"].split(",")
    because = out["recommended_because"].split(",")
    assert len(recommended) == 5 and not set(recommended) & seen
    assert all(r.startswith("product:") for r in recommended)
    # at least the first comes from the person's own products, not the popularity fallback
    assert because[0] in seen
