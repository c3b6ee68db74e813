"""Audience segments (include, bid up, exclude) and lookalike seed rows."""

from __future__ import annotations

from streams.marketing.rules_audience import AudiencePolicy, SegmentStats, audience_rule, lookalike_seed_rows

POLICY = AudiencePolicy()


def seg(name: str, conversions: float, targeted: bool = True, clicks: float = 1000,
        lead: float | None = None, leads: float = 0) -> SegmentStats:
    return SegmentStats(name, targeted, clicks, conversions, clicks * 0.5, conversions * 40, lead, leads)


def test_high_intent_is_bid_up_or_included_and_low_intent_excluded() -> None:
    segments = [seg("avg1", 30), seg("avg2", 30), seg("hot", 90), seg("new", 90, targeted=False),
                seg("cold", 3)]
    recs = {r.entity.split("/")[1]: r for r in audience_rule("c", segments, 7, POLICY, 0)}
    assert recs["hot"].action == "set_segment_modifier" and recs["hot"].proposed == 1.3
    assert recs["new"].action == "include_segment"
    assert recs["cold"].action == "exclude_segment" and recs["cold"].is_change
    assert "avg1" not in recs and recs["hot"].data["intent_index"] > 1.25


def test_lead_scores_raise_the_intent_of_a_segment() -> None:
    plain = [seg(name, conv, lead=50, leads=40) for name, conv in (("a", 30), ("b", 30), ("c", 36))]
    scored = [*plain[:2], seg("c", 36, lead=150, leads=40)]
    assert audience_rule("x", plain, 7, POLICY, 0) == []
    [rec] = audience_rule("x", scored, 7, POLICY, 0)
    assert rec.entity == "segment:x/c" and rec.data["lead_score_mean"] == 150


def test_thin_segments_are_not_judged() -> None:
    assert audience_rule("c", [seg("a", 30), seg("b", 10, clicks=100)], 7, POLICY, 0) == []


def test_lookalike_seed_rows_are_the_top_customers_by_value() -> None:
    customers = [(f"u{i:04d}", float(i % 500)) for i in range(20_000)]
    rows = lookalike_seed_rows("seed-1", customers, POLICY)
    assert len(rows) == 200  # 1 % of the 19,960 with value, above the minimum of 100
    assert rows[0]["rank"] == 1 and rows[0]["value"] == 499.0
    assert [r["value"] for r in rows] == sorted((r["value"] for r in rows), reverse=True)
    assert str(rows[0]["customer_id"]) < str(rows[1]["customer_id"])  # ties by id
    assert lookalike_seed_rows("s", customers[:50], POLICY) == []
    assert lookalike_seed_rows("seed-1", list(reversed(customers)), POLICY) == rows
