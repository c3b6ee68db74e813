"""Recommendation records and rows: the ledger and guard state rebuilt from them, the levers
the optimiser reads, the CLI's history windows."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from streams.cli.optimise import days_of
from streams.contract.codec import AvroCodec
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Raw
from streams.marketing import approval
from streams.marketing import recommendations as recs
from streams.marketing.guardrails import AppliedChange, Refusal
from streams.marketing.rules import Recommendation
from streams.ops.optimise import levers_of
from streams.settings import Settings

T = 1_773_572_400_000


def rec(campaign: str = "GOOGLE_ADS:100", change: float = 0.2, **kw: Any) -> Recommendation:
    values: dict[str, Any] = {
        "rule": "budget", "action": "set_budget", "entity": f"campaign:{campaign}",
        "campaign_id": campaign, "as_of_ms": T, "current": 50.0, "proposed": 50.0 * (1 + change),
        "change": change, "expected_effect": 12.5, "confidence": 0.9,
        "rationale": "raise budget", "data": {"b": 0.8, "marginal_roas": 5.1}}
    values.update(kw)
    return Recommendation(**values)


def rows_of(records: list[Any]) -> list[dict[str, Any]]:
    """What the table gives back for these records (data as JSON text)."""
    raws = [Raw("recommendations", 0, i, 0, r.key.encode(), b"") for i, r in enumerate(records)]
    cols = recs.recommendation_columns(raws, [r.value for r in records])
    return [{name: cols[name][i] for name in recs.RECOMMENDATION_FIELDS}
            for i in range(len(records))]


def test_records_match_the_avro_schema_and_split_the_campaign_key() -> None:
    codec = AvroCodec.from_settings(Settings())
    ledger, rid = approval.submit(approval.Ledger(), rec(), "optimiser", T)
    [record] = recs.audit_records(ledger)
    assert record.key == rid and record.value["platform"] == "GOOGLE_ADS"
    assert record.value["campaign_id"] == "100" and record.value["dry_run"] is True
    decoded = codec.decoder("recommendations")([codec.encode("recommendations", record.value)])
    assert decoded[0] == record.value


def test_the_ledger_comes_back_from_its_rows_in_any_order() -> None:
    ledger = approval.Ledger()
    ledger, a = approval.submit(ledger, rec("GOOGLE_ADS:1"), "optimiser", T, dry_run=False)
    ledger, b = approval.submit(ledger, rec("META:2", -0.1), "optimiser", T)
    ledger = approval.approve(ledger, a, "ana", T + 10)
    ledger, call = approval.apply(ledger, a, "ana", T + 10)
    ledger = approval.reject(ledger, b, "ana", T + 20, "not now")
    assert call is not None
    rows = rows_of(recs.audit_records(ledger))
    assert json.loads(rows[0]["data"]) == {"b": 0.8, "marginal_roas": 5.1}
    random.Random(3).shuffle(rows)
    again = recs.ledger_from_rows(rows)
    assert again.requests == ledger.requests
    assert sorted(again.audit, key=repr) == sorted(ledger.audit, key=repr)
    # a transition replayed from the rebuilt ledger is a no-op, as on the original
    assert approval.approve(again, a, "ana", T + 99) is again
    assert recs.guard_state_from_rows(rows).changes == (
        AppliedChange("campaign:GOOGLE_ADS:1|set_budget", T + 10, 0.2),)


def test_refusals_are_recorded_but_are_not_requests_and_dry_runs_are_not_changes() -> None:
    refused = recs.refusal_record(Refusal(rec(), "cooldown", "changed 3 h ago"), "rec-x",
                                  "optimiser", T, dry_run=True)
    assert refused.value["status"] == "refused"
    assert refused.value["reason"] == "cooldown: changed 3 h ago"
    ledger, rid = approval.submit(approval.Ledger(), rec(), "optimiser", T)  # a dry run
    ledger = approval.approve(ledger, rid, "ana", T)
    ledger, call = approval.apply(ledger, rid, "ana", T)
    assert call is None
    rows = rows_of([refused, *recs.audit_records(ledger)])
    assert set(recs.ledger_from_rows(rows).requests) == {rid}
    assert recs.guard_state_from_rows(rows).changes == ()


def test_validation_refuses_an_unknown_status_or_a_key_that_is_not_the_request() -> None:
    ledger, rid = approval.submit(approval.Ledger(), rec(), "optimiser", T)
    value = recs.audit_records(ledger)[0].value
    recs.validate(Raw("recommendations", 0, 0, 0, rid.encode(), b""), value)
    with pytest.raises(InvalidMessage, match="key"):
        recs.validate(Raw("recommendations", 0, 0, 0, b"other", b""), value)
    with pytest.raises(InvalidMessage, match="status"):
        recs.validate(Raw("recommendations", 0, 0, 0, None, b""), {**value, "status": "done"})


def test_levers_come_from_the_latest_report_of_each_entity() -> None:
    def metric(ad_group: str, bid: int | None, budget: int | None, at: int) -> dict[str, Any]:
        return {"platform": "GOOGLE_ADS", "account_id": "1", "campaign_id": "100", "level": "AD",
                "ad_group_id": ad_group, "ad_id": ad_group + "a", "bid_micros": bid,
                "budget_micros": budget, "currency": "USD", "reported_at": at}

    metrics = [metric("g1", 500_000, 40_000_000, 1), metric("g1", 700_000, 50_000_000, 2),
               metric("g2", 900_000, 50_000_000, 1), metric("g3", None, None, 5)]
    raws = [Raw("ad.metrics", 0, i, 0, None, None) for i in range(len(metrics))]
    cols = recs.lever_columns(raws, metrics)
    assert sorted(zip(cols["ad_group_id"], cols["bid_micros"], strict=True)) == [
        ("g1", 700_000), ("g2", 900_000)]
    rows = [{name: cols[name][i] for name in cols} for i in range(len(cols["platform"]))]
    levers = levers_of(rows)["GOOGLE_ADS:100"]
    assert levers.bid == pytest.approx(0.8) and levers.budget == 50.0
    assert levers.ad_group_bids == {"g1": 700_000, "g2": 900_000}
    assert math.isnan(levers_of([{**rows[0], "bid_micros": None, "ad_group_id": "",
                                  "budget_micros": None}])["GOOGLE_ADS:100"].bid)


def test_history_windows_read_days_weeks_and_hours() -> None:
    assert (days_of("28d"), days_of("4w"), days_of("72h"), days_of("1h")) == (28, 28, 3, 1)
    with pytest.raises(Exception, match="like 28d"):
        days_of("28 days")
