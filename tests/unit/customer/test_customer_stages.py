"""The customer stages run end to end in memory: validation and flags, identity across keys
and partitions, recovery from the table entries, redelivery, profiles and attribution."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from streams import topics
from streams.contract.codec import AvroCodec
from streams.customer import identity, identity_stage, inputs_stage, profile_stage
from streams.customer.attribution import DAY_MS
from streams.customer.attribution_rules import RULE_MODELS
from streams.customer.identity_state import node_key
from streams.settings import Settings
from streams.simulators.customers import bad_events, customers
from tests.unit.customer.stage_chain import Chain


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


@pytest.fixture(scope="module")
def simulated(codec: AvroCodec) -> tuple[Any, Chain]:
    people, identity_phase, converted = customers(60, seed=11)
    chain = Chain(codec, batch=37)
    chain.produce(identity_phase)
    chain.drain()
    chain.produce(converted)
    chain.drain()
    return people, chain


def test_bad_input_is_dead_lettered_with_its_reason_or_flagged(codec: AvroCodec) -> None:
    chain = Chain(codec)
    chain.produce(bad_events())
    chain.drain()
    reasons = sorted(d.reason for d in chain.dead)
    assert len(reasons) == 5, reasons
    assert any("needs at least one identifier" in r for r in reasons)
    assert any("negative or not finite" in r and "-1.0" in r for r in reasons)
    assert any("negative or not finite" in r and "inf" in r for r in reasons)
    assert any("unknown currency 'XYZ'" in r for r in reasons)
    assert any("more than a day ahead" in r for r in reasons)
    (row,) = chain.column_rows("customer_inputs")
    assert row["flags"] == ["malformed:email", "blocked:phone", "no_usable_identifier"]
    # kept (a customer_events row, no person), never merged, no profile
    (event,) = chain.column_rows("customer_events")
    assert event["person_id"] == "" and event["identifiers"] == []
    assert not chain.profiles()


def test_one_person_per_simulated_person_whatever_key_they_arrived_under(
        simulated: tuple[Any, Chain]) -> None:
    people, chain = simulated
    keys_per_person = [{e.key for e in p.events} for p in people]
    assert sum(len(k) > 1 for k in keys_per_person) > len(people) / 2  # several keys each
    profiles = chain.profiles()
    assert len(profiles) == len(people)
    by_ids = {frozenset(v["identifiers"]): v for v in profiles.values()}
    for p in people:
        profile = by_ids[frozenset(p.identifiers)]
        assert profile["touchpoints"] == len(p.touchpoints)
        assert profile["conversions"] == len(p.conversions)
        revenue: Counter[str] = Counter()
        for c in p.conversions:
            revenue[c["currency"]] += c["value"]
        assert profile["revenue"] == pytest.approx(dict(revenue))
        stage = "customer" if p.conversions else (
            "lead" if any(i.startswith("customer_id:") for i in p.identifiers) else "known")
        assert profile["lifecycle_stage"] == stage
    # merges happened (one person per device at first) and were carried to the survivors
    links = chain.column_rows("identity_links")
    assert sum(r["kind"] == "merge" for r in links) >= sum(
        len({i for i in p.identifiers if i.startswith("anonymous_id:")}) - 1 for p in people)
    assert not [r for r in links if r["kind"] == "refused"]
    assert not chain.dead


def test_every_event_is_resolved_to_its_persons_final_id_or_an_id_merged_into_it(
        simulated: tuple[Any, Chain]) -> None:
    people, chain = simulated
    profiles = chain.table(profile_stage.NAME, profile_stage.PROFILES)

    def final(pid: str) -> str:
        while profiles[pid]["merged_into"] is not None:
            pid = profiles[pid]["merged_into"]
        return str(pid)

    rows = chain.column_rows("customer_events")
    person_of_event = {r["event_id"]: final(r["person_id"]) for r in rows}
    for p in people:
        ids = {person_of_event[e.value.get("touchpoint_id") or e.value.get("conversion_id")
                               or f"crm:{e.value['customer_id']}:{e.value['updated_at']}"]
               for e in p.events}
        assert len(ids) == 1


def test_linear_and_last_touch_credit_the_whole_journey_across_devices(
        simulated: tuple[Any, Chain]) -> None:
    people, chain = simulated
    credits = chain.column_rows("attribution_credits")
    by_conv: dict[tuple[str, str], dict[str, float]] = {}
    for c in credits:
        by_conv.setdefault((c["conversion_id"], c["model"]), {})[c["touchpoint_id"]] = c["credit"]
    conversions = 0
    for p in people:
        for conv in p.conversions:
            conversions += 1
            journey = sorted((t["occurred_at"], t["touchpoint_id"]) for t in p.touchpoints
                             if conv["occurred_at"] - 30 * DAY_MS <= t["occurred_at"]
                             <= conv["occurred_at"])
            linear = by_conv[conv["conversion_id"], "linear"]
            assert set(linear) == {t for _, t in journey}
            assert all(v == pytest.approx(1 / len(journey)) for v in linear.values())
            last = by_conv[conv["conversion_id"], "last_touch"]
            assert last[journey[-1][1]] == 1.0
            for model in RULE_MODELS:
                assert sum(by_conv[conv["conversion_id"], model].values()) == pytest.approx(1)
    assert conversions > 20
    assert len({c["model"] for c in credits}) == 6
    revenue = {c["conversion_id"]: c for c in credits if c["model"] == "first_touch"
               and c["credit"] == 1.0}
    for p in people:
        for conv in p.conversions:
            assert revenue[conv["conversion_id"]]["revenue_credit"] == pytest.approx(conv["value"])


def test_the_graph_in_the_table_entries_is_the_graph_of_all_observations(
        simulated: tuple[Any, Chain]) -> None:
    people, chain = simulated
    graph = chain.table(identity_stage.NAME, identity_stage.GRAPH)
    docs = [json.loads(v["doc"]) for k, v in graph.items() if k.startswith("p:")]
    rebuilt = identity_stage.load(docs, graph["seq"]["seq"])
    direct = identity.new_state()
    for p in people:
        for e in p.events:
            value = e.value
            raw = value.get("identifiers") or {
                "customer_id": value["customer_id"], "email": value["email"],
                "phone": value["phone"]}
            direct, _, _ = identity.observe(direct, raw, "x", 0)
    assert identity.partition(rebuilt) == identity.partition(direct)
    assert {frozenset(p.identifiers) for p in people} == set(identity.partition(rebuilt))
    # every node entry names the person holding it
    for key, value in graph.items():
        if key.startswith("n:"):
            doc = json.loads(graph["p:" + value["person"]]["doc"])
            assert key[2:] in {n[0] for n in doc["nodes"]}
            # and its neighbours, which resolve an event that changes nothing without the doc
            nbrs = {e[1] if e[0] == key[2:] else e[0] for e in doc["edges"] if key[2:] in e[:2]}
            assert set(value["edges"]) == nbrs
    assert sum(k.startswith("n:") for k in graph) == sum(len(p.identifiers) for p in people)


def test_a_redelivered_batch_changes_no_person_and_no_profile(codec: AvroCodec) -> None:
    _, identity_phase, converted = customers(10, seed=5)
    chain = Chain(codec, batch=1000)
    chain.produce(identity_phase + converted)
    chain.drain()
    def graph() -> dict[str, Any]:  # the graph without where it stands (the seq entry)
        g = dict(chain.table(identity_stage.NAME, identity_stage.GRAPH))
        g[identity_stage.SEQ_KEY] = g[identity_stage.SEQ_KEY]["seq"]
        return g

    graph_before = graph()
    profiles_before = json.dumps(chain.profiles(), sort_keys=True)
    obs = [o for o in chain.outputs if o.topic == topics.IDENTITY_OBSERVATIONS]
    raws = [chain.raw(o) for o in obs]
    again = chain.run_batch(chain.stages[topics.IDENTITY_OBSERVATIONS], raws)
    changed = again.outcome.changes[identity_stage.GRAPH]
    assert set(changed) == {identity_stage.SEQ_KEY}
    events = [o for o in again.outcome.result.outputs if o.topic == topics.CUSTOMER_EVENTS]
    assert events and all(e.value["kind"] != "merged" for e in events)
    replay = chain.run_batch(chain.stages[topics.CUSTOMER_EVENTS], [chain.raw(e) for e in events])
    assert not replay.outcome.changes[profile_stage.PROFILES]
    assert not replay.outcome.result.inserts["attribution_credits"]["conversion_id"]
    assert graph_before == graph()
    assert profiles_before == json.dumps(chain.profiles(), sort_keys=True)


def test_two_customer_ids_never_merge_and_the_refusal_is_recorded(codec: AvroCodec) -> None:
    def profile(cid: str, at: int) -> Any:
        from streams.kernel.records import OutputRecord
        return OutputRecord(topics.CRM_PROFILES, cid, {
            "customer_id": cid, "updated_at": at, "email": "shared.person@mail.net",
            "phone": None, "first_name": None, "last_name": None, "company": None,
            "job_title": None, "country": None, "lifecycle_stage": None, "owner_id": None,
            "lifetime_value": None, "currency": None, "attributes": {}, "tags": [],
            "deleted": False})

    chain = Chain(codec)
    chain.produce([profile("cus_1", 1_767_225_600_000), profile("cus_2", 1_767_225_700_000)])
    chain.drain()
    refused = [r for r in chain.column_rows("identity_links") if r["kind"] == "refused"]
    # cus_2's event attaches to a new person; the email, cus_1's, does not join it
    assert [(r["a"], r["reason"]) for r in refused] == [
        ("email:shared.person@mail.net", "customer_id_conflict")]
    profiles = chain.profiles()
    assert len(profiles) == 2
    assert refused[0]["other_person"] != refused[0]["person_id"]
    assert {refused[0]["other_person"], refused[0]["person_id"]} == set(profiles)
    owner = {tuple(v["identifiers"]): k for k, v in profiles.items()}
    assert owner[("customer_id:cus_2",)] == refused[0]["person_id"]


def test_emails_and_phones_are_hashed_before_they_reach_the_graph(codec: AvroCodec) -> None:
    policy = inputs_stage.InputsPolicy(hash_salt=b"pepper")
    chain = Chain(codec, inputs=policy)
    people, identity_phase, _ = customers(5, seed=2)
    chain.produce(identity_phase)
    chain.drain()
    text = json.dumps(chain.table(identity_stage.NAME, identity_stage.GRAPH))
    assert "@" not in text and "+1212" not in text
    assert len(chain.profiles()) == 5  # equal values still merge
    key = node_key("anonymous_id", next(i.split(":", 1)[1] for i in people[0].identifiers
                                         if i.startswith("anonymous_id:")))
    assert "n:" + key in chain.table(identity_stage.NAME, identity_stage.GRAPH)


def test_an_observation_keyed_otherwise_is_dead_lettered(codec: AvroCodec) -> None:
    chain = Chain(codec)
    _, identity_phase, _ = customers(1, seed=3)
    chain.produce(identity_phase[:1])
    chain.drain()
    obs = next(o for o in chain.outputs if o.topic == topics.IDENTITY_OBSERVATIONS)
    from streams.kernel.records import OutputRecord
    computed = chain.run_batch(chain.stages[topics.IDENTITY_OBSERVATIONS],
                               [chain.raw(OutputRecord(obs.topic, "elsewhere", obs.value))])
    assert [d.error for d in computed.dead] == ["invalid_field"]
    assert "one partition, one writer" in computed.dead[0].reason


def test_an_ended_chat_is_a_touchpoint_that_earns_attribution_credit(codec: AvroCodec) -> None:
    from streams.kernel.records import OutputRecord

    t0 = 1_767_225_600_000
    insight = {"conversation_id": "conv_1", "channel": "WEB", "language": "en",
               "customer_id": "cus_9", "status": "open", "first_event_at": t0,
               "last_event_at": t0 + 60_000, "events": 4, "messages": 3, "customer_messages": 2,
               "sentiment_mean": 0.25, "last_sentiment": 0.5, "min_sentiment": -0.1,
               "source_partition": 0, "source_offset": 7, "updated_at": t0 + 60_000}
    ids = {"customer_id": "cus_9", "email": None, "phone": None, "anonymous_id": "anon_9",
           "device_id": None}
    touch = {"touchpoint_id": "tp_9", "occurred_at": t0 - 3_600_000, "type": "click",
             "channel": "paid_search", "platform": None, "campaign_id": "c1", "ad_group_id": None,
             "ad_id": None, "utm": {k: None for k in ("source", "medium", "campaign", "term",
                                                     "content")},
             "identifiers": ids, "url": None, "referrer": None, "properties": {}}
    conversion = {"conversion_id": "cv_9", "occurred_at": t0 + 3_600_000, "type": "purchase",
                  "value": 100.0, "currency": "EUR", "order_id": None,
                  "identifiers": {**ids, "anonymous_id": None}, "properties": {}}
    chain = Chain(codec)
    chain.produce([OutputRecord(topics.TOUCHPOINTS, "cus_9", touch),
                   OutputRecord(topics.CONVERSATION_INSIGHTS, "conv_1", insight)])
    chain.drain()
    assert not chain.column_rows("customer_inputs")[1:]  # an open chat is not a touchpoint yet
    chain.produce([OutputRecord(topics.CONVERSATION_INSIGHTS, "conv_1",
                                {**insight, "status": "ended"})])
    chain.drain()
    chain.produce([OutputRecord(topics.CONVERSIONS, "cus_9", conversion)])
    chain.drain()
    (profile,) = chain.profiles().values()
    assert profile["channels"] == ["paid_search", "chat"] and profile["touchpoints"] == 2
    chat = next(i for i in profile["recent"] if i["channel"] == "chat")
    assert chat["event_id"] == f"chat:conv_1:{t0}" and chat["type"] == "chat_session"
    credits = {(c["model"], c["channel"]): c["revenue_credit"]
               for c in chain.column_rows("attribution_credits")}
    assert credits["last_touch", "chat"] == 100.0
    assert credits["linear", "chat"] == credits["linear", "paid_search"] == 50.0


def _touch(touch_id: str, at: int, channel: str, **ids: str) -> Any:
    from streams.kernel.records import OutputRecord
    identifiers = {k: ids.get(k) for k in ("customer_id", "email", "phone", "anonymous_id",
                                            "device_id")}
    return OutputRecord(topics.TOUCHPOINTS, next(v for v in identifiers.values() if v), {
        "touchpoint_id": touch_id, "occurred_at": at, "type": "click", "channel": channel,
        "platform": None, "campaign_id": None, "ad_group_id": None, "ad_id": None,
        "utm": {k: None for k in ("source", "medium", "campaign", "term", "content")},
        "identifiers": identifiers, "url": None, "referrer": None, "properties": {}})


def test_a_merge_and_a_late_touchpoint_attribute_a_conversion_again(codec: AvroCodec) -> None:
    from streams.kernel.records import OutputRecord
    h, t = 3_600_000, 1_767_225_600_000
    conversion = {"conversion_id": "cv_1", "occurred_at": t + 2 * h, "type": "purchase",
                  "value": 90.0, "currency": "EUR", "order_id": None, "properties": {},
                  "identifiers": {"customer_id": None, "email": None, "phone": None,
                                  "anonymous_id": "anon_1", "device_id": None}}
    chain = Chain(codec)

    def latest() -> dict[str, float]:
        rows = [c for c in chain.column_rows("attribution_credits") if c["model"] == "linear"]
        newest = rows[-1]["_offset"], rows[-1]["_topic"]
        return {c["touchpoint_id"]: c["credit"] for c in rows
                if (c["_offset"], c["_topic"]) == newest}

    chain.produce([_touch("t1", t, "display", anonymous_id="anon_1"),
                   _touch("t2", t + h, "social", anonymous_id="anon_2"),
                   OutputRecord(topics.CONVERSIONS, "anon_1", conversion)])
    chain.drain()
    assert latest() == {"t1": 1.0}  # anon_2 is someone else, as far as anyone knows yet
    chain.produce([_touch("login1", t + 3 * h, "email", email="a@mail.net", anonymous_id="anon_1"),
                   _touch("login2", t + 4 * h, "email", email="a@mail.net", anonymous_id="anon_2")])
    chain.drain()
    assert latest() == {"t1": 0.5, "t2": 0.5}  # the merge joined t2's journey to cv_1's
    chain.produce([_touch("t0", t - h, "paid_search", email="a@mail.net")])  # arrives late
    chain.drain()
    assert latest() == pytest.approx({"t0": 1 / 3, "t1": 1 / 3, "t2": 1 / 3})
    (profile,) = chain.profiles().values()
    assert profile["conversions"] == 1 and profile["touchpoints"] == 5


def test_any_identifier_as_typed_resolves_and_explains_its_person(
        simulated: tuple[Any, Chain]) -> None:
    people, chain = simulated
    graph = chain.table(identity_stage.NAME, identity_stage.GRAPH)

    def lookup(table: str, key: str) -> Any:
        return chain.table(identity_stage.NAME, table).get(key)

    p = people[0]
    email = next(i.split(":", 1)[1] for i in p.identifiers if i.startswith("email:"))
    node = identity_stage.node_of("email", "  " + email.upper() + " ")
    pid = identity_stage.person_of_node(lookup, node)
    assert pid is not None and "p:" + pid in graph
    explanation = identity_stage.explain(lookup, node)
    assert explanation is not None and explanation.person_id == pid
    assert set(explanation.identifiers) == p.identifiers
    assert {e.rule for e in explanation.edges} == {"same_event"}
    assert {e.source for e in explanation.edges} <= {
        e.value.get("touchpoint_id") or f"crm:{e.value.get('customer_id')}:"
        f"{e.value.get('updated_at')}" for e in p.events}
    assert identity_stage.explain(lookup, identity_stage.node_of("email", "nobody@mail.net")) is None
    hashed = identity_stage.node_of("email", email, hash_salt=b"s")
    assert hashed.startswith("email:") and "@" not in hashed


def test_a_merged_away_person_leads_to_the_survivors_profile(
        simulated: tuple[Any, Chain]) -> None:
    _, chain = simulated
    table = chain.table(profile_stage.NAME, profile_stage.PROFILES)

    def lookup(name: str, key: str) -> Any:
        return chain.table(profile_stage.NAME, name).get(key)

    retired = next(k for k, v in table.items() if v["merged_into"] is not None)
    profile = profile_stage.profile_of(lookup, retired)
    assert profile is not None and profile["merged_into"] is None
    assert profile["person_id"] in chain.profiles() and profile["person_id"] != retired
    assert profile_stage.profile_of(lookup, "p_unknown") is None
