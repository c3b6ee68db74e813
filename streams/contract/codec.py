"""Avro in the Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro binary.

Schema ids come from a ``SchemaSource``: ``LocalSchemas`` (the stable ids of the manifests in
``schemas/topics/``) or ``RegistrySchemas`` (a Confluent-compatible schema registry, subject
``<physical topic>-value``). Either way the bytes are what Confluent's ``AvroSerializer``
writes and ``AvroDeserializer`` reads, so any Kafka client can share the topics.

Decoding is the hot path. It resolves the writer schema of the message's id against the
topic's latest schema (so data written with an older version still decodes), returns
timestamps as int epoch milliseconds and enums as symbol strings, and turns every kind of bad
message into ``InvalidMessage``. A registry that cannot answer (network failure, timeout,
overload, a 5xx) is not a bad message: it raises ``Unavailable``, and the runtime pauses and
retries; only an id the registry does not know (404) is ``InvalidMessage("unknown_schema")``.

A topic may have a compiled decoder (``compile_decoder``): messages written with the topic's
latest schema are then read by it instead of fastavro (the same records, the same errors).
"""

from __future__ import annotations

import functools
import io
import json
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.validation import ValidationError, validate

from streams.contract.manifest import TopicSpec, load_topics, record_full_name
from streams.kernel.errors import InvalidMessage, Unavailable
from streams.settings import Settings

try:  # the HTTP library the registry client uses (httpx2, or httpx)
    from confluent_kafka.schema_registry.common._httpx_compat import httpx as _http

    _NETWORK_ERRORS: tuple[type[Exception], ...] = (OSError, _http.TransportError)
except ImportError:  # another client layout: its network failures are still OSErrors
    _NETWORK_ERRORS = (OSError,)

#: HTTP statuses of a registry that may answer if asked again (the client's own list)
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

MAGIC_BYTE = 0
HEADER_SIZE = 5
_HEADER = struct.Struct(">bI")

#: Logical types decoded as their underlying int/long: epoch (milli|micro)seconds, days and
#: times of day stay plain numbers, which is what the pipeline computes with and much faster.
_PLAIN_LOGICAL_TYPES = frozenset(
    {
        "timestamp-millis",
        "timestamp-micros",
        "local-timestamp-millis",
        "local-timestamp-micros",
        "date",
        "time-millis",
        "time-micros",
    }
)


def frame(schema_id: int, payload: bytes) -> bytes:
    """Prefix Avro binary with the wire-format header."""
    return _HEADER.pack(MAGIC_BYTE, schema_id) + payload


class SchemaSource(Protocol):
    """Resolves the schema id a topic is written with, and the schema behind an id."""

    def writer_id(self, logical_topic: str) -> int:
        """Id of the topic's latest schema version: what encode writes."""
        ...

    def schema(self, schema_id: int) -> dict[str, Any] | None:
        """The Avro schema (parsed JSON) of an id; None when the id is unknown."""
        ...

    def register_all(self) -> None:
        """Make sure every topic's latest schema has its id."""
        ...


class LocalSchemas(SchemaSource):
    """Ids from the manifests: each published (subject, version) has a stable id."""

    def __init__(self, topics: Mapping[str, TopicSpec]) -> None:
        self._topics = topics
        self._by_id: dict[int, dict[str, Any]] = {
            version.id: version.schema for spec in topics.values() for version in spec.versions
        }

    def writer_id(self, logical_topic: str) -> int:
        return self._topics[logical_topic].latest.id

    def schema(self, schema_id: int) -> dict[str, Any] | None:
        return self._by_id.get(schema_id)

    def register_all(self) -> None:
        """Nothing to register: the ids are the manifests'."""


