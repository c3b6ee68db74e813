"""Known events through the real broker, real Faust workers and the embedded ClickHouse."""

from __future__ import annotations

import pytest

from streams import topics
from streams.io.kafka_admin import end_offsets
from streams.io.producer import produce_records
from streams.simulators.chat import ad_metrics, conversations
from streams.simulators.run import interleave
from tests.integration import expected
from tests.integration.conftest import Pipeline

pytestmark = pytest.mark.integration


def targets(p: Pipeline) -> dict[str, dict[int, int]]:
    return {t: end_offsets(p.settings, t) for t in (topics.CHAT_EVENTS, topics.AD_METRICS)}


def test_every_event_appears_once_with_the_right_values(pipeline: Pipeline) -> None:
    chat = list(conversations(1500, seed=101))
    ads = list(ad_metrics(800, seed=202))
    pipeline.start_worker()
    produce_records(pipeline.settings, interleave(iter(chat), iter(ads)),
                    encode=pipeline.codec.encode)
    pipeline.wait_sunk(targets(pipeline))
    q = pipeline.querier()

    # chat events: exactly once, with VADER's sentiment on every message
    assert q.sql("SELECT count() FROM chat_events FINAL").rows[0][0] == len(chat)
    assert q.sql("SELECT uniqExact(event_id) FROM chat_events FINAL").rows[0][0] == len(chat)
    rows = q.sql(
        "SELECT event_id, event_type, sentiment_compound, sentiment_label, channel, text "
        "FROM chat_events FINAL"
    ).rows
    by_id = {r[0]: r for r in rows}
    for rec in chat:
        v = rec.value
        row = by_id[v["event_id"]]
        assert row[1] == v["event_type"]
        assert row[4] == v["channel"]
        if v["event_type"] == "MESSAGE":
            assert row[2] == pytest.approx(expected.vader(v["text"]), abs=1e-6)
            assert row[3] == ("positive" if row[2] >= 0.05 else
                              "negative" if row[2] <= -0.05 else "neutral")
            assert row[5] == v["text"]
        else:
            assert row[2] is None

    # conversation rollups
    want = expected.conversations(chat)
    got = {
        r[0]: r for r in q.sql(
            "SELECT conversation_id, events, messages, customer_messages, status, "
            "sentiment_mean, min_sentiment FROM conversations FINAL"
        ).rows
    }
    assert set(got) == set(want)
    for cid, w in want.items():
        g = got[cid]
        assert (g[1], g[2], g[3], g[4]) == (
            w["events"], w["messages"], w["customer_messages"], w["status"]
        ), cid
        if w["sentiment_mean"] is None:
            assert g[5] is None
        else:
            assert g[5] == pytest.approx(w["sentiment_mean"], abs=1e-9)
            assert g[6] == pytest.approx(w["min_sentiment"], abs=1e-9)

    # campaign KPIs: the latest report of every interval, with its ratios
    latest = expected.latest_metrics(ads)
    kpis = q.sql(
        "SELECT platform, account_id, campaign_id, level, ad_group_id, ad_id, device, "
        "toUnixTimestamp64Milli(interval_start), impressions, clicks, spend, conversions, "
        "conversion_value, ctr, cpc, cpa, roas, toUnixTimestamp64Milli(reported_at) "
        "FROM campaign_kpis FINAL"
    ).rows
    assert len(kpis) == len(latest)
    for r in kpis:
        m = latest[tuple(r[:8])]
        assert r[17] == m["reported_at"]
        assert (r[8], r[9]) == (m["impressions"], m["clicks"])
        spend = m["cost_micros"] / 1_000_000
        assert r[10] == pytest.approx(spend)
        assert r[13] == (pytest.approx(m["clicks"] / m["impressions"]) if m["impressions"] else None)
        assert r[14] == (pytest.approx(spend / m["clicks"]) if m["clicks"] else None)
        assert r[15] == (pytest.approx(spend / m["conversions"]) if m["conversions"] else None)
        assert r[16] == (pytest.approx(m["conversion_value"] / spend) if spend else None)

    assert q.sql("SELECT count() FROM dead_letters").rows[0][0] == 0
