"""Dead letters of ingest: input that never became a chat event, kept with its reason.

Ingest writes the pipeline's dead-letter format (``streams.kernel.deadletter``): the bytes as they
were received, on the dead-letter topic of ``chat.events``, with the ``touchstream.dlq.*``
headers (error, reason, time). The input never was a Kafka message, so the origin headers
name the physical ``chat.events`` topic (where ``dlq replay`` sends it), partition -1 and
offset -1. Where it came from is in headers outside the dead-letter prefix, which a replay
and a second dead-lettering keep:

- ``touchstream.ingest.mode``: ``client`` or ``gateway``;
- ``touchstream.ingest.source``: the chat service URL (client mode, without credentials or
  query) or the sender's token subject, role and address (gateway mode);
- ``touchstream.ingest.cursor``: the chat service's cursor of the event (client mode);
- ``touchstream.ingest.truncated``: the size of a value cut to ``MAX_VALUE_BYTES``.

The value is JSON (a frame, or one event of a gateway frame holding a list). A value larger
than ``MAX_VALUE_BYTES`` keeps its first ``MAX_VALUE_BYTES`` only: whole, it could be over
Kafka's message size limit, and a dead letter Kafka refuses would stall ingest.

The key is the event's ``conversation_id`` when it has a usable one, so a replayed event lands
on its conversation's partition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit

from streams import topics
from streams.contract.codec import AvroCodec
from streams.ingest.validate import event_from_json
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

Mode = Literal["client", "gateway"]

H_MODE: Final = "touchstream.ingest.mode"
H_SOURCE: Final = "touchstream.ingest.source"
H_CURSOR: Final = "touchstream.ingest.cursor"
H_TRUNCATED: Final = "touchstream.ingest.truncated"
#: Partition and offset of input that never was a Kafka message.
NOT_IN_KAFKA: Final = -1
#: Below the producers' 1,000,000-byte message limit, with room for the headers.
MAX_VALUE_BYTES: Final = 900_000


def source_url(url: str) -> str:
    """``url`` without user info, query or fragment (a token may sit in the query)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def conversation_key(item: object) -> bytes | None:
    """The Kafka key of a (possibly invalid) event object: its conversation id, if usable."""
    if isinstance(item, Mapping):
        if isinstance(item.get("event"), Mapping) and item.get("type") == "event":
            item = item["event"]
        value = item.get("conversation_id") if isinstance(item, Mapping) else None
        if isinstance(value, str) and value.strip():
            return value.encode()
    return None


def rejected(
    value: str | bytes,
    exc: InvalidMessage,
    *,
    mode: Mode,
    source: str,
    topic: str,
    dlq_topic: str,
    now_ms: int,
    key: bytes | None = None,
    cursor: int | None = None,
) -> DeadLetter:
    """The dead letter of input refused with ``exc``; ``topic`` is the physical chat.events."""
    headers: list[tuple[str, bytes]] = [
        (H_MODE, mode.encode()),
        (H_SOURCE, source.encode()),
    ]
    if cursor is not None:
        headers.append((H_CURSOR, str(cursor).encode()))
    data = value.encode() if isinstance(value, str) else value
    if len(data) > MAX_VALUE_BYTES:
        headers.append((H_TRUNCATED, str(len(data)).encode()))
        data = data[:MAX_VALUE_BYTES]
    raw = Raw(
        topic=topic, partition=NOT_IN_KAFKA, offset=NOT_IN_KAFKA, timestamp_ms=now_ms, key=key,
        value=data, headers=tuple(headers),
    )
    return dead_letter(raw, exc, dlq_topic, now_ms)


def is_ingest_dead_letter(headers: Sequence[tuple[str, bytes]]) -> bool:
    return any(name == H_MODE for name, _ in headers)


def ingest_dead_letter_columns(raws: Sequence[Raw]) -> Columns:
    """``dead_letters`` rows of the ingest dead letters among messages read from a dead-letter
    topic (the worker's own dead letters are in the table already).

    Input refused before it reached Kafka has no position of its own, so its row is keyed by
    its dead letter's: ``_topic``, ``_partition`` and ``_offset`` are those of the message on
    the dead-letter topic (``_topic`` then equals ``dlq_topic``), and a dead letter read twice
    is kept once."""
    cols = empty_columns(DEAD_LETTER_COLUMNS)
    for raw in raws:
        if not is_ingest_dead_letter(raw.headers):
            continue
        headers = {k: v.decode("utf-8", errors="replace") for k, v in raw.headers}
        add_row(cols, raw.topic, raw.partition, raw.offset, raw.topic, raw.key, raw.value,
                headers, headers.get(H_ERROR, "unknown"), headers.get(H_REASON, ""),
                _epoch_ms(headers.get(H_FAILED_AT), raw.timestamp_ms))
    return cols


def _epoch_ms(iso: str | None, fallback: int) -> int:
    if iso is None:
        return fallback
    try:
        return int(datetime.fromisoformat(iso).timestamp() * 1000)
    except ValueError:
        return fallback


def _event_object(value: bytes) -> Any:
    try:
        obj = json.loads(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessage("undecodable", f"not JSON: {exc}") from exc
    if isinstance(obj, dict) and obj.get("type") == "event" and "event" in obj:
        return obj["event"]  # the envelope of client mode and of gateway envelopes
    return obj


def replay_value(headers: Sequence[tuple[str, bytes]], value: bytes | None, codec: AvroCodec
                 ) -> bytes | None:
    """What replaying a dead letter should produce to ``chat.events``.

    An ingest dead letter holds JSON, not Avro: if it passes validation now (the validator
    was fixed), this is its Avro ChatEvent. Anything else is returned unchanged, and a
    message that is still bad is dead-lettered again by the worker.
    """
    if value is None or not is_ingest_dead_letter(headers):
        return value
    try:
        event = event_from_json(_event_object(value))
    except InvalidMessage:
        return value
    return codec.encode(topics.CHAT_EVENTS, event)