class RegistrySchemas(SchemaSource):
    """Ids from a Confluent-compatible schema registry (TopicNameStrategy subjects).

    The subject of a topic is ``<physical topic>-value``. A topic's latest manifest version is
    looked up under its subject, and registered when it is not there yet (as the Confluent
    serializers do by default); ``register_all`` does that for every topic up front.
    """

    def __init__(
        self,
        client: SchemaRegistryClient,
        topics: Mapping[str, TopicSpec],
        topic_prefix: str = "",
    ) -> None:
        self._client = client
        self._topics = topics
        self._prefix = topic_prefix
        self._writer_ids: dict[str, int] = {}
        self._by_id: dict[int, dict[str, Any]] = {}

    @classmethod
    def from_url(
        cls, url: str, topics: Mapping[str, TopicSpec], topic_prefix: str = "",
        timeout_seconds: float | None = None,
    ) -> RegistrySchemas:
        """A client for ``url``; ``mock://<anything>`` gives an in-memory registry.

        With ``timeout_seconds`` a request fails after that long and is not retried by the
        client (its retries sleep in the caller's thread, which in a worker is the event
        loop): the failure becomes ``Unavailable`` at once and the runtime waits instead.
        """
        conf: dict[str, Any] = {"url": url}
        if timeout_seconds is not None:
            conf.update({"timeout": timeout_seconds, "max.retries": 0})
        return cls(SchemaRegistryClient.new_client(conf), topics, topic_prefix)

    @property
    def client(self) -> SchemaRegistryClient:
        return self._client

    def subject(self, logical_topic: str) -> str:
        return f"{self._prefix}{logical_topic}-value"

    def writer_id(self, logical_topic: str) -> int:
        schema_id = self._writer_ids.get(logical_topic)
        if schema_id is None:
            schema_id = self._resolve(logical_topic)
        return schema_id

    def _resolve(self, logical_topic: str) -> int:
        latest = self._topics[logical_topic].latest
        subject = self.subject(logical_topic)
        schema = Schema(latest.schema_str, "AVRO")
        try:
            try:
                found = self._client.lookup_schema(subject, schema).schema_id
            except SchemaRegistryError as exc:
                if exc.http_status_code != 404:
                    raise
                found = None
            schema_id = self._client.register_schema(subject, schema) if found is None else found
        except Exception as exc:
            unavailable = _unavailable(exc, f"looking up {subject}")
            if unavailable is None:
                raise
            raise unavailable from exc
        self._writer_ids[logical_topic] = schema_id
        self._by_id[schema_id] = latest.schema
        return schema_id

    def schema(self, schema_id: int) -> dict[str, Any] | None:
        cached = self._by_id.get(schema_id)
        if cached is not None:
            return cached
        try:
            registered = self._client.get_schema(schema_id)
        except Exception as exc:
            if isinstance(exc, SchemaRegistryError) and exc.http_status_code == 404:
                return None  # unknown id: the message is bad, not the registry
            unavailable = _unavailable(exc, f"fetching schema id {schema_id}")
            if unavailable is None:
                raise
            raise unavailable from exc
        parsed: Any
        if registered.schema_type not in (None, "AVRO") or registered.schema_str is None:
            # another format: known, but never one of this contract's records
            parsed = {"type": f"<{registered.schema_type} schema>"}
        else:
            parsed = json.loads(registered.schema_str)
            if not isinstance(parsed, dict):  # a primitive or a union: not a record
                parsed = {"type": parsed}
        self._by_id[schema_id] = parsed
        return cast(dict[str, Any], parsed)

    def register_all(self) -> None:
        for logical_topic in self._topics:
            self._resolve(logical_topic)


@dataclass(frozen=True, slots=True)
class _Writer:
    header: bytes
    schema: Any  # fastavro-parsed
    name: str


#: a writer schema (parsed JSON, plain logical types) -> a decoder of one framed message
#: written with it, which raises on bad bytes (trailing bytes included)
Compiler = Callable[[dict[str, Any]], Callable[[bytes], Any]]


@dataclass(frozen=True, slots=True)
class _Reader:
    writer: Any  # fastavro-parsed, plain logical types
    reader: Any  # None when writer and reader are the same schema
    compiled: Callable[[bytes], Any] | None = None  # reads instead of fastavro when set


