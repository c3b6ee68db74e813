"""Dead letters: a bad message with its raw bytes, its origin and the reason it failed.

The dead-letter message keeps the original key, value and headers and adds headers naming
the original topic, partition, offset, the error, the reason and the time. The same facts
go to the ``dead_letters`` table so that analysts can see them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Columns, Raw, empty_columns

HEADER_PREFIX = "touchstream.dlq."
H_TOPIC = HEADER_PREFIX + "original_topic"
H_PARTITION = HEADER_PREFIX + "original_partition"
H_OFFSET = HEADER_PREFIX + "original_offset"
H_ERROR = HEADER_PREFIX + "error"
H_REASON = HEADER_PREFIX + "reason"
H_FAILED_AT = HEADER_PREFIX + "failed_at"
H_REPLAYS = HEADER_PREFIX + "replays"

DEAD_LETTER_COLUMNS = (
    "_topic", "_partition", "_offset", "dlq_topic", "key", "value", "headers",
    "error", "reason", "failed_at",
)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    raw: Raw
    error: str  # the reason code, e.g. "undecodable"
    reason: str  # human-readable detail
    failed_at_ms: int
    dlq_topic: str

    def message(self) -> tuple[str, bytes | None, bytes | None,
                               list[tuple[str, str | bytes | None]]]:
        """(dead-letter topic, key, value, headers): what goes to Kafka."""
        headers: list[tuple[str, str | bytes | None]] = list(self.headers())
        return self.dlq_topic, self.raw.key, self.raw.value, headers

    def headers(self) -> list[tuple[str, bytes]]:
        """Original headers (minus earlier dead-letter ones) plus the dead-letter facts."""
        kept = [(k, v) for k, v in self.raw.headers if not k.startswith(HEADER_PREFIX)]
        replays = replay_count(self.raw.headers)
        failed_at = datetime.fromtimestamp(self.failed_at_ms / 1000, tz=UTC).isoformat()
        return [
            *kept,
            (H_TOPIC, self.raw.topic.encode()),
            (H_PARTITION, str(self.raw.partition).encode()),
            (H_OFFSET, str(self.raw.offset).encode()),
            (H_ERROR, self.error.encode()),
            (H_REASON, self.reason.encode()),
            (H_FAILED_AT, failed_at.encode()),
            (H_REPLAYS, str(replays).encode()),
        ]


def replay_count(headers: Sequence[tuple[str, bytes]]) -> int:
    for key, value in headers:
        if key == H_REPLAYS:
            try:
                return int(value.decode())
            except ValueError:
                return 0
    return 0


def dead_letter(raw: Raw, exc: InvalidMessage, dlq_topic: str, now_ms: int) -> DeadLetter:
    return DeadLetter(
        raw=raw, error=exc.reason, reason=exc.detail, failed_at_ms=now_ms, dlq_topic=dlq_topic
    )


def dead_letter_columns(letters: Iterable[DeadLetter]) -> Columns:
    cols = empty_columns(DEAD_LETTER_COLUMNS)
    for letter in letters:
        raw = letter.raw
        add_row(cols, raw.topic, raw.partition, raw.offset, letter.dlq_topic, raw.key, raw.value,
                {k: v.decode("utf-8", errors="replace") for k, v in letter.headers()},
                letter.error, letter.reason, letter.failed_at_ms)
    return cols


def add_row(cols: Columns, topic: str, partition: int, offset: int, dlq_topic: str,
            key: bytes | None, value: bytes | None, headers: Mapping[str, str], error: str,
            reason: str, failed_at_ms: int) -> None:
    """Append one ``dead_letters`` row (``_topic``, ``_partition``, ``_offset``: its key)."""
    cols["_topic"].append(topic)
    cols["_partition"].append(partition)
    cols["_offset"].append(offset)
    cols["dlq_topic"].append(dlq_topic)
    cols["key"].append(key or b"")
    cols["value"].append(value or b"")
    cols["headers"].append(headers)
    cols["error"].append(error)
    cols["reason"].append(reason)
    cols["failed_at"].append(failed_at_ms)


def origin(headers: Mapping[str, bytes]) -> tuple[str, int, int] | None:
    """(original topic, partition, offset) of a dead-lettered message, if its headers say."""
    try:
        return (
            headers[H_TOPIC].decode(),
            int(headers[H_PARTITION].decode()),
            int(headers[H_OFFSET].decode()),
        )
    except (KeyError, ValueError):
        return None
