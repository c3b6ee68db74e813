from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from streams.io.clickhouse import ClickHouse
from tests.clickhouse import data


def utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).replace(tzinfo=None)


def naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def test_round_trip_datetime64_from_ms_and_nullables(migrated: ClickHouse) -> None:
    migrated.insert("chat_events", data.chat_events())
    result = migrated.query(
        "SELECT event_id, occurred_at, _kafka_ts, sentiment_compound, sentiment_positive,"
        " _ingested_at FROM chat_events WHERE event_id IN ('e1', 'e2') ORDER BY event_id"
    )
    assert result.column_names[:3] == ("event_id", "occurred_at", "_kafka_ts")
    (e1, at1, ts1, c1, p1, ing1), (_, at2, _, c2, p2, _) = result.rows
    assert (e1, naive(at1), naive(ts1)) == ("e1", utc(data.T0), utc(data.T0 + 5))
    assert naive(at2) == utc(data.T0 + 1000)  # millisecond precision kept
    assert (c1, p1) == (None, None)
    assert c2 == pytest.approx(-0.6) and p2 == pytest.approx(0.1)
    assert abs(naive(ing1) - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(
        minutes=5
    )


def test_insert_accepts_datetimes_bytes_and_maps(migrated: ClickHouse) -> None:
    letters = data.dead_letters()
    letters["failed_at"] = [dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)] * 4
    migrated.insert("dead_letters", letters)
    row = migrated.query(
        "SELECT failed_at, value, headers FROM dead_letters WHERE _offset = 10"
    ).rows[0]
    assert naive(row[0]) == dt.datetime(2026, 1, 2, 3, 4, 5, 678000)
    assert row[2] == {"source": "test"}
    # the bytes are stored as they are (the client shows non-UTF-8 strings as hex)
    raw = migrated.query("SELECT hex(value) FROM dead_letters WHERE _offset = 10").rows[0][0]
    assert raw == "FF00726177"


def test_replacing_merge_tree_keeps_one_row_per_key_with_final(migrated: ClickHouse) -> None:
    data.load_all(migrated, times=3)
    expected = {"chat_events": 7, "conversations": 4, "campaign_kpis": 4, "dead_letters": 4}
    for table, rows in expected.items():
        assert migrated.query(f"SELECT count() FROM {table} FINAL").rows == [(rows,)], table
    raw = migrated.query("SELECT count() FROM chat_events").rows[0][0]
    assert raw in (7, 21)  # before or after a background merge
    latest = migrated.query(
        "SELECT messages, sentiment_mean FROM conversations FINAL WHERE conversation_id = 'c1'"
    ).rows
    assert latest == [(3, pytest.approx(-0.4))]
    revision = migrated.query(
        "SELECT conversions FROM campaign_kpis FINAL"
        " WHERE campaign_id = 'k1' AND level = 'CAMPAIGN' AND interval_start = {t:DateTime64(3)}",
        {"t": utc(data.T0)},
    ).rows
    assert revision == [(10.0,)]


def test_insert_rejects_bad_input_and_raises_on_engine_errors(migrated: ClickHouse) -> None:
    events = data.chat_events()
    events["event_id"][0] = None
    with pytest.raises(ValueError, match="not Nullable"):
        migrated.insert("chat_events", events)
    with pytest.raises(ValueError, match="no such columns"):
        migrated.insert("chat_events", {"nope": [1]})
    with pytest.raises(ValueError, match="unequal length"):
        migrated.insert("chat_events", {"event_id": ["a"], "text": []})
    with pytest.raises(Exception, match=r"(?i)unknown table|doesn.t exist|does not exist"):
        migrated.insert("no_such_table", {"x": [1]})
    migrated.insert("chat_events", {"event_id": []})  # nothing to insert: no call at all
    assert migrated.query("SELECT count() FROM chat_events").rows == [(0,)]


def test_query_parameters_are_bound_not_spliced(ch: ClickHouse) -> None:
    tricky = "it's \\ {x} '); DROP TABLE t; --"
    result = ch.query("SELECT {s:String} AS s, {n:UInt32} + 1 AS n;", {"s": tricky, "n": 41})
    assert result.column_names == ("s", "n")
    assert result.rows == [(tricky, 42)]
    assert result.dicts() == [{"s": tricky, "n": 42}]


def test_empty_result_keeps_column_names(migrated: ClickHouse) -> None:
    result = migrated.query("SELECT event_id, occurred_at FROM chat_events")
    assert result == type(result)(("event_id", "occurred_at"), [])


def test_data_persists_and_database_option(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "clickhouse"
    with ClickHouse(f"chdb://{path}?database=analytics") as ch:
        assert ch.database == "analytics"
        ch.command("CREATE TABLE t (x UInt8) ENGINE = MergeTree ORDER BY x")
        ch.insert("t", {"x": [1, 2]})
        assert ch.query("SELECT currentDatabase()").rows == [("analytics",)]
    with ClickHouse(f"chdb://{path}?database=analytics") as again:
        assert again.query("SELECT sum(x) FROM t").rows == [(3,)]
    with ClickHouse(f"chdb://{path}") as default:
        assert default.query("SELECT sum(x) FROM analytics.t").rows == [(3,)]
        assert default.query("EXISTS TABLE t").rows == [(0,)]


def test_closed_client_raises(tmp_path: Path) -> None:
    ch = ClickHouse(f"chdb://{tmp_path}")
    ch.query("SELECT 1")
    ch.close()
    with pytest.raises(RuntimeError, match="closed"):
        ch.query("SELECT 1")


@pytest.mark.parametrize(
    "url", ["chdb://relative/path", "chdb:///p?bogus=1", "chdb:///p?database=a-b", "ftp://x"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        ClickHouse(url)


def test_concurrent_insert_and_query_from_two_threads(migrated: ClickHouse) -> None:
    batches, size = 20, 1000
    errors: list[BaseException] = []
    counts: list[int] = []
    inserting = threading.Event()
    done = threading.Event()

    def insert() -> None:
        try:
            for b in range(batches):
                migrated.insert(
                    "chat_events",
                    {
                        "event_id": [f"e{b}-{i}" for i in range(size)],
                        "conversation_id": [f"c{i % 50}" for i in range(size)],
                        "occurred_at": [data.T0 + i for i in range(size)],
                        "_offset": [b * size + i for i in range(size)],
                    },
                )
                inserting.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            inserting.set()
            done.set()

    def query() -> None:
        try:
            inserting.wait(10)
            while not done.is_set():
                counts.append(migrated.query("SELECT count() FROM chat_events").rows[0][0])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=insert), threading.Thread(target=query)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert counts and counts == sorted(counts)  # each query saw a consistent, growing table
    total = migrated.query("SELECT count() FROM chat_events FINAL").rows
    assert total == [(batches * size,)]