class AvroCodec:
    """Encodes and decodes the records of every topic of the contract."""

    def __init__(self, source: SchemaSource, topics: Mapping[str, TopicSpec] | None = None):
        self._source = source
        self._topics = dict(load_topics() if topics is None else topics)
        self._writers: dict[str, _Writer] = {}
        self._readers: dict[tuple[str, int], _Reader] = {}
        self._plain_latest: dict[str, Any] = {}
        self._compilers: dict[str, Compiler] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, topics: Mapping[str, TopicSpec] | None = None
    ) -> AvroCodec:
        """Registry ids when ``settings.schema_registry_url`` is set, else the local ids."""
        specs = dict(load_topics() if topics is None else topics)
        source: SchemaSource
        if settings.schema_registry_url:
            source = RegistrySchemas.from_url(
                settings.schema_registry_url, specs, settings.topic_prefix,
                settings.schema_registry_timeout_seconds,
            )
        else:
            source = LocalSchemas(specs)
        return cls(source, specs)

    @property
    def source(self) -> SchemaSource:
        return self._source

    @property
    def topics(self) -> Mapping[str, TopicSpec]:
        return self._topics

    def register_all(self) -> None:
        """Register every topic's latest schema (a no-op for local ids)."""
        self._source.register_all()

    # --- encode ------------------------------------------------------------------------------

    def encode(self, logical_topic: str, record: Mapping[str, Any]) -> bytes:
        """Wire-format bytes of ``record`` under the topic's latest schema.

        Timestamps may be ints (epoch milliseconds) or datetimes. Raises ValueError naming
        the offending field when the record does not fit the schema: that is a bug of the
        producer, not a bad message to dead-letter.
        """
        writer = self._writers.get(logical_topic) or self._writer(logical_topic)
        buffer = io.BytesIO()
        buffer.write(writer.header)
        try:
            schemaless_writer(buffer, writer.schema, record)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise ValueError(_misfit(logical_topic, writer, record, exc)) from exc
        return buffer.getvalue()

    def _writer(self, logical_topic: str) -> _Writer:
        spec = self._spec(logical_topic)
        try:
            schema_id = self._source.writer_id(logical_topic)
        except Exception as exc:
            unavailable = _unavailable(exc, f"resolving the schema id of {logical_topic}")
            if unavailable is None:
                raise
            raise unavailable from exc
        writer = _Writer(
            header=_HEADER.pack(MAGIC_BYTE, schema_id),
            schema=parse_schema(spec.latest.schema),
            name=spec.latest.full_name,
        )
        self._writers[logical_topic] = writer
        return writer

    # --- decode ------------------------------------------------------------------------------

    def compile_decoder(self, logical_topic: str, compiler: Compiler) -> None:
        """Read the topic's messages written with its latest schema with ``compiler``'s decoder
        (older writer schemas are still resolved by fastavro)."""
        self._compilers[logical_topic] = compiler
        for key in [k for k in self._readers if k[0] == logical_topic]:
            del self._readers[key]

    def decode(self, logical_topic: str, data: bytes | None) -> dict[str, Any]:
        """The record in ``data``; raises InvalidMessage with the reason it cannot be read."""
        if data is None or len(data) < HEADER_SIZE or data[0] != MAGIC_BYTE:
            raise _not_framed(data)
        schema_id = int.from_bytes(data[1:HEADER_SIZE], "big")
        plan = self._readers.get((logical_topic, schema_id)) or self._reader(
            logical_topic, schema_id
        )
        buffer = io.BytesIO(data)
        buffer.seek(HEADER_SIZE)
        try:
            record = schemaless_reader(buffer, plan.writer, plan.reader)
        except Exception as exc:  # any failure of the Avro reader means bad bytes
            raise InvalidMessage(
                "undecodable", f"schema id {schema_id}: {type(exc).__name__}: {exc}"
            ) from exc
        if buffer.tell() != len(data):
            raise InvalidMessage(
                "undecodable",
                f"schema id {schema_id}: {len(data) - buffer.tell()} bytes left after the record",
            )
        if not isinstance(record, dict):
            raise InvalidMessage("undecodable", f"schema id {schema_id}: not a record")
        return record

    def decoder(
        self, logical_topic: str
    ) -> Callable[[Sequence[bytes | None]], list[dict[str, Any] | InvalidMessage]]:
        """``decode_many`` of one topic."""
        return functools.partial(self.decode_many, logical_topic)

    def decode_many(
        self, logical_topic: str, datas: Sequence[bytes | None]
    ) -> list[dict[str, Any] | InvalidMessage]:
        """Decode a batch; a bad message yields its InvalidMessage in its place."""
        out: list[dict[str, Any] | InvalidMessage] = []
        append = out.append
        readers = self._readers
        bytes_io = io.BytesIO
        for data in datas:
            if data is None or len(data) < HEADER_SIZE or data[0] != MAGIC_BYTE:
                append(_not_framed(data))
                continue
            schema_id = int.from_bytes(data[1:HEADER_SIZE], "big")
            plan = readers.get((logical_topic, schema_id))
            if plan is None:
                try:
                    plan = self._reader(logical_topic, schema_id)
                except InvalidMessage as invalid:
                    append(invalid)
                    continue
            if plan.compiled is not None:
                try:
                    append(plan.compiled(data))
                except Exception as exc:  # any failure of the decoder means bad bytes
                    bad = InvalidMessage(
                        "undecodable", f"schema id {schema_id}: {type(exc).__name__}: {exc}"
                    )
                    bad.__cause__ = exc
                    append(bad)
                continue
            buffer = bytes_io(data)
            buffer.seek(HEADER_SIZE)
            try:
                record = schemaless_reader(buffer, plan.writer, plan.reader)
            except Exception as exc:  # any failure of the Avro reader means bad bytes
                bad = InvalidMessage(
                    "undecodable", f"schema id {schema_id}: {type(exc).__name__}: {exc}"
                )
                bad.__cause__ = exc
                append(bad)
                continue
            if buffer.tell() != len(data):
                append(InvalidMessage(
                    "undecodable",
                    f"schema id {schema_id}: {len(data) - buffer.tell()} bytes left after "
                    "the record",
                ))
            elif not isinstance(record, dict):
                append(InvalidMessage("undecodable", f"schema id {schema_id}: not a record"))
            else:
                append(record)
        return out

    def _reader(self, logical_topic: str, schema_id: int) -> _Reader:
        """Decode plan for an id on a topic; raises InvalidMessage when there is none."""
        spec = self._spec(logical_topic)
        try:
            writer_schema = self._source.schema(schema_id)
        except Exception as exc:
            unavailable = _unavailable(exc, f"fetching schema id {schema_id}")
            if unavailable is None:
                raise
            raise unavailable from exc
        if writer_schema is None:
            raise InvalidMessage("unknown_schema", f"schema id {schema_id} is not registered")
        expected = spec.latest.full_name
        found = (
            record_full_name(writer_schema)
            if writer_schema.get("type") == "record" and "name" in writer_schema
            else str(writer_schema.get("type"))
        )
        if found != expected and found not in _aliases(spec.latest.schema):
            raise InvalidMessage(
                "wrong_schema",
                f"schema id {schema_id} is {found}; {logical_topic} carries {expected}",
            )
        latest_plain = self._latest_plain(spec)
        if writer_schema == spec.latest.schema:
            compiler = self._compilers.get(logical_topic)
            plan = _Reader(writer=latest_plain, reader=None,
                           compiled=None if compiler is None
                           else compiler(plain_logical_types(spec.latest.schema)))
        else:
            plan = _Reader(writer=parse_schema(plain_logical_types(writer_schema)),
                           reader=latest_plain)
        self._readers[(logical_topic, schema_id)] = plan
        return plan

    def _latest_plain(self, spec: TopicSpec) -> Any:
        cached = self._plain_latest.get(spec.name)
        if cached is None:
            cached = parse_schema(plain_logical_types(spec.latest.schema))
            self._plain_latest[spec.name] = cached
        return cached

    def _spec(self, logical_topic: str) -> TopicSpec:
        try:
            return self._topics[logical_topic]
        except KeyError:
            raise KeyError(f"{logical_topic!r} is not a topic of the contract") from None


