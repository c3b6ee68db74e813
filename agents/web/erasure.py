"""Erasure of a person's personal data: ClickHouse rows, compacted topics, worker state.

Invariants:
- A request names the person by any of customer id, email and phone. The customer ids are the
  one given plus the keys of ``crm.profiles`` records that hold the email or phone; the
  person's conversations are those whose rows carry one of those customer ids.
- ClickHouse: every MergeTree table of the database loses (lightweight ``DELETE``, through
  the writing client, never the read-only ``/sql``) the rows of those customers and
  conversations and every row that holds an identifier in any text column (whole-word match,
  case-insensitive: erasing ``cust-1`` keeps ``cust-12``); ``APPLY DELETED MASK`` then
  rewrites the parts that held them, so the rows are gone from the active data, not masked.
- Compacted topics (the manifests' compacted topics and the worker's table changelogs): every
  key whose latest record carries the person (its key or value holds an identifier, customer
  id or conversation id) gets a tombstone in its partition; compaction then drops the older
  records. Non-compacted topics keep their records until their retention ends.
- The audit record (table ``erasures``) holds keyed digests of the identifiers and the counts,
  never the identifiers themselves; nothing here logs an identifier.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from agents.web.security import digest
from streams.contract.codec import AvroCodec
from streams.contract.manifest import load_topics
from streams.customer.contract import CRM_PROFILES
from streams.io.clickhouse import ClickHouse
from streams.settings import Settings

AUDIT_TABLE: Final = "erasures"
AUDIT_DDL: Final = f"""
CREATE TABLE IF NOT EXISTS {AUDIT_TABLE}
(
    erasure_id          String,
    requested_at        DateTime64(3, 'UTC'),
    requested_by        String,
    identifier_kinds    Array(String),
    identifier_digests  Array(String),
    customers           UInt32,
    conversations       UInt32,
    report              String
)
ENGINE = MergeTree
ORDER BY (requested_at, erasure_id)
"""
MIN_IDENTIFIER_LENGTH: Final = 3
_KINDS: Final = ("customer_id", "email", "phone")


class ErasureError(ValueError):
    """The request names no one, or names someone too vaguely to erase safely."""


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    customer_id: str | None = None
    email: str | None = None
    phone: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> ErasureRequest:
        if not isinstance(body, Mapping):
            raise ErasureError("the body must be a JSON object")
        unknown = sorted(set(body) - set(_KINDS))
        if unknown:
            raise ErasureError(f"unknown fields {unknown}; expected some of {list(_KINDS)}")
        values: dict[str, str | None] = {}
        for kind in _KINDS:
            value = body.get(kind)
            if value is not None and not isinstance(value, str):
                raise ErasureError(f"{kind} must be a string")
            value = value.strip() if value else None
            if value and len(value) < MIN_IDENTIFIER_LENGTH:
                raise ErasureError(f"{kind} is shorter than {MIN_IDENTIFIER_LENGTH} characters")
            values[kind] = value or None
        request = cls(**values)
        if not request.identifiers():
            raise ErasureError(f"name the person by at least one of {list(_KINDS)}")
        return request

    def identifiers(self) -> dict[str, str]:
        return {k: v for k in _KINDS if (v := getattr(self, k))}


def pattern(identifier: str) -> str:
    """A case-insensitive whole-word regex for ``identifier`` (RE2 and Python alike)."""
    return r"(?i)(^|[^A-Za-z0-9_])" + re.escape(identifier) + r"($|[^A-Za-z0-9_])"


def matcher(needles: Iterable[str]) -> re.Pattern[bytes] | None:
    parts = [pattern(n)[4:] for n in sorted(set(needles)) if n]
    return re.compile(("(?i)" + "|".join(f"(?:{p})" for p in parts)).encode()) if parts else None


@dataclass
class ErasureReport:
    erasure_id: str
    customers: int = 0
    conversations: int = 0
    rows_deleted: dict[str, int] = field(default_factory=dict)
    tombstones: dict[str, int] = field(default_factory=dict)
    worker_keys: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"erasure_id": self.erasure_id, "customers": self.customers,
                "conversations": self.conversations, "rows_deleted": self.rows_deleted,
                "tombstones": self.tombstones, "worker_keys": self.worker_keys}


# --- ClickHouse ------------------------------------------------------------------------------

def text_columns(ch: ClickHouse) -> dict[str, list[str]]:
    """Per MergeTree table of the database (but the audit table): its text-bearing columns
    (String, in any wrapper, array or map)."""
    result = ch.query(
        "SELECT c.table, c.name FROM system.columns AS c INNER JOIN system.tables AS t "
        "ON c.database = t.database AND c.table = t.name "
        "WHERE c.database = currentDatabase() AND t.engine LIKE '%MergeTree%' "
        "AND c.type LIKE '%String%' AND c.table != {audit:String} ORDER BY c.table, c.position",
        {"audit": AUDIT_TABLE})
    tables: dict[str, list[str]] = {}
    for table, column in result.rows:
        tables.setdefault(str(table), []).append(str(column))
    return tables


def _condition(columns: list[str], needles: list[str], customer_ids: list[str],
               conversation_ids: list[str]) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if "customer_id" in columns and customer_ids:
        clauses.append("customer_id IN {customers:Array(String)}")
        params["customers"] = customer_ids
    if "conversation_id" in columns and conversation_ids:
        clauses.append("conversation_id IN {conversations:Array(String)}")
        params["conversations"] = conversation_ids
    for i, needle in enumerate(needles):
        params[f"p{i}"] = pattern(needle)
        clauses.extend(f"match(toString(`{c}`), {{p{i}:String}})" for c in columns)
    return " OR ".join(clauses) or "0", params


def conversations_of(ch: ClickHouse, tables: Mapping[str, list[str]],
                     customer_ids: list[str]) -> set[str]:
    found: set[str] = set()
    if not customer_ids:
        return found
    for table, columns in tables.items():
        if "conversation_id" in columns and "customer_id" in columns:
            rows = ch.query(f"SELECT DISTINCT conversation_id FROM `{table}` "
                            "WHERE customer_id IN {ids:Array(String)}", {"ids": customer_ids})
            found.update(str(r[0]) for r in rows.rows if r[0])
    return found


def erase_rows(ch: ClickHouse, tables: Mapping[str, list[str]], needles: list[str],
               customer_ids: list[str], conversation_ids: list[str],
               timeout: float = 120.0) -> dict[str, int]:
    """Delete the matching rows of every table, then rewrite the parts that held them (a
    lightweight delete only masks rows); the count of rows deleted per table."""
    deleted: dict[str, int] = {}
    for table, columns in tables.items():
        where, params = _condition(columns, needles, customer_ids, conversation_ids)
        count = int(ch.query(f"SELECT count() FROM `{table}` WHERE {where}", params).rows[0][0])
        if count:
            ch.command(f"DELETE FROM `{table}` WHERE {where}", params)
            ch.command(f"ALTER TABLE `{table}` APPLY DELETED MASK")
            deleted[table] = count
    deadline = time.monotonic() + timeout
    while deleted and _mutations_pending(ch, list(deleted)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"rows deleted, but their parts not rewritten within {timeout}s")
        time.sleep(0.1)
    return deleted


def _mutations_pending(ch: ClickHouse, tables: list[str]) -> int:
    return int(ch.query("SELECT count() FROM system.mutations WHERE database = currentDatabase()"
                        " AND table IN {t:Array(String)} AND NOT is_done", {"t": tables}
                        ).rows[0][0])


def audit(ch: ClickHouse, report: ErasureReport, request: ErasureRequest, requested_by: str,
          secret: str | None) -> None:
    ch.command(AUDIT_DDL)
    kinds = sorted(request.identifiers())
    ch.insert(AUDIT_TABLE, {
        "erasure_id": [report.erasure_id],
        "requested_at": [dt.datetime.now(dt.UTC)],
        "requested_by": [requested_by],
        "identifier_kinds": [kinds],
        "identifier_digests": [[digest(request.identifiers()[k], secret) for k in kinds]],
        "customers": [report.customers],
        "conversations": [report.conversations],
        "report": [json.dumps(report.as_json(), sort_keys=True)],
    })


# --- Kafka -----------------------------------------------------------------------------------

Latest = dict[tuple[int, bytes], bytes | None]


def compacted_topics(settings: Settings) -> list[str]:
    """The physical names of the contract's compacted topics."""
    return sorted(settings.topic(name) for name, spec in load_topics().items()
                  if "compact" in spec.cleanup_policy)


