"""Backtest: rows from the ad.metrics contract, replay with guard rails acting as live."""

from __future__ import annotations

import numpy as np
import pytest

from streams.marketing.backtest import backtest, history_from_rows
from streams.marketing.optimise import CampaignSettings, HourlyHistory, OptimisationPolicy

H = 3_600_000
START = 1_767_225_600_000


def row(campaign: str, hour: int, clicks: int, reported: int, **extra: object) -> dict[str, object]:
    return {"platform": "GOOGLE_ADS", "account_id": "a", "campaign_id": campaign, "level": "CAMPAIGN",
            "interval_start": START + hour * H, "interval_end": START + (hour + 1) * H,
            "impressions": 1000, "clicks": clicks, "cost_micros": clicks * 500_000, "conversions": 1.5,
            "conversion_value": 30.0, "currency": "EUR", "reported_at": reported, **extra}


def test_rows_become_columns_and_the_latest_report_wins() -> None:
    rows = [row("1", 0, 10, reported=5), row("1", 0, 12, reported=9), row("1", 0, 99, reported=7),
            row("2", 2, 4, reported=1, extra={"frequency": 2.5}),
            {**row("1", 1, 50, reported=1), "level": "AD"}]
    h = history_from_rows(rows)
    assert h.campaign_ids == ("GOOGLE_ADS:1", "GOOGLE_ADS:2") and h.hours == 3 and h.start_ms == START
    assert h.clicks[0].tolist() == [12, 0, 0] and h.cost[0, 0] == 6.0 and h.conversions[0, 0] == 1.5
    assert h.frequency is not None and h.frequency[1, 2] == 2.5
    with pytest.raises(ValueError):
        history_from_rows([])


def steady(hours: int, roas: float) -> HourlyHistory:
    ones = np.ones((1, hours))
    return HourlyHistory(("c",), START, 1000 * ones, 20 * ones, 20 * ones, 1 * ones, 20 * roas * ones)


def settings() -> CampaignSettings:
    return CampaignSettings(bid=np.array([1.0]), budget=np.array([np.nan]), target_cpa=np.array([np.nan]),
                            target_roas=np.array([2.0]), portfolio=("",), creative_ids=("ad",),
                            creative_start=np.array([0]), hour_modifiers=np.ones((1, 168)))


def test_replay_applies_changes_under_the_cooldown() -> None:
    h = steady(30 * 24, roas=5.0)
    policy = OptimisationPolicy(rules=frozenset({"bid"}))
    report = backtest(h, settings(), policy, first_hour=14 * 24, every_hours=24)
    raised = [c.hour for c in report.cycles if c.accepted]
    # 14 daily cycles from day 14 to day 30 (inclusive); the 72 h cooldown lets every third one act.
    assert raised == [14 * 24, 17 * 24, 20 * 24, 23 * 24, 26 * 24, 29 * 24]
    assert report.bid_moves(h.campaign_ids)["c"] == pytest.approx(1.2 ** 6 - 1)
    assert report.refused_by_guard == {"cooldown": len(report.cycles) - 6}
    assert report.accepted_by_action == {"set_bid": 6}


def test_replay_of_an_on_target_campaign_changes_nothing() -> None:
    report = backtest(steady(30 * 24, roas=2.0), settings(), OptimisationPolicy(), first_hour=14 * 24)
    assert report.accepted_by_action == {} and report.end.bid[0] == 1.0
    with pytest.raises(ValueError):
        backtest(steady(10, 2.0), settings(), OptimisationPolicy(), first_hour=0)