def plain_logical_types(schema: Any) -> Any:
    """A copy of ``schema`` without the temporal logical types, so they decode as numbers."""
    if isinstance(schema, dict):
        return {
            key: plain_logical_types(value)
            for key, value in schema.items()
            if not (key == "logicalType" and value in _PLAIN_LOGICAL_TYPES)
        }
    if isinstance(schema, list):
        return [plain_logical_types(item) for item in schema]
    return schema


def _aliases(schema: Mapping[str, Any]) -> set[str]:
    namespace = schema.get("namespace")
    names: Iterable[str] = schema.get("aliases") or ()
    return {n if "." in n or not namespace else f"{namespace}.{n}" for n in names}


def _unavailable(exc: Exception, doing: str) -> Unavailable | None:
    """``exc`` as ``Unavailable`` when the registry could not answer: a network failure or
    timeout, or a status worth asking again (408, 429, 5xx); else None (and for an
    ``Unavailable`` already: it goes up as it is)."""
    if isinstance(exc, Unavailable):
        return None
    if isinstance(exc, SchemaRegistryError):
        status = exc.http_status_code
        if status not in _RETRYABLE_STATUS and not 500 <= status < 600:
            return None
        detail = f"{doing}: HTTP {status}: {exc.error_message}"
    elif isinstance(exc, _NETWORK_ERRORS):
        detail = f"{doing}: {type(exc).__name__}: {exc}"
    else:
        return None
    return Unavailable("schema_registry", detail)


