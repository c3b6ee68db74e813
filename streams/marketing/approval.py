"""Approval of recommendations: pending -> approved | rejected -> applied -> verified | failed.

A pure state machine over a ``Ledger`` (requests by id plus the audit trail). Every transition
returns a new ledger and appends one ``AuditRecord`` (who, when, from, to, why).

Invariants:
- a request id is derived from the recommendation alone (sha256 of its canonical fields), so a
  redelivered recommendation or a replayed transition is a no-op: submitting the same
  recommendation twice, or approving an already approved (or later) request, changes nothing
  and writes no audit record;
- only the transitions in ``TRANSITIONS`` exist; anything else raises ``TransitionError``;
- requests are dry runs unless submitted with ``dry_run=False``: applying a dry run records the
  transition but yields no ``PlatformCall``, and a dry run cannot be verified (nothing changed);
- verification happens no sooner than ``verify_after_hours`` after applying; it compares the
  observed effect with the expected one and ends in ``verified`` or ``failed``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final, Literal

from streams.marketing.rules import Recommendation

Status = Literal["pending", "approved", "rejected", "applied", "verified", "failed"]
TRANSITIONS: Final[Mapping[Status, frozenset[Status]]] = MappingProxyType({
    "pending": frozenset({"approved", "rejected"}),
    "approved": frozenset({"applied", "failed"}),  # failed: the platform refused the change
    "applied": frozenset({"verified", "failed"}),
    "rejected": frozenset(), "verified": frozenset(), "failed": frozenset(),
})
HOUR_MS: Final = 3_600_000


class TransitionError(ValueError):
    """A transition that the lifecycle does not allow."""


@dataclass(frozen=True)
class ApprovalPolicy:
    verify_after_hours: float = 72.0
    tolerance: float = 0.5  # share of the expected gain that must be observed


@dataclass(frozen=True)
class AuditRecord:
    request_id: str
    actor: str
    at_ms: int
    from_status: Status | None
    to_status: Status
    reason: str


@dataclass(frozen=True)
class Request:
    id: str
    recommendation: Recommendation
    status: Status
    dry_run: bool
    reached: frozenset[Status]
    applied_ms: int | None = None


@dataclass(frozen=True)
class PlatformCall:
    """What a connector must send, with the request id as its idempotency key."""

    request_id: str
    entity: str
    action: str
    proposed: float | None
    modifiers: tuple[float, ...]


@dataclass(frozen=True)
class Ledger:
    requests: Mapping[str, Request] = field(default_factory=dict)
    audit: tuple[AuditRecord, ...] = ()


def request_id(rec: Recommendation) -> str:
    """Deterministic id of a recommendation: same rule, lever, time and proposal, same id."""
    canonical = json.dumps(
        [rec.rule, rec.action, rec.entity, rec.campaign_id, rec.as_of_ms,
         None if rec.proposed is None else round(rec.proposed, 9),
         [round(m, 6) for m in rec.modifiers]], separators=(",", ":"))
    return "rec-" + hashlib.sha256(canonical.encode()).hexdigest()[:24]


def _move(ledger: Ledger, rid: str, to: Status, actor: str, at_ms: int, reason: str,
          applied_ms: int | None = None) -> Ledger:
    req = ledger.requests.get(rid)
    if req is None:
        raise TransitionError(f"unknown request {rid}")
    if to in req.reached:
        return ledger  # replayed transition: already done
    if to not in TRANSITIONS[req.status]:
        raise TransitionError(f"{rid}: {req.status} -> {to} is not allowed")
    moved = replace(req, status=to, reached=req.reached | {to},
                    applied_ms=req.applied_ms if applied_ms is None else applied_ms)
    requests = {**ledger.requests, rid: moved}
    return Ledger(requests, (*ledger.audit, AuditRecord(rid, actor, at_ms, req.status, to, reason)))


def submit(ledger: Ledger, rec: Recommendation, actor: str, at_ms: int,
           dry_run: bool = True) -> tuple[Ledger, str]:
    rid = request_id(rec)
    if rid in ledger.requests:
        return ledger, rid
    req = Request(rid, rec, "pending", dry_run, frozenset({"pending"}))
    mode = "dry run" if dry_run else "live"
    record = AuditRecord(rid, actor, at_ms, None, "pending", f"{mode}: {rec.rationale}")
    return Ledger({**ledger.requests, rid: req}, (*ledger.audit, record)), rid


def approve(ledger: Ledger, rid: str, actor: str, at_ms: int, reason: str = "approved") -> Ledger:
    return _move(ledger, rid, "approved", actor, at_ms, reason)


def reject(ledger: Ledger, rid: str, actor: str, at_ms: int, reason: str) -> Ledger:
    return _move(ledger, rid, "rejected", actor, at_ms, reason)


def apply(ledger: Ledger, rid: str, actor: str, at_ms: int) -> tuple[Ledger, PlatformCall | None]:
    """Mark applied; the platform call to make, or None for a dry run (or a replay)."""
    req = ledger.requests.get(rid)
    if req is not None and "applied" in req.reached:
        return ledger, None
    dry = req is None or req.dry_run
    moved = _move(ledger, rid, "applied", actor, at_ms,
                  "dry run: nothing sent to the platform" if dry else "sent to the platform",
                  applied_ms=at_ms)
    if dry:
        return moved, None
    rec = moved.requests[rid].recommendation
    return moved, PlatformCall(rid, rec.entity, rec.action, rec.proposed, rec.modifiers)


def fail(ledger: Ledger, rid: str, actor: str, at_ms: int, reason: str) -> Ledger:
    return _move(ledger, rid, "failed", actor, at_ms, reason)


def verify(ledger: Ledger, rid: str, actor: str, at_ms: int, observed_effect: float,
           policy: ApprovalPolicy) -> Ledger:
    """Compare the observed effect (per day, as ``expected_effect``) with the expected one."""
    req = ledger.requests.get(rid)
    if req is None:
        raise TransitionError(f"unknown request {rid}")
    if req.reached & {"verified", "failed"}:
        return ledger
    if req.status != "applied" or req.applied_ms is None:
        raise TransitionError(f"{rid}: only an applied request can be verified ({req.status})")
    if req.dry_run:
        raise TransitionError(f"{rid}: a dry run changed nothing and cannot be verified")
    waited = (at_ms - req.applied_ms) / HOUR_MS
    if waited < policy.verify_after_hours:
        raise TransitionError(f"{rid}: {waited:.1f} h since applied, verify after "
                              f"{policy.verify_after_hours:g} h")
    expected = req.recommendation.expected_effect
    # A positive expectation must be met at least to ``tolerance``; a negative (a cost accepted
    # for volume) must not be exceeded by more than 1 / tolerance.
    good = (observed_effect >= policy.tolerance * expected if expected >= 0
            else observed_effect >= expected / policy.tolerance)
    to: Status = "verified" if good else "failed"
    return _move(ledger, rid, to, actor, at_ms,
                 f"observed {observed_effect:+.2f}/day against expected {expected:+.2f}/day "
                 f"after {waited:.0f} h")


def observed_effect(before_value: float, before_cost: float, before_days: float,
                    after_value: float, after_cost: float, after_days: float) -> float:
    """Change of value minus cost per day between a window before and one after the change."""
    return ((after_value - after_cost) / after_days) - ((before_value - before_cost) / before_days)
