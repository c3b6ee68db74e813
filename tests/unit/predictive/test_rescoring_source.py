"""Rescoring's profiles read back from ``customer_profiles`` and ``customer_events`` on the
embedded engine: the latest version, the newest interactions oldest first, one version per
event, a ``customer.profiles`` value the scoring reads as the stream's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.io.clickhouse import ClickHouse
from streams.io.migrate import migrate
from streams.kernel.errors import Unavailable
from streams.predictive import contract as names
from streams.predictive.features import read_profile
from streams.predictive.rescoring_source import profiles
from streams.settings import Settings
from tests.unit.predictive.helpers import DAY_MS, T0, event_columns, interaction, profile


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[ClickHouse]:
    with ClickHouse(f"chdb://{tmp_path / 'ch'}") as clickhouse:
        migrate(clickhouse)
        yield clickhouse


def profile_columns(values: list[dict[str, Any]]) -> dict[str, list[Any]]:
    n = len(values)
    return {
        "person_id": [v["person_id"] for v in values], "version": [v["version"] for v in values],
        "updated_at": [v["updated_at"] for v in values],
        "first_seen": [v["first_seen"] for v in values],
        "last_seen": [v["last_seen"] for v in values],
        "identifiers": [v["identifiers"] for v in values],
        "attributes": [v["attributes"] for v in values], "tags": [v["tags"] for v in values],
        "lifecycle_stage": [v["lifecycle_stage"] for v in values],
        "channels": [v["channels"] for v in values],
        "touchpoints": [v["touchpoints"] for v in values],
        "conversions": [v["conversions"] for v in values],
        "revenue_currencies": [list(v["revenue"]) for v in values],
        "revenue_amounts": [list(v["revenue"].values()) for v in values],
        "score_names": [list(v["scores"]) for v in values],
        "score_values": [list(v["scores"].values()) for v in values],
        "merged_into": [v["merged_into"] for v in values], "_topic": ["customer.profiles"] * n,
        "_partition": [0] * n, "_offset": list(range(n)), "_version": [v["version"] for v in values]}


def event_rows(person: str, items: list[dict[str, Any]], version: int = 1) -> list[dict[str, Any]]:
    return [{"person_id": person, "event_id": i["event_id"], "kind": i["kind"],
             "occurred_at": i["occurred_at"], "type": i["type"], "channel": i["channel"],
             "campaign_id": i["campaign_id"], "value": i["value"], "currency": i["currency"],
             "identifiers": [], "_version_hint": version} for i in items]


def insert_events(engine: ClickHouse, rows: list[dict[str, Any]], version: int) -> None:
    columns = event_columns([{k: v for k, v in r.items() if k != "_version_hint"} for r in rows])
    columns["_version"] = [version] * len(rows)
    engine.insert("customer_events", columns)


def test_the_latest_profile_with_its_newest_interactions(engine: ClickHouse) -> None:
    items = [interaction(f"tp_{d}", "touchpoint", T0 + d * DAY_MS, "click", "email")
             for d in range(8)]
    items.append(interaction("cv_1", "conversion", T0 + 3 * DAY_MS + 1, "purchase", value=20.0,
                             currency="EUR"))
    items.sort(key=lambda i: i["occurred_at"])
    old = profile("p_1", 1, items[:4], ("email:x@y.net",), attributes={"opt_out": "sms"})
    new = profile("p_1", 2, items, ("email:x@y.net", "customer_id:c1"),
                  attributes={"opt_out": "sms"}, revenue={"EUR": 20.0}, scores={"lead": 40.0})
    other = profile("p_2", 1, [interaction("tp_x", "touchpoint", T0, "visit", "direct")])
    engine.insert("customer_profiles", profile_columns([old, new, other]))
    insert_events(engine, event_rows("p_1", items) + event_rows("p_2", other["recent"]), 1)
    # a later version of one event (re-resolved): read once, as the later one says
    moved = {**items[-2], "channel": "social"}
    insert_events(engine, event_rows("p_1", [moved]), 2)

    def query(sql: str, params: Any) -> list[dict[str, Any]]:
        return engine.query(sql, params).dicts()

    got = profiles(query, ["p_1", "p_3"], recent_limit=6)
    assert set(got) == {"p_1"}
    p1 = got["p_1"]
    assert p1["version"] == 2 and p1["identifiers"] == ["customer_id:c1", "email:x@y.net"]
    assert p1["revenue"] == {"EUR": 20.0} and p1["scores"] == {"lead": 40.0}
    assert [i["event_id"] for i in p1["recent"]] == [i["event_id"] for i in items[-6:]]
    assert next(i for i in p1["recent"] if i["event_id"] == moved["event_id"])["channel"] == \
        "social"
    AvroCodec.from_settings(Settings()).encode(names.CUSTOMER_PROFILES, p1)
    whole = profiles(query, ["p_1"])["p_1"]
    expected = {**new, "recent": [moved if i["event_id"] == moved["event_id"] else i
                                  for i in items]}
    now = T0 + 40 * DAY_MS
    assert read_profile(whole, now) == read_profile(expected, now)
    assert profiles(query, []) == {}


def test_a_failing_query_is_unavailable_not_empty() -> None:
    def broken(sql: str, params: Any) -> list[dict[str, Any]]:
        raise ConnectionError("engine away")

    with pytest.raises(Unavailable, match="engine away"):
        profiles(broken, ["p_1"])


def test_rescoring_reads_its_profiles_from_the_engine_and_writes_rows_it_takes(
        engine: ClickHouse) -> None:
    """The chain the worker runs: the stage scores a profile, the profile is in ClickHouse,
    the timer rescores it later from there, and its rows go into customer_scores."""
    from streams.predictive import rescoring
    from streams.predictive.scoring import Models
    from streams.predictive.stage import STATES
    from tests.unit.kernel.test_stage import Memory
    from tests.unit.predictive.test_rescoring import regular
    from tests.unit.predictive.test_stage import raws_for, run

    codec = AvroCodec.from_settings(Settings())
    person = regular()
    memory = Memory()
    first = run(codec, raws_for(codec, [person]), memory)
    engine.insert("customer_profiles", profile_columns([person]))
    insert_events(engine, event_rows("p_1", person["recent"]), 1)

    def query(sql: str, params: Any) -> list[dict[str, Any]]:
        return engine.query(sql, params).dicts()

    policy = rescoring.RescorePolicy(
        models=Models, profiles=lambda persons: profiles(query, persons),
        source_topic=names.CUSTOMER_PROFILES, interval_ms=DAY_MS)
    timer = rescoring.timer(policy)
    assert timer.table == STATES and 5.0 <= timer.interval <= 30.0
    later = int(person["updated_at"]) + 60 * DAY_MS
    outcome = timer.tick(list(memory.tables[STATES].items()), later)
    columns = outcome.result.inserts[names.CUSTOMER_SCORES_TABLE]
    engine.insert(names.CUSTOMER_SCORES_TABLE, columns)
    got = engine.query("SELECT kind, score, toUnixTimestamp64Milli(scored_at) AS at "
                       "FROM customer_scores FINAL WHERE person_id = 'p_1' ORDER BY kind",
                       {}).dicts()
    then = {r.value["kind"]: r.value["score"] for r in first.outcome.result.outputs}
    churn = next(r for r in got if r["kind"] == "churn")
    assert [r["kind"] for r in got] == ["churn", "clv", "lead", "next_best_action"]
    assert churn["at"] == later and churn["score"] > then["churn"]