def _not_framed(data: bytes | None) -> InvalidMessage:
    if data is None:
        detail = "no value (null message)"
    elif len(data) < HEADER_SIZE:
        detail = f"{len(data)} bytes, shorter than the {HEADER_SIZE}-byte header"
    else:
        detail = f"magic byte {data[0]}, expected {MAGIC_BYTE}"
    return InvalidMessage("not_framed", detail)


def _misfit(
    logical_topic: str, writer: _Writer, record: Mapping[str, Any], exc: Exception
) -> str:
    """A message naming the fields that do not fit, from fastavro's validator."""
    prefix = f"record does not fit {writer.name} of {logical_topic}"
    if not isinstance(record, Mapping):
        return f"{prefix}: expected a mapping, got {type(record).__name__}"
    try:
        validate(record, writer.schema, raise_errors=True)
    except ValidationError as invalid:
        return f"{prefix}: " + "; ".join(_describe(invalid.errors))
    except Exception:  # the validator itself choked; fall back to the writer's message
        pass
    return f"{prefix}: {exc}"


def _describe(errors: Iterable[Any]) -> list[str]:
    """One line per field from fastavro's errors (one error per union branch tried)."""
    expected: dict[str, list[str]] = {}
    got: dict[str, str] = {}
    for error in errors:
        datum, schema, field = (getattr(error, a, None) for a in ("datum", "schema", "field"))
        if field is None:
            expected.setdefault(str(error), [])
            continue
        name = str(field)
        got[name] = "missing or null" if datum is None else f"{datum!r} ({type(datum).__name__})"
        kind = schema.get("type") if isinstance(schema, dict) else schema
        if kind == "enum" and isinstance(schema, dict):
            kind = f"one of {schema.get('symbols')}"
        expected.setdefault(name, []).append(str(kind))
    return [
        f"field {name}: {got[name]}, expected {' or '.join(kinds)}" if name in got else name
        for name, kinds in expected.items()
    ]
