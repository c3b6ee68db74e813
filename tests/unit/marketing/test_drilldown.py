"""Ranking the children behind a campaign-level anomaly (drilldown)."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from streams.marketing.drilldown import alert_windows, decompose, drill_down

HOUR_MS = 3_600_000
MONDAY_9 = 1_767_571_200_000 + 9 * HOUR_MS  # 2026-01-05T09:00Z


def row(level: str, hour: int = 0, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"campaign_id": "c1", "level": level, "interval_start": MONDAY_9 + hour * HOUR_MS,
                           "impressions": 0, "clicks": 0, "cost_micros": 0, "conversions": 0.0,
                           "conversion_value": 0.0, "reported_at": 1}
    out.update(fields)
    return out


def test_spend_spike_is_ranked_to_the_ad_group_that_overspent() -> None:
    baseline = [row("AD_GROUP", ad_group_id="g1", cost_micros=100_000_000),
                row("AD_GROUP", ad_group_id="g2", cost_micros=50_000_000)]
    current = [row("AD_GROUP", ad_group_id="g1", cost_micros=110_000_000),
               row("AD_GROUP", ad_group_id="g2", cost_micros=240_000_000)]
    [top, second] = drill_down("spend", current, baseline, dimensions=("ad_group_id",))["ad_group_id"]
    assert top.key == "g2" and second.key == "g1"
    assert top.contribution == pytest.approx(190.0)
    assert top.share == pytest.approx(0.95) and second.share == pytest.approx(0.05)


def test_ratio_change_splits_into_mix_and_rate_and_adds_up_exactly() -> None:
    baseline = {"mobile": {"clicks": 100.0, "impressions": 5_000.0},
                "desktop": {"clicks": 150.0, "impressions": 5_000.0}}
    current = {"mobile": {"clicks": 90.0, "impressions": 9_000.0},   # traffic moved to mobile, CTR fell
               "desktop": {"clicks": 30.0, "impressions": 1_000.0}}
    parts = decompose("ctr", current, baseline, "device")
    change = 120 / 10_000 - 250 / 10_000
    assert sum(p.contribution for p in parts) == pytest.approx(change)
    assert sum(p.share for p in parts) == pytest.approx(1.0)
    for p in parts:
        assert p.mix + p.rate == pytest.approx(p.contribution)
    mobile = next(p for p in parts if p.key == "mobile")
    assert mobile.rate < 0
    assert mobile.current == pytest.approx(0.01)
    assert mobile.baseline == pytest.approx(0.02)
    desktop = next(p for p in parts if p.key == "desktop")
    assert desktop.mix < 0  # the better device lost its share of the traffic
    assert desktop.rate == 0.0


def test_a_ctr_drop_of_one_ad_ranks_that_ad_first() -> None:
    baseline, current = [], []
    for ad, ctr in (("a1", 0.02), ("a2", 0.03), ("a3", 0.025)):
        baseline.append(row("AD", ad_group_id="g1", ad_id=ad, impressions=10_000, clicks=int(10_000 * ctr)))
        now = 0.004 if ad == "a2" else ctr
        current.append(row("AD", ad_group_id="g1", ad_id=ad, impressions=10_000, clicks=int(10_000 * now)))
    ranked = drill_down("ctr", current, baseline, dimensions=("ad_id",))["ad_id"]
    assert ranked[0].key == "a2"
    assert ranked[0].share == pytest.approx(1.0)


def test_new_and_vanished_children_have_no_rate_effect() -> None:
    baseline = {"old": {"cost": 50.0, "clicks": 100.0}}
    current = {"new": {"cost": 90.0, "clicks": 100.0}}
    parts = {p.key: p for p in decompose("cpc", current, baseline)}
    assert parts["new"].rate == 0.0 and parts["old"].rate == 0.0
    assert parts["new"].contribution + parts["old"].contribution == pytest.approx(0.9 - 0.5)
    assert math.isnan(parts["new"].baseline) and math.isnan(parts["old"].current)


def test_each_dimension_reads_one_level_hours_line_up_and_restated_rows_replace() -> None:
    baseline = [row("CAMPAIGN", hour=h - 168, conversions=10.0) for h in range(3)]
    baseline += [row("AD_GROUP", ad_group_id="g1", conversions=30.0, hour=-168)]
    current = [row("CAMPAIGN", hour=0, conversions=10.0), row("CAMPAIGN", hour=1, conversions=10.0),
               row("CAMPAIGN", hour=2, conversions=10.0),
               row("CAMPAIGN", hour=2, conversions=0.0, reported_at=2),  # a tracking break, restated
               row("AD_GROUP", ad_group_id="g1", conversions=20.0),
               row("AD", ad_group_id="g1", ad_id="x", conversions=20.0)]
    kept = copy.deepcopy(current)
    out = drill_down("conversions", current, baseline)
    assert current == kept
    hours = out["hour"]
    assert hours[0].key == "Mon 11:00" and hours[0].contribution == pytest.approx(-10.0)
    assert sum(h.contribution for h in hours) == pytest.approx(-10.0)
    # Ad groups come from AD_GROUP rows only (the AD row is not added on top).
    assert out["ad_group_id"][0].contribution == pytest.approx(-10.0)
    assert out["ad_id"][0].key == "x"
    assert "device" not in out


def test_alert_windows_cover_the_alert_hours_and_the_same_hours_of_earlier_weeks() -> None:
    (start, end), earlier, weight = alert_windows(MONDAY_9, window_hours=6, weeks=4)
    assert (start, end) == (MONDAY_9 - 5 * HOUR_MS, MONDAY_9 + HOUR_MS)
    assert earlier[0] == (start - 168 * HOUR_MS, end - 168 * HOUR_MS) and len(earlier) == 4
    assert weight == 0.25
