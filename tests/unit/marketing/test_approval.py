"""Approval lifecycle: deterministic ids, idempotent transitions, dry runs, verification, audit."""

from __future__ import annotations

from dataclasses import replace

import pytest

from streams.marketing import approval
from streams.marketing.approval import ApprovalPolicy, Ledger, TransitionError
from streams.marketing.rules import Recommendation

H = 3_600_000
REC = Recommendation(rule="bid", action="set_bid", entity="campaign:c1", campaign_id="c1", as_of_ms=1000,
                     current=1.0, proposed=1.2, change=0.2, expected_effect=50.0, confidence=0.9,
                     rationale="raise bid 20%")


def test_request_id_is_deterministic_from_the_recommendation() -> None:
    assert approval.request_id(REC) == approval.request_id(replace(REC, rationale="other words"))
    assert approval.request_id(REC) != approval.request_id(replace(REC, proposed=1.1))
    assert approval.request_id(REC) != approval.request_id(replace(REC, as_of_ms=2000))


def test_submit_is_idempotent() -> None:
    ledger, rid = approval.submit(Ledger(), REC, "optimiser", 0)
    again, rid2 = approval.submit(ledger, REC, "optimiser", 5)
    assert rid == rid2 and again is ledger and len(ledger.audit) == 1
    assert ledger.requests[rid].status == "pending" and ledger.requests[rid].dry_run


def test_live_lifecycle_with_audit_and_platform_call() -> None:
    ledger, rid = approval.submit(Ledger(), REC, "optimiser", 0, dry_run=False)
    ledger = approval.approve(ledger, rid, "alice", 1 * H, "looks right")
    ledger, call = approval.apply(ledger, rid, "connector", 2 * H)
    assert call is not None and call.request_id == rid and call.proposed == 1.2
    replayed, none = approval.apply(ledger, rid, "connector", 3 * H)
    assert replayed is ledger and none is None  # a redelivered apply sends nothing twice
    assert approval.approve(ledger, rid, "alice", 4 * H) is ledger
    with pytest.raises(TransitionError, match="verify after"):
        approval.verify(ledger, rid, "verifier", 10 * H, 60.0, ApprovalPolicy())
    ledger = approval.verify(ledger, rid, "verifier", 80 * H, 30.0, ApprovalPolicy())
    assert ledger.requests[rid].status == "verified"
    trail = [(a.actor, a.at_ms, a.from_status, a.to_status) for a in ledger.audit]
    assert trail == [("optimiser", 0, None, "pending"), ("alice", H, "pending", "approved"),
                     ("connector", 2 * H, "approved", "applied"), ("verifier", 80 * H, "applied", "verified")]
    assert "observed +30.00/day against expected +50.00/day" in ledger.audit[-1].reason


def test_verification_fails_when_the_outcome_falls_short() -> None:
    ledger, rid = approval.submit(Ledger(), REC, "o", 0, dry_run=False)
    ledger, _ = approval.apply(approval.approve(ledger, rid, "a", 0), rid, "c", 0)
    assert approval.verify(ledger, rid, "v", 72 * H, 10.0, ApprovalPolicy()).requests[rid].status == "failed"
    negative = replace(REC, expected_effect=-20.0)
    ledger, rid = approval.submit(Ledger(), negative, "o", 0, dry_run=False)
    ledger, _ = approval.apply(approval.approve(ledger, rid, "a", 0), rid, "c", 0)
    within = approval.verify(ledger, rid, "v", 72 * H, -30.0, ApprovalPolicy())
    beyond = approval.verify(ledger, rid, "v", 72 * H, -50.0, ApprovalPolicy())
    assert within.requests[rid].status == "verified" and beyond.requests[rid].status == "failed"


def test_dry_run_applies_nothing_and_cannot_be_verified() -> None:
    ledger, rid = approval.submit(Ledger(), REC, "o", 0)
    ledger, call = approval.apply(approval.approve(ledger, rid, "a", 0), rid, "c", 0)
    assert call is None and ledger.requests[rid].status == "applied"
    assert "dry run" in ledger.audit[-1].reason
    with pytest.raises(TransitionError, match="dry run"):
        approval.verify(ledger, rid, "v", 100 * H, 60.0, ApprovalPolicy())


def test_forbidden_transitions_raise() -> None:
    ledger, rid = approval.submit(Ledger(), REC, "o", 0)
    with pytest.raises(TransitionError):
        approval.apply(ledger, rid, "c", 0)  # not approved
    rejected = approval.reject(ledger, rid, "bob", 0, "too aggressive")
    assert rejected.requests[rid].status == "rejected" and rejected.audit[-1].reason == "too aggressive"
    with pytest.raises(TransitionError):
        approval.approve(rejected, rid, "alice", 0)
    with pytest.raises(TransitionError, match="unknown"):
        approval.approve(ledger, "rec-nope", "alice", 0)
    failed = approval.fail(approval.approve(ledger, rid, "a", 0), rid, "connector", 0, "platform said 400")
    assert failed.requests[rid].status == "failed"


def test_observed_effect_per_day() -> None:
    assert approval.observed_effect(700.0, 350.0, 7, 900.0, 400.0, 7) == pytest.approx(150 / 7)