def scan_latest(settings: Settings, topics: Iterable[str], timeout: float = 60.0
                ) -> dict[str, Latest]:
    """The latest record of every key of each topic, as it stands now (missing topics: none)."""
    consumer = Consumer({**settings.kafka_client_config(),
                         "group.id": f"touchstream-erasure-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    latest: dict[str, Latest] = {}
    try:
        assignment: list[TopicPartition] = []
        ends: dict[tuple[str, int], int] = {}
        for topic in topics:
            latest[topic] = {}
            meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
            if meta is None or meta.error is not None:
                continue
            for partition in meta.partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition),
                                                           timeout=10)
                if high > low:
                    assignment.append(TopicPartition(topic, partition, low))
                    ends[(topic, partition)] = high
        if not assignment:
            return latest
        consumer.assign(assignment)
        deadline = time.monotonic() + timeout
        while ends:
            if time.monotonic() > deadline:
                raise TimeoutError(f"compacted topics not read to their end within {timeout}s")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise RuntimeError(f"reading {msg.topic()}: {error}")
            topic, partition, offset = str(msg.topic()), int(msg.partition() or 0), int(
                msg.offset() or 0)
            key = msg.key()
            if key is not None:
                latest[topic][(partition, key)] = msg.value()
            if offset + 1 >= ends.get((topic, partition), 0):
                ends.pop((topic, partition), None)
        return latest
    finally:
        consumer.close()


