"""The served 360° profile against the real embedded engine, migrated, with rows inserted as the
customer domain writes them: any identifier resolves to its (surviving) person, the timeline
holds the events of the persons merged into it in time order and pages exactly, the profile
carries attributes, journey, insights and value, and the lookups use the indexes of
migrations 0015 and 0016."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from streams.customer import profile_queries as pq
from streams.customer.identifiers import hash_value
from streams.io.clickhouse import ClickHouse
from streams.io.migrate import migrate
from streams.io.readonly import ReadOnlyQueries

T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
SALT = b"pepper"
ATTACK = "<script>window.__pwned=1</script>"


def profile_row(pid: str, version: int, identifiers: Sequence[str], *, merged_into: str | None
                = None, attributes: Mapping[str, str] | None = None, stage: str = "known",
                channels: Sequence[str] = (), touchpoints: int = 0, conversions: int = 0,
                revenue: Mapping[str, float] | None = None, at: int = T0) -> dict[str, Any]:
    revenue = revenue or {}
    return {"person_id": pid, "version": version, "updated_at": at + version, "first_seen": at,
            "last_seen": at + version, "identifiers": list(identifiers),
            "attributes": dict(attributes or {}), "tags": ["vip"], "lifecycle_stage": stage,
            "channels": list(channels), "touchpoints": touchpoints, "conversions": conversions,
            "revenue_currencies": sorted(revenue), "revenue_amounts": [revenue[c] for c in
                                                                       sorted(revenue)],
            "score_names": [], "score_values": [], "merged_into": merged_into,
            "_topic": "customer.events", "_partition": 0, "_offset": version, "_version": version}


def event_row(pid: str, event_id: str, at: int, kind: str = "touchpoint", *, channel: str |
              None = "email", value: float | None = None, version: int = 1) -> dict[str, Any]:
    return {"person_id": pid, "event_id": event_id, "kind": kind, "occurred_at": at,
            "type": "purchase" if kind == "conversion" else "click", "channel": channel,
            "platform": None, "campaign_id": "cmp-1" if channel else None, "value": value,
            "currency": "USD" if value is not None else None, "order_id": None,
            "identifiers": [], "flags": [], "attributes": {"note": ATTACK},
            "source_topic": "touchpoints", "source_partition": 0, "source_offset": 0,
            "_topic": "identity.observations", "_partition": 0, "_offset": version,
            "_kafka_ts": at, "_version": version}


def insert(ch: ClickHouse, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    ch.insert(table, {name: [r[name] for r in rows] for name in rows[0]})


A_IDS = ["customer_id:cus_1", "email:ann@mail.net", "phone:+12125550123", "anonymous_id:anon_1",
         "device_id:dev_b"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouse]:
    ch = ClickHouse(f"chdb://{tmp_path_factory.mktemp('profiles') / 'clickhouse'}")
    try:
        migrate(ch)
        insert(ch, "customer_profiles", [
            # p_c was merged into p_b, which was merged into p_a; p_a holds their identifiers
            # (a merged person's last row holds none; the insert keeps only the latest row)
            profile_row("p_c", 1, ["device_id:dev_c"]),
            profile_row("p_c", 2, [], merged_into="p_b"),
            profile_row("p_b", 1, ["device_id:dev_b"]),
            profile_row("p_b", 2, [], merged_into="p_a"),
            profile_row("p_a", 1, ["email:ann@mail.net"]),
            profile_row("p_a", 5, A_IDS, attributes={"first_name": ATTACK, "segment": "retail"},
                        stage="customer", channels=["ads", "email", "chat"], touchpoints=4,
                        conversions=1, revenue={"USD": 120.5}),
            profile_row("p_d", 1, ["email:dan@mail.net"]),
            # hashed identifiers, as the pipeline stores them with customer_hash_identifiers
            profile_row("p_h", 1, ["email:" + hash_value("hal@mail.net", SALT)]),
        ])
        insert(ch, "customer_events", [
            event_row("p_a", "e1", T0 + 1000, channel="ads"),
            event_row("p_b", "e2", T0 + 2000, channel="web"),  # resolved before the merge
            event_row("p_c", "e3", T0 + 3000, channel="web"),
            event_row("p_a", "e4", T0 + 5000, "conversion", channel=None, value=120.5),
            event_row("p_a", "e5", T0 + 5000, channel="chat"),  # same millisecond as e4
            event_row("p_a", "e6", T0 + 5000, channel="email"),
            # resolved to p_b first, to p_a by a later resolution (after the merge): shown
            # once, as p_a's; and a redelivered row of the same version: once too
            event_row("p_b", "e7", T0 + 7000, channel="sms", version=1),
            event_row("p_x", "e8", T0 + 8000, channel="sms"),
            event_row("p_d", "e9", T0 + 9000, channel="web"),
        ])
        insert(ch, "customer_events", [  # a part of its own: the engine keeps both versions
            event_row("p_a", "e7", T0 + 7000, channel="sms", version=2),
            event_row("p_a", "e1", T0 + 1000, channel="ads"),
        ])
        insert(ch, "crm_tasks", [{
            "task_id": "task-1", "task_type": "follow_up", "conversation_id": "conv-1",
            "customer_id": "cus_1", "team": "support", "priority": "high",
            "title": "Call back", "description": "", "due_at": T0 + 90_000,
            "created_at": T0 + 6000, "status": "open", "reasons": ["negative_sentiment"],
            "escalation_id": "", "_version": 1}])
        scored = {"person_id": "p_a", "probability": None, "profile_version": 5,
                  "scored_at": T0 + 9999, "_topic": "customer.profiles", "_partition": 0,
                  "_offset": 1, "_version": 1}
        insert(ch, "customer_scores", [
            {**scored, "kind": "clv", "score": 310.0, "label": "high", "reasons": ["frequent"],
             "details": {"potential_value": "900.5", "currency": "USD"},
             "model_version": "bgnbd-v1"},
            {**scored, "kind": "lead", "score": 87.0, "probability": 0.87, "label": "hot",
             "reasons": ["pricing page visits", "demo request"], "details": {},
             "model_version": "lgbm-v3"},
        ])
        yield ch
    finally:
        ch.close()


@pytest.fixture
def query(store: ClickHouse) -> pq.Query:
    # through the read-only session the worker's views use
    readonly = ReadOnlyQueries(store, max_rows=10_000, max_seconds=10.0)
    return lambda sql, params: readonly.query(sql, params).dicts()


def test_an_identifier_is_read_as_the_pipeline_reads_it() -> None:
    keys = pq.candidates("  Ann@Mail.NET ")
    assert "email:ann@mail.net" in keys and "customer_id:Ann@Mail.NET" in keys
    assert "phone:+12125550123" in pq.candidates("+1 212-555-0123")
    assert pq.candidates("email:Ann@mail.net")[0] == "email:ann@mail.net"
    # a value the pipeline never merges on is never looked up as that kind
    assert not any(k.startswith("email:") for k in pq.candidates("info@shop.org"))
    assert pq.candidates("   ") == ()
    hashed = pq.candidates("hal@mail.net", pq.LookupPolicy(hash_salt=SALT))
    assert "email:" + hash_value("hal@mail.net", SALT) in hashed
    assert "email:hal@mail.net" not in hashed


@pytest.mark.parametrize("identifier", [
    "cus_1", "ANN@mail.net", "+1 (212) 555-0123", "anon_1", "dev_b", "customer_id:cus_1",
    "p_a", "p_b", "p_c"])
def test_any_identifier_resolves_to_the_surviving_person(query: pq.Query, identifier: str
                                                         ) -> None:
    resolved = pq.resolve(query, identifier)
    assert resolved is not None
    assert resolved.person_id == "p_a"
    assert resolved.merged == ("p_b", "p_c")


def _row(pid: str, ids: Sequence[str], merged_into: str | None = None, updated: int = 0
         ) -> dict[str, Any]:
    return {"person_id": pid, "identifiers": list(ids), "merged_into": merged_into,
            "updated_ms": updated, "version": 1}


def test_choose_prefers_a_named_person_then_a_live_holder_then_follows_a_merge() -> None:
    rows = [_row("p_1", ["email:a@b.net"], updated=5), _row("p_2", ["email:a@b.net"], updated=9),
            _row("p_3", [], merged_into="p_9")]
    assert pq.choose(rows, ["email:a@b.net"], "p_1") == ("p_1", [])
    # after a split two live persons may have held it: the one updated last holds it now
    assert pq.choose(rows, ["email:a@b.net"], None) == ("p_2", [])
    # held only by a person merged away (its last row lists none): follow the merge
    assert pq.choose(rows[2:], ["device_id:d"], None) == (None, ["p_9"])
    assert pq.choose(rows, ["phone:+1"], "p_3") == (None, ["p_9"])
    assert pq.choose([], ["email:a@b.net"], "x") == (None, [])
    # merge targets being followed (no keys): any of them
    assert pq.choose(rows[:1], [], None) == ("p_1", [])


def test_an_unknown_identifier_resolves_to_nobody(query: pq.Query) -> None:
    assert pq.resolve(query, "nobody@mail.net") is None
    assert pq.resolve(query, "") is None
    assert pq.profile(query, "p_zz") is None
    assert pq.customer_timeline(query, "cus_404", None, 10) is None


def test_hashed_identifiers_resolve_with_the_pipelines_salt(query: pq.Query) -> None:
    assert pq.resolve(query, "hal@mail.net") is None
    found = pq.resolve(query, "Hal@Mail.net", pq.LookupPolicy(hash_salt=SALT))
    assert found is not None and found.person_id == "p_h"


def test_the_timeline_holds_every_interaction_of_the_merged_persons_in_time_order(
        query: pq.Query) -> None:
    got = pq.customer_timeline(query, "ann@mail.net", None, 50)
    assert got is not None and got["next_before"] is None
    items = got["items"]
    assert [i["event_id"] for i in items] == ["e1", "e2", "e3", "e4", "e5", "e6", "task-1",
                                              "e7"]
    assert [i["resolved_as"] for i in items[:3]] == ["p_a", "p_b", "p_c"]
    assert items[3]["kind"] == "conversion" and items[3]["value"] == 120.5
    task = items[6]
    assert task["kind"] == "crm_task" and task["attributes"]["title"] == "Call back"
    assert items[-1]["resolved_as"] == "p_a"  # the later resolution of e7, once
    assert items[0]["occurred_at"] == "2026-01-01T00:00:01.000+00:00"
    assert items[0]["attributes"]["note"] == ATTACK  # data as stored: escaping is the page's


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7])
def test_paging_backwards_returns_every_interaction_once(query: pq.Query, limit: int) -> None:
    full = pq.customer_timeline(query, "cus_1", None, 50)
    assert full is not None
    pages: list[list[str]] = []
    before: int | None = None
    for _ in range(20):
        page = pq.customer_timeline(query, "cus_1", before, limit)
        assert page is not None
        assert [i["at_ms"] for i in page["items"]] == sorted(i["at_ms"] for i in page["items"])
        pages.append([i["event_id"] for i in page["items"]])
        before = page["next_before"]
        if before is None:
            break
    flat = [e for page in reversed(pages) for e in page]
    assert flat == [i["event_id"] for i in full["items"]]
    # a page is never longer than asked, except a millisecond holding more than the limit
    assert all(len(p) <= max(limit, 3) for p in pages)


def test_a_page_never_splits_a_millisecond(query: pq.Query) -> None:
    page = pq.customer_timeline(query, "cus_1", T0 + 6000, 2)  # e4, e5, e6 share T0 + 5000
    assert page is not None
    assert [i["event_id"] for i in page["items"]] == ["e4", "e5", "e6"]
    assert page["next_before"] == T0 + 5000
    older = pq.customer_timeline(query, "cus_1", page["next_before"], 2)
    assert older is not None and [i["event_id"] for i in older["items"]] == ["e2", "e3"]


def test_the_profile_carries_attributes_journey_insights_and_value(query: pq.Query) -> None:
    got = pq.profile(query, "dev_b", pq.LookupPolicy(recent_limit=3))
    assert got is not None
    assert got["person_id"] == "p_a" and got["looked_up"] == "dev_b"
    assert got["merged_persons"] == ["p_b", "p_c"]
    assert got["identifiers"]["email"] == ["ann@mail.net"]
    assert got["identifiers"]["customer_id"] == ["cus_1"]
    assert got["attributes"] == {"first_name": ATTACK, "segment": "retail"}
    assert got["tags"] == ["vip"] and got["lifecycle_stage"] == "customer"
    assert got["journey"]["channels"] == ["ads", "email", "chat"]
    assert got["counts"] == {"touchpoints": 4, "conversions": 1}
    # the fourth newest shares e6's millisecond: both go to the next page, which ends there
    assert [i["event_id"] for i in got["recent"]] == ["task-1", "e7"]
    assert got["recent_next_before"] == T0 + 5001
    insights = got["insights"]
    assert insights["status"] == "scored"
    assert [s["kind"] for s in insights["scores"]] == ["lead", "clv"]
    lead = insights["scores"][0]
    assert lead["reasons"] == ["pricing page visits", "demo request"]
    assert lead["probability"] == 0.87 and lead["model_version"] == "lgbm-v3"
    assert got["value"] == {"historical": {"USD": 120.5}, "predicted": 310.0,
                            "potential": 900.5, "currency": "USD",
                            "model_version": "bgnbd-v1"}


def test_a_person_without_scores_is_not_scored_yet(query: pq.Query) -> None:
    got = pq.profile(query, "dan@mail.net")
    assert got is not None and got["person_id"] == "p_d"
    assert got["insights"] == {"status": pq.NOT_SCORED, "scores": []}
    assert got["value"]["historical"] == {} and got["value"]["predicted"] is None
    assert [i["event_id"] for i in got["recent"]] == ["e9"]


def test_the_lookups_read_the_indexes_of_the_migrations(store: ClickHouse) -> None:
    def plan(sql: str, params: Mapping[str, Any]) -> str:
        return "\n".join(str(r[0]) for r in store.query("EXPLAIN indexes = 1 " + sql,
                                                        params).rows)

    # the projection exists; the planner reads it once it saves granules (a few rows here
    # fit in one granule: the benchmark's million events show it chosen)
    assert store.query("SELECT name FROM system.projections WHERE table = 'customer_events'"
                       ).rows == [("events_by_person",)]
    # versions of one event were inserted apart (a part each), so there is something to collapse
    assert store.query("SELECT count() FROM customer_events WHERE event_id IN ('e1', 'e7')"
                       ).rows[0][0] >= 3
    by_identifier = plan("SELECT person_id FROM customer_profiles "
                         "WHERE hasAny(identifiers, {keys:Array(String)})",
                         {"keys": ["email:ann@mail.net"]})
    assert "by_identifier" in by_identifier
    merged = plan(pq.MERGED_SQL, {"persons": ["p_a"]})
    assert "by_merged_into" in merged


def test_the_latest_row_of_a_person_is_read_without_final(store: ClickHouse, query: pq.Query
                                                         ) -> None:
    # versions in parts of their own (an insert collapses the versions it holds), the newest
    # inserted first: the latest version wins, not the latest insert
    insert(store, "customer_profiles", [profile_row("p_v", 3, ["device_id:dev_v3"])])
    insert(store, "customer_profiles", [profile_row("p_v", 2, ["device_id:dev_v2"])])
    rows = query(pq.PERSONS_SQL, {"persons": ["p_v", "p_a"]})
    assert [(r["person_id"], r["version"]) for r in rows] == [("p_a", 5), ("p_v", 3)]
    found = pq.resolve(query, "device_id:dev_v3")
    assert found is not None and found.person_id == "p_v" and found.profile["version"] == 3
    assert pq.resolve(query, "device_id:dev_v2") is None  # the person holds it no longer
    assert "FINAL" not in pq.RESOLVE_SQL + pq.PERSONS_SQL + pq.SCORES_SQL
    # an aggregate answers one row even when nothing matches
    assert query(pq.MERGED_SQL, {"persons": ["p_d"]}) == [{"merged": []}]
    assert query(pq.SCORES_SQL, {"person": "p_d"}) == [{"scores": []}]
    assert pq.merged_into(query, "p_a") == ("p_b", "p_c")
