"""Rows a platform connector refused, as dead letters of ``ad.metrics``, and their table rows.

A connector turns a platform row that breaks the contract into a ``Reject`` with a reason
(``streams.marketing.connectors.rows``). It goes to ``ad.metrics.dlq`` in the pipeline's
dead-letter format (``streams.kernel.deadletter``): the row as JSON, the ``touchstream.dlq.*``
headers (error ``invalid_field``, the reason, the time), origin topic the physical
``ad.metrics``, partition and offset -1 (the row never was a Kafka message), and where it came
from in ``touchstream.connector.platform`` / ``.account``, headers outside the dead-letter
prefix that a replay keeps.

Invariants: one dead letter per reject; a value longer than ``MAX_VALUE_BYTES`` keeps its first
``MAX_VALUE_BYTES`` (a message Kafka refuses would stall the sync) and says so in a header;
``connector_dead_letter_columns`` keeps only messages with the connector headers (the worker's
own dead letters of ``ad.metrics`` are in the table already), keyed by their position on the
dead-letter topic, so a dead letter read twice is kept once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from streams.kernel.deadletter import (
    DEAD_LETTER_COLUMNS,
    H_ERROR,
    H_FAILED_AT,
    H_REASON,
    DeadLetter,
    add_row,
    dead_letter,
)
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Columns, Raw, empty_columns
from streams.marketing.connectors.rows import Reject

H_PLATFORM: Final = "touchstream.connector.platform"
H_ACCOUNT: Final = "touchstream.connector.account"
H_TRUNCATED: Final = "touchstream.connector.truncated"
ERROR: Final = "invalid_field"
NOT_IN_KAFKA: Final = -1
MAX_VALUE_BYTES: Final = 900_000


def _campaign_of(row: Any) -> str | None:
    """The campaign id of a raw platform row, where its format has one (for the key)."""
    if not isinstance(row, dict):
        return None
    for found in (row.get("campaign_id"), (row.get("campaign") or {}).get("id")
                  if isinstance(row.get("campaign"), dict) else None, row.get("singlesend_id")):
        if isinstance(found, str | int) and str(found):
            return str(found)
    return None


def reject_dead_letter(reject: Reject, topic: str, dlq_topic: str, now_ms: int) -> DeadLetter:
    """The dead letter of ``reject``; ``topic`` and ``dlq_topic`` are physical names."""
    data = json.dumps(reject.row, default=str, sort_keys=True).encode()
    headers: list[tuple[str, bytes]] = [(H_PLATFORM, reject.platform.encode()),
                                        (H_ACCOUNT, reject.account_id.encode())]
    if len(data) > MAX_VALUE_BYTES:
        headers.append((H_TRUNCATED, str(len(data)).encode()))
        data = data[:MAX_VALUE_BYTES]
    campaign = _campaign_of(reject.row)
    key = f"{reject.platform}:{campaign}".encode() if campaign else None
    raw = Raw(topic=topic, partition=NOT_IN_KAFKA, offset=NOT_IN_KAFKA, timestamp_ms=now_ms,
              key=key, value=data, headers=tuple(headers))
    return dead_letter(raw, InvalidMessage(ERROR, reject.reason), dlq_topic, now_ms)


def is_connector_dead_letter(headers: Sequence[tuple[str, bytes]]) -> bool:
    return any(name == H_PLATFORM for name, _ in headers)


def connector_dead_letter_columns(raws: Sequence[Raw]) -> Columns:
    """``dead_letters`` rows of the connector dead letters among messages read from
    ``ad.metrics.dlq``; ``_topic``, ``_partition``, ``_offset`` are their own position."""
    cols = empty_columns(DEAD_LETTER_COLUMNS)
    for raw in raws:
        if not is_connector_dead_letter(raw.headers):
            continue
        headers = {k: v.decode("utf-8", errors="replace") for k, v in raw.headers}
        add_row(cols, raw.topic, raw.partition, raw.offset, raw.topic, raw.key, raw.value,
                headers, headers.get(H_ERROR, ERROR), headers.get(H_REASON, ""),
                _epoch_ms(headers.get(H_FAILED_AT), raw.timestamp_ms))
    return cols


def _epoch_ms(iso: str | None, fallback: int) -> int:
    if iso is None:
        return fallback
    try:
        return int(datetime.fromisoformat(iso).timestamp() * 1000)
    except ValueError:
        return fallback
