from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from streams.io.clickhouse import ClickHouse
from streams.io.insights import InsightError, Param, list_insights, load_insight, run_insight
from tests.clickhouse import data

REQUIRED = {"campaign_kpis", "conversation_journey", "dead_letters_by_topic",
            "most_negative_conversations", "sentiment_by_channel"}


@pytest.fixture
def loaded(migrated: ClickHouse) -> ClickHouse:
    data.load_all(migrated, times=2)
    return migrated


def at(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).replace(tzinfo=None)


def rows(ch: ClickHouse, name: str, **overrides: str) -> list[dict[str, object]]:
    result = run_insight(ch, name, overrides)
    return [
        {k: v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v for k, v in d.items()}
        for d in result.dicts()
    ]


def test_every_insight_parses_and_runs(loaded: ClickHouse) -> None:
    insights = list_insights()
    assert {i.name for i in insights} >= REQUIRED
    for insight in insights:
        assert insight.title and insight.description and "FINAL" in insight.sql
        overrides = {p.name: "c1" for p in insight.params if p.default is None}
        assert run_insight(loaded, insight.name, overrides).column_names


def test_headers() -> None:
    insight = load_insight("most_negative_conversations")
    assert insight.title == "Most negative conversations"
    assert insight.description.startswith("The conversations whose customer messages")
    assert insight.params == (Param("limit", "UInt32", "10"),)
    assert load_insight("conversation_journey").params == (
        Param("conversation_id", "String", None),
    )


def test_sentiment_by_channel(loaded: ClickHouse) -> None:
    assert rows(loaded, "sentiment_by_channel") == [
        {"channel": "WEB", "messages": 4, "customer_messages": 3, "avg_compound": -0.1,
         "share_negative": 0.6667},
        {"channel": "SMS", "messages": 2, "customer_messages": 1, "avg_compound": 0.0,
         "share_negative": 0.0},
    ]


def test_most_negative_conversations(loaded: ClickHouse) -> None:
    c1 = {"conversation_id": "c1", "channel": "WEB", "language": "en", "messages": 3,
          "sentiment_mean": -0.4, "min_sentiment": -0.6, "first_message_at": at(data.T0 + 1000)}
    c3 = {"conversation_id": "c3", "channel": "SMS", "language": "en", "messages": 2,
          "sentiment_mean": 0.0, "min_sentiment": 0.0, "first_message_at": at(data.T0 + 5000)}
    assert rows(loaded, "most_negative_conversations", limit="2") == [c1, c3]
    assert [r["conversation_id"] for r in rows(loaded, "most_negative_conversations")] == [
        "c1", "c3", "c2"]


def test_campaign_kpis(loaded: ClickHouse) -> None:
    assert rows(loaded, "campaign_kpis") == [
        {"platform": "google", "account_id": "a1", "campaign_id": "k1",
         "campaign_name": "Campaign k1", "impressions": 4000, "clicks": 100, "spend": 300.0,
         "currency": "USD", "conversions": 10.0, "conversion_value": 800.0, "ctr": 0.025,
         "cpc": 3.0, "cpa": 30.0, "roas": 2.6667},
        {"platform": "meta", "account_id": "a2", "campaign_id": "k2",
         "campaign_name": "Campaign k2", "impressions": 100, "clicks": 0, "spend": 50.0,
         "currency": "EUR", "conversions": 0.0, "conversion_value": 0.0, "ctr": 0.0,
         "cpc": None, "cpa": None, "roas": 0.0},
    ]
    ads = rows(loaded, "campaign_kpis", level="AD")
    assert [(r["campaign_id"], r["impressions"]) for r in ads] == [("k1", 999)]


def test_dead_letters_by_topic(loaded: ClickHouse) -> None:
    got = [
        (r["topic"], r["error"], r["dead_letters"]) for r in rows(loaded, "dead_letters_by_topic")
    ]
    assert got == [("ad.metrics", "invalid_field", 1), ("chat.events", "undecodable", 2),
                   ("chat.events", "not_framed", 1)]


def test_conversation_journey(loaded: ClickHouse) -> None:
    journey = rows(loaded, "conversation_journey", conversation_id="c1")
    assert [(r["occurred_at"], r["sender_role"], r["sentiment_compound"], r["sentiment_label"])
            for r in journey] == [
        (at(data.T0 + 1000), "CUSTOMER", -0.6, "negative"),
        (at(data.T0 + 2000), "BOT", 0.4, "positive"),
        (at(data.T0 + 3000), "CUSTOMER", -0.2, "negative"),
    ]
    assert rows(loaded, "conversation_journey", conversation_id="c'1") == []


def test_parameter_errors(migrated: ClickHouse) -> None:
    with pytest.raises(InsightError, match="required"):
        run_insight(migrated, "conversation_journey", {})
    with pytest.raises(InsightError, match="unknown parameters"):
        run_insight(migrated, "sentiment_by_channel", {"limit": "3"})
    with pytest.raises(InsightError, match=r"limit \(UInt32\)"):
        run_insight(migrated, "most_negative_conversations", {"limit": "-1"})
    with pytest.raises(InsightError, match="no insight named"):
        load_insight("../0001_chat_events")


def test_conversions() -> None:
    assert Param("n", "UInt8", None).convert(" 7 ") == 7
    assert Param("x", "Float64", None).convert("1.5") == 1.5
    assert Param("b", "Bool", None).convert("yes") is True
    assert Param("d", "Date", None).convert("2026-01-02") == dt.date(2026, 1, 2)
    assert Param("t", "DateTime64(3)", None).convert("2026-01-02T03:04:05+01:00") == (
        "2026-01-02 02:04:05.000")
    assert Param("o", "Nullable(Int32)", None).convert("NULL") is None
    with pytest.raises(InsightError):
        Param("n", "UInt8", None).convert("256")


def test_header_checks(tmp_path: Path) -> None:
    (tmp_path / "bad.sql").write_text("-- title: Bad\nSELECT {n:UInt8}\n")
    with pytest.raises(InsightError, match="no '-- param:' line"):
        list_insights(tmp_path)
    (tmp_path / "bad.sql").write_text("-- title: Bad\n-- param: n UInt16 = 1\nSELECT {n:UInt8}\n")
    with pytest.raises(InsightError, match="declared UInt16 but used as UInt8"):
        list_insights(tmp_path)
