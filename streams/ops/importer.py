"""Historical import: past conversations from JSONL or CSV into ``chat.events``, with their
original timestamps, idempotently.

Each row is one chat event with the fields of the ``ChatEvent`` contract (flat CSV columns
``customer_id``, ``email``, ``phone``, ``anonymous_id`` become the ``customer`` object;
``event_type`` defaults to MESSAGE, ``channel`` to OTHER). A row without an ``event_id``
gets one derived from its content, so the same file always yields the same ids; events whose
id ClickHouse already holds are not produced again, so importing a file twice adds nothing.
Bad rows are reported with their line number and skipped; nothing else is produced for them.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams import topics
from streams.ingest.validate import CUSTOMER_FIELDS, event_from_json
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import OutputRecord

_NAMESPACE = uuid.UUID("6f9c1c52-5b7e-4d53-9a57-1d3f3f1f2a10")


@dataclass
class ImportPlan:
    records: list[OutputRecord] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            for n, row in enumerate(csv.DictReader(fh), start=2):
                yield n, {k: (v if v != "" else None) for k, v in row.items() if k}
        return
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield n, {"__error__": f"not JSON: {exc.msg}"}
                    continue
                yield n, obj if isinstance(obj, dict) else {"__error__": "not an object"}


def normalise(row: dict[str, Any]) -> dict[str, Any]:
    """A flat or nested row as a JSON chat event (defaults filled, customer nested)."""
    obj = dict(row)
    if "customer" not in obj:
        obj["customer"] = {name: obj.pop(name, None) for name in CUSTOMER_FIELDS}
    if isinstance(obj.get("metadata"), str):
        obj["metadata"] = json.loads(obj["metadata"])
    obj["event_type"] = obj.get("event_type") or "MESSAGE"
    obj["channel"] = obj.get("channel") or "OTHER"
    obj["sender_role"] = obj.get("sender_role") or (
        "CUSTOMER" if obj["event_type"] == "MESSAGE" else "SYSTEM")
    if isinstance(obj.get("occurred_at"), str) and obj["occurred_at"].isdigit():
        obj["occurred_at"] = int(obj["occurred_at"])
    if not obj.get("event_id"):
        basis = json.dumps(
            [obj.get("conversation_id"), obj.get("occurred_at"), obj["event_type"],
             obj["sender_role"], obj.get("text")], sort_keys=True, default=str,
        )
        obj["event_id"] = str(uuid.uuid5(_NAMESPACE, basis))
    return obj


def plan(path: Path) -> ImportPlan:
    out = ImportPlan()
    for line, row in _rows(path):
        if "__error__" in row:
            out.errors.append((line, row["__error__"]))
            continue
        try:
            value = event_from_json(normalise(row))
        except (InvalidMessage, ValueError, TypeError) as exc:
            out.errors.append((line, str(exc)))
            continue
        out.records.append(OutputRecord(topics.CHAT_EVENTS, value["conversation_id"], value))
    # per conversation in time order, as the chat service would have sent them
    out.records.sort(key=lambda r: (r.value["conversation_id"], r.value["occurred_at"]))
    return out


def new_only(records: list[OutputRecord], known: set[str]) -> list[OutputRecord]:
    return [r for r in records if r.value["event_id"] not in known]
