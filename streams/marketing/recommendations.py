"""Recommendations on the wire and in ClickHouse: records of their approval transitions, the
``recommendations`` rows, the ledger and guard state rebuilt from those rows, and the
``campaign_levers`` rows (bids and budgets as reported) the optimiser reads.

A cycle works on history keyed ``<platform>:<campaign_id>`` (``backtest.history_from_rows``),
so a recommendation's ``campaign_id`` is that key and its entity ``campaign:<key>``; the
records split it back into ``platform`` and the platform's ``campaign_id``.

Invariants:
- one record per transition (``approval.AuditRecord``) or refusal, each carrying the
  recommendation in full: the topic alone is the audit trail;
- ``ledger_from_rows`` over the rows of a ledger's records gives that ledger back (its
  requests, statuses, reached sets and applied times), whatever order the rows come in;
- ``guard_state_from_rows`` counts only changes applied live (a dry run changed nothing);
- the table keeps a recommendation's ``data`` as JSON text (the record as an Avro map).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, cast

from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Columns, OutputRecord, Raw, empty_columns
from streams.marketing import contract as names
from streams.marketing.approval import AuditRecord, Ledger, Request, Status
from streams.marketing.guardrails import AppliedChange, GuardState, Refusal, lever
from streams.marketing.rules import Recommendation

RECOMMENDATION_FIELDS: Final = (
    "request_id", "status", "from_status", "actor", "at", "reason", "dry_run", "rule", "action",
    "entity", "platform", "campaign_id", "as_of", "current", "proposed", "change",
    "expected_effect", "confidence", "rationale", "data", "modifiers",
)
RECOMMENDATION_COLUMNS: Final = (*RECOMMENDATION_FIELDS, "_topic", "_partition", "_offset")
STATUSES: Final = frozenset({"pending", "approved", "rejected", "applied", "verified", "failed",
                             "refused"})
LEVER_COLUMNS: Final = (
    "platform", "account_id", "campaign_id", "level", "ad_group_id", "ad_id", "bid_micros",
    "budget_micros", "currency", "reported_at", "_topic", "_partition", "_offset", "_version",
)


def split_key(key: str) -> tuple[str, str]:
    """``<platform>:<campaign_id>`` -> (platform, campaign_id)."""
    platform, _, campaign = key.partition(":")
    return (platform, campaign) if campaign else ("", key)


def record(rec: Recommendation, request_id: str, status: str, from_status: str | None,
           actor: str, at_ms: int, reason: str, dry_run: bool) -> OutputRecord:
    platform, campaign = split_key(rec.campaign_id)
    return OutputRecord(names.RECOMMENDATIONS, request_id, {
        "request_id": request_id, "status": status, "from_status": from_status, "actor": actor,
        "at": at_ms, "reason": reason, "dry_run": dry_run, "rule": rec.rule,
        "action": rec.action, "entity": rec.entity, "platform": platform,
        "campaign_id": campaign, "as_of": rec.as_of_ms, "current": rec.current,
        "proposed": rec.proposed, "change": float(rec.change),
        "expected_effect": float(rec.expected_effect), "confidence": float(rec.confidence),
        "rationale": rec.rationale, "data": {k: float(v) for k, v in rec.data.items()},
        "modifiers": [float(m) for m in rec.modifiers]})


def audit_records(ledger: Ledger, since: int = 0) -> list[OutputRecord]:
    """Records of the ledger's audit trail from position ``since`` on."""
    out = []
    for a in ledger.audit[since:]:
        req = ledger.requests[a.request_id]
        out.append(record(req.recommendation, a.request_id, a.to_status, a.from_status,
                          a.actor, a.at_ms, a.reason, req.dry_run))
    return out


def refusal_record(refusal: Refusal, request_id: str, actor: str, at_ms: int,
                   dry_run: bool) -> OutputRecord:
    return record(refusal.recommendation, request_id, "refused", None, actor, at_ms,
                  f"{refusal.guard}: {refusal.detail}", dry_run)


def validate(raw: Raw, value: Mapping[str, Any]) -> None:
    """Contract rules of a ``recommendations`` record beyond Avro's."""
    if not value["request_id"]:
        raise InvalidMessage("invalid_field", "request_id is empty")
    if raw.key_str is not None and raw.key_str != value["request_id"]:
        raise InvalidMessage("invalid_field", "the key is not the request_id")
    if value["status"] not in STATUSES:
        raise InvalidMessage("invalid_field", f"status {value['status']!r} is unknown")
    if not 0.0 <= value["confidence"] <= 1.0:
        raise InvalidMessage("invalid_field", f"confidence {value['confidence']} is not in [0, 1]")