Readable = Callable[[bytes], bytes]


def keys_holding(latest: Latest, needle: re.Pattern[bytes], readable: Readable | None = None
                 ) -> list[tuple[int, bytes]]:
    """The live keys (latest value not a tombstone) whose key or value matches; ``readable``
    turns a value into text first (Avro's length prefixes would break word boundaries)."""
    return [(p, k) for (p, k), v in latest.items()
            if v is not None and (needle.search(k) or needle.search(
                readable(v) if readable else v))]


def avro_reader(settings: Settings, topic: str, codec: AvroCodec | None = None
                ) -> Readable | None:
    """For a topic of the contract: its values as JSON text (raw bytes if one does not
    decode); None for other topics (the worker's changelogs are JSON already)."""
    prefix = settings.topic_prefix
    logical = topic[len(prefix):] if topic.startswith(prefix) else topic
    codec = codec or AvroCodec.from_settings(settings)
    if logical not in codec.topics:
        return None

    def readable(value: bytes) -> bytes:
        try:
            record = codec.decode(logical, value)
        except Exception:
            return value
        return json.dumps(record, default=str, ensure_ascii=False).encode()

    return readable


def tombstone(settings: Settings, targets: Mapping[str, list[tuple[int, bytes]]]) -> dict[str, int]:
    """Produce a tombstone (null value) for each key, in its partition; waits for acks."""
    producer = Producer({**settings.kafka_client_config(), "acks": "all",
                         "enable.idempotence": True})
    failures: list[str] = []

    def delivered(err: Any, msg: Any) -> None:
        if err is not None:
            failures.append(str(err))

    counts: dict[str, int] = {}
    for topic, keys in targets.items():
        for partition, key in keys:
            producer.produce(topic, key=key, value=None, partition=partition,
                             on_delivery=delivered)
        if keys:
            counts[topic] = len(keys)
    remaining = producer.flush(30)
    if remaining or failures:
        raise RuntimeError(f"tombstones not acknowledged: {remaining} pending, {failures[:3]}")
    return counts


# --- the whole erasure -----------------------------------------------------------------------

@dataclass
class Erasure:
    """What one erasure found and removed; ``needle`` matches what worker state to drop."""

    report: ErasureReport
    needle: re.Pattern[bytes] | None


def erase(ch: ClickHouse, settings: Settings, request: ErasureRequest, topics: list[str],
          requested_by: str) -> Erasure:
    """Remove the person from ClickHouse and the compacted ``topics``; audit it."""
    report = ErasureReport(erasure_id=uuid.uuid4().hex)
    ids = request.identifiers()
    latest = scan_latest(settings, topics)
    customers = {ids["customer_id"]} if "customer_id" in ids else set()
    contact = matcher(v for k, v in ids.items() if k != "customer_id")
    codec = AvroCodec.from_settings(settings)
    readers = {topic: avro_reader(settings, topic, codec) for topic in latest}
    profiles_topic = settings.topic(CRM_PROFILES)
    if contact is not None:
        customers.update(k.decode("utf-8", "replace") for p, k in keys_holding(
            latest.get(profiles_topic, {}), contact, readers.get(profiles_topic)))
    customer_ids = sorted(customers)
    tables = text_columns(ch)
    conversation_ids = sorted(conversations_of(ch, tables, customer_ids))
    needles = sorted(set(ids.values()) | customers)
    report.customers, report.conversations = len(customer_ids), len(conversation_ids)
    report.rows_deleted = erase_rows(ch, tables, needles, customer_ids, conversation_ids)
    needle = matcher([*needles, *conversation_ids])
    if needle is not None:
        report.tombstones = tombstone(settings, {t: keys_holding(v, needle, readers[t])
                                                 for t, v in latest.items()})
    audit(ch, report, request, requested_by,
          settings.web_secret.get_secret_value() if settings.web_secret else None)
    return Erasure(report, needle)


def drop_worker_keys(tables: Mapping[str, Any], needle: re.Pattern[bytes]) -> dict[str, int]:
    """Remove from the worker's in-memory tables (``{name: faust table}``) every key whose key
    or value holds the person; call it on the event loop, between agent steps."""
    dropped: dict[str, int] = {}
    for name, table in tables.items():
        data = table.data
        doomed = [k for k, v in list(data.items())
                  if needle.search(k if isinstance(k, bytes) else str(k).encode())
                  or needle.search(json.dumps(v, default=str).encode())]
        for key in doomed:
            data.pop(key, None)
        if doomed:
            dropped[name] = len(doomed)
    return dropped
