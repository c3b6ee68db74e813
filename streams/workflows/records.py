"""Decisions as what leaves the stage: rows of ``workflow_actions`` (every decision, the
audit) and records of ``workflow.actions`` (the decisions to deliver now).

Invariants: ``ACTION_COLUMNS`` names every column the stage fills (the DDL in
``schemas/clickhouse/0040_workflow_actions.sql`` adds only ``_ingested_at``); a record's
fields are the Avro schema's (``schemas/avro/workflow_action.v1.avsc``); a row carries the
position of the input event that decided it and ``_version`` = the decision's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from streams.kernel.records import Columns, OutputRecord, empty_columns
from streams.workflows.contract import WORKFLOW_ACTIONS
from streams.workflows.engine import DELIVERED, Decision

ACTION_COLUMNS: Final = (
    "action_id", "idempotency_key", "workflow_id", "priority", "subject_id", "action_type",
    "channel", "params", "status", "reason", "trigger_event_id", "triggered_at",
    "deliver_at", "decided_at", "_topic", "_partition", "_offset", "_version",
)
#: decision field -> record field (the rest keep their name)
_RENAMED: Final = {"subject": "subject_id"}
RECORD_FIELDS: Final = (
    "action_id", "idempotency_key", "workflow_id", "priority", "subject_id", "action_type",
    "channel", "params", "status", "reason", "trigger_event_id", "triggered_at", "deliver_at",
)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a decision came from: the input event's topic, partition and offset."""

    topic: str
    partition: int
    offset: int


def record_value(decision: Decision) -> dict[str, Any]:
    return {_RENAMED.get(k, k): (dict(v) if isinstance(v, dict) else v)
            for k, v in decision.items()}


def action_records(decisions: Sequence[Decision]) -> list[OutputRecord]:
    """The decisions to deliver now, keyed by subject."""
    return [OutputRecord(WORKFLOW_ACTIONS, d["subject"], record_value(d))
            for d in decisions if d["status"] in DELIVERED]


def action_columns(decided: Sequence[tuple[Decision, Position]], decided_at: int) -> Columns:
    columns = empty_columns(ACTION_COLUMNS)
    for decision, where in decided:
        value = record_value(decision)
        for name in RECORD_FIELDS:
            columns[name].append(value[name])
        columns["decided_at"].append(decided_at)
        columns["_topic"].append(where.topic)
        columns["_partition"].append(where.partition)
        columns["_offset"].append(where.offset)
        columns["_version"].append(decided_at)
    return columns