def recommendation_columns(raws: Sequence[Raw], values: Sequence[Mapping[str, Any]]) -> Columns:
    cols = empty_columns(RECOMMENDATION_COLUMNS)
    for raw, value in zip(raws, values, strict=True):
        for name in RECOMMENDATION_FIELDS:
            cols[name].append(value[name])
        cols["data"][-1] = json.dumps(value["data"], sort_keys=True)  # a JSON text column
        cols["_topic"].append(raw.topic)
        cols["_partition"].append(raw.partition)
        cols["_offset"].append(raw.offset)
    return cols


def lever_columns(raws: Sequence[Raw], metrics: Sequence[Mapping[str, Any]]) -> Columns:
    """``campaign_levers`` rows of the report rows that carry a bid or a budget (the latest
    report of an entity in the batch only: the device rows of an ad repeat its bid)."""
    latest: dict[tuple[Any, ...], tuple[Raw, Mapping[str, Any]]] = {}
    for raw, m in zip(raws, metrics, strict=True):
        if m["bid_micros"] is None and m["budget_micros"] is None:
            continue
        key = (m["platform"], m["account_id"], m["campaign_id"], m["level"], m["ad_group_id"],
               m["ad_id"])
        held = latest.get(key)
        if held is None or m["reported_at"] >= held[1]["reported_at"]:
            latest[key] = (raw, m)
    cols = empty_columns(LEVER_COLUMNS)
    for raw, m in latest.values():
        for name in ("platform", "account_id", "campaign_id", "level", "bid_micros",
                     "budget_micros", "currency", "reported_at"):
            cols[name].append(m[name])
        cols["ad_group_id"].append(m["ad_group_id"] or "")
        cols["ad_id"].append(m["ad_id"] or "")
        cols["_topic"].append(raw.topic)
        cols["_partition"].append(raw.partition)
        cols["_offset"].append(raw.offset)
        cols["_version"].append(m["reported_at"])
    return cols


def recommendation_of(row: Mapping[str, Any]) -> Recommendation:
    """The recommendation a ``recommendations`` row (or record) carries."""
    key = f"{row['platform']}:{row['campaign_id']}" if row["platform"] else row["campaign_id"]
    data = row["data"]
    return Recommendation(
        rule=row["rule"], action=row["action"], entity=row["entity"], campaign_id=key,
        as_of_ms=int(row["as_of"]), current=row["current"], proposed=row["proposed"],
        change=float(row["change"]), expected_effect=float(row["expected_effect"]),
        confidence=float(row["confidence"]), rationale=row["rationale"],
        data=json.loads(data) if isinstance(data, str) else dict(data),
        modifiers=tuple(row["modifiers"]))


def ledger_from_rows(rows: Iterable[Mapping[str, Any]]) -> Ledger:
    """The approval ledger the rows record (refusals are not requests)."""
    by_request: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        if row["status"] != "refused":
            by_request.setdefault(row["request_id"], []).append(row)
    requests: dict[str, Request] = {}
    audit: list[AuditRecord] = []
    for rid, held in by_request.items():
        held.sort(key=lambda r: (int(r["at"]), _ORDER[r["status"]]))
        first, last = held[0], held[-1]
        applied = [int(r["at"]) for r in held if r["status"] == "applied"]
        requests[rid] = Request(rid, recommendation_of(first), cast(Status, last["status"]),
                                bool(first["dry_run"]),
                                frozenset(cast(Status, r["status"]) for r in held),
                                applied[0] if applied else None)
        audit += [AuditRecord(rid, r["actor"], int(r["at"]), r["from_status"], r["status"],
                              r["reason"]) for r in held]
    audit.sort(key=lambda a: (a.at_ms, a.request_id, _ORDER[a.to_status]))
    return Ledger(requests, tuple(audit))


_ORDER: Final = {"pending": 0, "approved": 1, "rejected": 1, "applied": 2, "verified": 3,
                 "failed": 3, "refused": 0}


def guard_state_from_rows(rows: Iterable[Mapping[str, Any]]) -> GuardState:
    """Changes applied live, as the guard rails count them (cooldowns, daily caps)."""
    changes = [AppliedChange(lever(recommendation_of(r)), int(r["at"]), float(r["change"]))
               for r in rows if r["status"] == "applied" and not r["dry_run"]]
    return GuardState(tuple(sorted(changes, key=lambda c: (c.at_ms, c.lever))))
