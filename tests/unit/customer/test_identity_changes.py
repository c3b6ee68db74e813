"""Explicit graph changes through the customer stages, in memory: a match joins two CRM
records with its probability and weights, unlink and forget split a person, the profiles are
rebuilt per part and the conversions attributed again with the old credits superseded."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from streams import topics
from streams.contract.codec import AvroCodec
from streams.customer import identity_changes as changes
from streams.customer import identity_stage
from streams.customer.attribution import DAY_MS
from streams.customer.attribution_rules import RULE_MODELS
from streams.kernel.records import OutputRecord
from streams.settings import Settings
from tests.unit.customer.stage_chain import Chain

T0 = 1_767_225_600_000
HOUR = 3_600_000
EMAIL, ANON = "jane@mail.org", "anon-1"


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def _ids(**given: str) -> dict[str, str | None]:
    return {k: given.get(k) for k in ("customer_id", "email", "phone", "anonymous_id",
                                      "device_id")}


def touch(tid: str, at: int, channel: str, **ids: str) -> OutputRecord:
    return OutputRecord(topics.TOUCHPOINTS, next(iter(ids.values())), {
        "touchpoint_id": tid, "occurred_at": at, "type": "click", "channel": channel,
        "platform": None, "campaign_id": None, "ad_group_id": None, "ad_id": None,
        "utm": {"source": None, "medium": None, "campaign": None, "term": None,
                "content": None},
        "identifiers": _ids(**ids), "url": None, "referrer": None, "properties": {}})


def convert(cid: str, at: int, value: float, **ids: str) -> OutputRecord:
    return OutputRecord(topics.CONVERSIONS, next(iter(ids.values())), {
        "conversion_id": cid, "occurred_at": at, "type": "purchase", "value": value,
        "currency": "USD", "order_id": None, "identifiers": _ids(**ids), "properties": {}})


def crm(customer_id: str, first: str, kind: str | None) -> OutputRecord:
    attributes = {"street": "1 High St"} | ({changes.CRM_ID_KIND: kind} if kind else {})
    return OutputRecord(topics.CRM_PROFILES, customer_id, {
        "customer_id": customer_id, "updated_at": T0, "email": None, "phone": None,
        "first_name": first, "last_name": "Doe", "company": None, "job_title": None,
        "country": None, "lifecycle_stage": "lead", "owner_id": None, "lifetime_value": None,
        "currency": None, "attributes": attributes, "tags": [], "deleted": False})


def change(kind: str, ids: list[tuple[str, str]], at: int, **attributes: str) -> OutputRecord:
    return OutputRecord(topics.IDENTITY_OBSERVATIONS, "identity", changes.observation(
        kind, ids, f"{kind}:{at}", at, attributes))


def latest_credits(chain: Chain) -> dict[tuple[str, str, str], float]:
    """The credit each (conversion, model, touchpoint) key holds now (the last row wins: the
    chain computes every batch at the same time, so insertion order decides)."""
    out: dict[tuple[str, str, str], float] = {}
    for row in chain.column_rows("attribution_credits"):
        out[row["conversion_id"], row["model"], row["touchpoint_id"]] = row["credit"]
    return out


def joined(codec: AvroCodec) -> Chain:
    """One person: anon-1 (tp1, paid_search), then jane with anon-1 (tp2, email), a 100 USD
    purchase by jane and a 50 USD purchase by anon-1."""
    chain = Chain(codec)
    chain.produce([touch("tp1", T0, "paid_search", anonymous_id=ANON),
                   touch("tp2", T0 + HOUR, "email", email=EMAIL, anonymous_id=ANON),
                   convert("cv1", T0 + 2 * HOUR, 100.0, email=EMAIL),
                   convert("cv2", T0 + 3 * HOUR, 50.0, anonymous_id=ANON)])
    chain.drain()
    (profile,) = chain.profiles().values()
    assert profile["identifiers"] == [f"anonymous_id:{ANON}", f"email:{EMAIL}"]
    return chain


def test_unlink_splits_the_person_rebuilds_both_profiles_and_supersedes_old_credits(
        codec: AvroCodec) -> None:
    chain = joined(codec)
    before = latest_credits(chain)
    assert before["cv1", "linear", "tp1"] == pytest.approx(0.5)
    chain.produce([change("unlink", [("email", EMAIL), ("anonymous_id", ANON)],
                          T0 + 4 * HOUR, reason="shared laptop")])
    chain.drain()
    assert not chain.dead
    profiles = {tuple(p["identifiers"]): p for p in chain.profiles().values()}
    assert set(profiles) == {(f"anonymous_id:{ANON}",), (f"email:{EMAIL}",)}
    anon, jane = profiles[f"anonymous_id:{ANON}",], profiles[f"email:{EMAIL}",]
    # an event goes with its strongest remaining identifier: tp2 (email + anon) with jane
    assert [t["touchpoint_id"] for t in anon["journey"]] == ["tp1"]
    assert [t["touchpoint_id"] for t in jane["journey"]] == ["tp2"]
    assert (anon["touchpoints"], anon["conversions"], anon["revenue"]) == (1, 1, {"USD": 50.0})
    assert (jane["touchpoints"], jane["conversions"], jane["revenue"]) == (1, 1, {"USD": 100.0})
    assert anon["channels"] == ["paid_search"] and jane["channels"] == ["email"]
    credits = latest_credits(chain)
    for model in RULE_MODELS:  # each conversion's credits now sum to 1 over its own part
        assert credits["cv1", model, "tp2"] == pytest.approx(1.0)
        assert credits["cv1", model, "tp1"] == 0.0  # superseded, not left standing
        assert credits["cv2", model, "tp1"] == pytest.approx(1.0)
        assert credits["cv2", model, "tp2"] == 0.0
    latest = {(r["conversion_id"], r["model"], r["touchpoint_id"]): r
              for r in chain.column_rows("attribution_credits")}
    assert {r["person_id"] for r in latest.values() if r["credit"] > 0
            and r["conversion_id"] == "cv1"} == {jane["person_id"]}
    links = [r for r in chain.column_rows("identity_links") if r["kind"] in ("unlink", "split")]
    assert [r["kind"] for r in links] == ["unlink", "split", "split"]
    assert links[0]["a"] == f"email:{EMAIL}" and links[0]["reason"] == "shared laptop"
    assert {tuple(r["members"]) for r in links[1:]} == set(profiles)
    assert {r["other_person"] for r in links[1:]} == {links[0]["person_id"]}
    # the graph agrees: each part explains itself without the removed edge
    graph = chain.memory[identity_stage.NAME]
    why = identity_stage.explain(graph.lookup, f"email:{EMAIL}")
    assert why is not None and why.identifiers == (f"email:{EMAIL}",) and not why.edges


def test_a_second_unlink_of_the_same_edge_changes_nothing(codec: AvroCodec) -> None:
    chain = joined(codec)
    unlink = [("email", EMAIL), ("anonymous_id", ANON)]
    chain.produce([change("unlink", unlink, T0 + 4 * HOUR)])
    chain.drain()
    profiles = chain.profiles()
    chain.produce([change("unlink", unlink, T0 + 5 * HOUR)])
    chain.drain()
    assert chain.profiles() == profiles
    last = chain.column_rows("identity_links")[-1]
    assert last["kind"] == "unlink" and "nothing to remove" in last["reason"]


def test_forget_removes_the_identifier_and_what_only_it_carried(codec: AvroCodec) -> None:
    chain = joined(codec)
    chain.produce([change("forget", [("email", EMAIL)], T0 + 4 * HOUR, reason="erasure")])
    chain.drain()
    (profile,) = chain.profiles().values()
    assert profile["identifiers"] == [f"anonymous_id:{ANON}"]
    # cv1 came with the email alone: gone; tp2 also carried anon-1: kept
    assert [t["touchpoint_id"] for t in profile["journey"]] == ["tp1", "tp2"]
    assert (profile["conversions"], profile["revenue"]) == (1, {"USD": 50.0})
    assert all(EMAIL not in json.dumps(r) for r in profile["recent"])
    graph = chain.memory[identity_stage.NAME].tables[identity_stage.GRAPH]
    assert f"n:email:{EMAIL}" not in graph
    # a later event with the email starts a new person, not the old one
    chain.produce([touch("tp3", T0 + 5 * HOUR, "direct", email=EMAIL)])
    chain.drain()
    assert len(chain.profiles()) == 2


def test_a_new_event_after_a_split_in_the_same_batch_sees_the_split(codec: AvroCodec) -> None:
    chain = joined(codec)
    chain.produce([change("forget", [("email", EMAIL)], T0 + 4 * HOUR),
                   touch("tp3", T0 + 5 * HOUR, "direct", email=EMAIL, anonymous_id="anon-9")])
    chain.batch = 64
    chain.drain()
    persons = {tuple(p["identifiers"]) for p in chain.profiles().values()}
    assert persons == {(f"anonymous_id:{ANON}",), ("anonymous_id:anon-9", f"email:{EMAIL}")}


def test_match_joins_record_ids_with_its_probability_and_weights(codec: AvroCodec) -> None:
    chain = Chain(codec)
    chain.produce([crm("c-1", "Jane", "record_id"), crm("c-2", "Jayne", "record_id")])
    chain.drain()
    assert len(chain.profiles()) == 2
    events_before = len(chain.column_rows("customer_events"))
    weights = {"first_name": 3.5, "last_name": 6.25, "total": 9.75}
    chain.produce([change("match", [("record_id", "c-1"), ("record_id", "c-2")], T0 + HOUR,
                          **changes.match_attributes(0.9993, weights))])
    chain.drain()
    (profile,) = chain.profiles().values()
    assert profile["identifiers"] == ["record_id:c-1", "record_id:c-2"]
    (link,) = [r for r in chain.column_rows("identity_links") if r["rule"] == "fellegi_sunter"]
    assert link["probability"] == pytest.approx(0.9993)
    assert dict(zip(link["weight_fields"], link["weight_values"], strict=True)) == weights
    assert len(chain.column_rows("customer_events")) == events_before  # not an interaction
    why = identity_stage.explain(chain.memory[identity_stage.NAME].lookup, "record_id:c-2")
    assert why is not None
    (edge,) = why.edges
    assert edge.rule == "fellegi_sunter" and dict(edge.weights or ())["last_name"] == 6.25


def test_match_of_two_customer_ids_is_refused_by_the_guard_rail(codec: AvroCodec) -> None:
    chain = Chain(codec)
    chain.produce([crm("c-1", "Jane", None), crm("c-2", "Jayne", None)])
    chain.drain()
    chain.produce([change("match", [("customer_id", "c-1"), ("customer_id", "c-2")], T0,
                          **changes.match_attributes(0.99, {"total": 9.0}))])
    chain.drain()
    assert len(chain.profiles()) == 2
    refused = [r for r in chain.column_rows("identity_links") if r["kind"] == "refused"]
    assert [r["reason"] for r in refused] == ["customer_id_conflict"]


@pytest.mark.parametrize(("kind", "ids", "attributes", "reason"), [
    ("unlink", [("email", EMAIL)], {}, "names 2 distinct usable"),
    ("forget", [("email", EMAIL), ("anonymous_id", ANON)], {}, "names 1 distinct usable"),
    ("match", [("record_id", "a"), ("record_id", "b")], {"rule": "fellegi_sunter"},
     "probability and weights"),
    ("match", [("record_id", "a"), ("record_id", "b")], {"probability": "1.5"}, "not in [0, 1]"),
])
def test_a_malformed_change_is_dead_lettered_with_its_reason(
        codec: AvroCodec, kind: str, ids: list[tuple[str, str]], attributes: dict[str, str],
        reason: str) -> None:
    chain = Chain(codec)
    chain.produce([change(kind, ids, T0, **attributes)])
    chain.drain()
    (dead,) = chain.dead
    assert reason in dead.reason


def test_split_then_rejoin_then_split_again_gives_the_part_back_its_profile(
        codec: AvroCodec) -> None:
    """The second split gives the detached part the same person id as the first (ids derive
    from the anchor); the part installed over the profile retired by the rejoin merge."""
    chain = joined(codec)
    unlink = [("email", EMAIL), ("anonymous_id", ANON)]
    chain.produce([change("unlink", unlink, T0 + 4 * HOUR)])
    chain.drain()
    first = {tuple(p["identifiers"]): p["person_id"] for p in chain.profiles().values()}
    chain.produce([touch("tp4", T0 + 5 * HOUR, "social", email=EMAIL, anonymous_id=ANON)])
    chain.drain()
    assert len(chain.profiles()) == 1
    chain.produce([change("unlink", unlink, T0 + 6 * HOUR)])
    chain.drain()
    again = {tuple(p["identifiers"]): p for p in chain.profiles().values()}
    assert {k: p["person_id"] for k, p in again.items()} == first
    counts: dict[str, Any] = defaultdict(int)
    for p in again.values():
        counts["touchpoints"] += p["touchpoints"]
        counts["conversions"] += p["conversions"]
    assert dict(counts) == {"touchpoints": 3, "conversions": 2}
    assert T0 + 30 * DAY_MS > T0  # (the journeys stay in one lookback window)
