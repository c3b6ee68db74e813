"""Verification of applied recommendations on the embedded engine: the campaign's value minus
cost per day after the change against the week before, compared with the expectation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.io.clickhouse import ClickHouse
from streams.io.migrate import migrate
from streams.kernel.records import Raw
from streams.marketing import approval, kpis
from streams.marketing import recommendations as recs
from streams.marketing.rules import Recommendation
from streams.ops.optimise_apply import verify_due

HOUR = 3_600_000
APPLIED = 1_773_000_000_000 // HOUR * HOUR
NOW = APPLIED + 80 * HOUR


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[ClickHouse]:
    ch = ClickHouse(f"chdb://{tmp_path / 'clickhouse'}")
    try:
        migrate(ch)
        yield ch
    finally:
        ch.close()


def hourly(ch: ClickHouse, campaign: str, first: int, hours: int, spend: float,
           value: float) -> None:
    metrics: list[dict[str, Any]] = [{"platform": "GOOGLE_ADS", "account_id": "1", "campaign_id": campaign,
                "campaign_name": None, "level": "CAMPAIGN", "ad_group_id": None, "ad_id": None,
                "device": None, "interval_start": first + h * HOUR,
                "interval_end": first + (h + 1) * HOUR, "impressions": 100, "clicks": 10,
                "cost_micros": int(spend * 1e6), "conversions": 1.0, "conversion_value": value,
                "currency": "USD", "bid_micros": None, "budget_micros": None, "audience": None,
                "reported_at": NOW, "extra": {}} for h in range(hours)]
    raws = [Raw("ad.metrics", 0, h, 0, None, None) for h in range(hours)]
    ch.insert("campaign_kpis", kpis.kpi_columns(raws, metrics))


def applied(campaign: str, expected: float, dry_run: bool = False) -> approval.Ledger:
    rec = Recommendation(rule="budget", action="set_budget", entity=f"campaign:GOOGLE_ADS:{campaign}",
                         campaign_id=f"GOOGLE_ADS:{campaign}", as_of_ms=APPLIED - HOUR,
                         current=50.0, proposed=60.0, change=0.2, expected_effect=expected,
                         confidence=0.9, rationale="raise budget")
    ledger, rid = approval.submit(approval.Ledger(), rec, "optimiser", APPLIED - HOUR, dry_run)
    ledger = approval.approve(ledger, rid, "ana", APPLIED)
    return approval.apply(ledger, rid, "ana", APPLIED)[0]


def store(ch: ClickHouse, ledgers: list[approval.Ledger]) -> None:
    records = [r for ledger in ledgers for r in recs.audit_records(ledger)]
    raws = [Raw("recommendations", 0, i, 0, None, None) for i in range(len(records))]
    ch.insert("recommendations", recs.recommendation_columns(raws, [r.value for r in records]))


def test_applied_changes_are_verified_against_their_expectation(engine: ClickHouse) -> None:
    week = 7 * 24
    # c1: profit 1/h before, 3/h after (+48/day); c2: unchanged; c3: a dry run
    hourly(engine, "c1", APPLIED - week * HOUR, week, 1.0, 2.0)
    hourly(engine, "c1", APPLIED, 80, 1.0, 4.0)
    hourly(engine, "c2", APPLIED - week * HOUR, week, 1.0, 2.0)
    hourly(engine, "c2", APPLIED, 80, 1.0, 2.0)
    store(engine, [applied("c1", 40.0), applied("c2", 40.0), applied("c3", 10.0, dry_run=True)])

    def query(sql: str, params: Any) -> list[dict[str, Any]]:
        return engine.query(sql, params).dicts()

    ledger, records, lines = verify_due(query, "verifier", NOW)
    status = {req.recommendation.campaign_id: req.status for req in ledger.requests.values()}
    assert status == {"GOOGLE_ADS:c1": "verified", "GOOGLE_ADS:c2": "failed",
                      "GOOGLE_ADS:c3": "applied"}
    assert sorted(r.value["status"] for r in records) == ["failed", "verified"]
    assert any("verified (observed +48.00/day" in line for line in lines)
    # too early: nothing to verify yet
    assert verify_due(query, "verifier", APPLIED + 10 * HOUR)[1] == []
