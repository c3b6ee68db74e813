"""The message contract: topic manifests in ``schemas/topics/`` loaded into frozen specs.

Each manifest names a topic's key, its value subject and the published Avro schema versions
(each with a stable id), its partitions, retention, dead-letter topic and examples. The
manifests are the source of truth for topic creation, for the local schema ids of the codec
and for the schema lock (``schemas/avro/lock.json``) that keeps published versions immutable.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint, to_parsing_canonical_form
from fastavro.utils import generate_many

from streams.kernel.paths import SCHEMAS_DIR

LOCK_FILE = "avro/lock.json"

Compatibility = Literal[
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
]
CleanupPolicy = Literal["delete", "compact", "compact,delete"]

_COMPATIBILITIES: frozenset[str] = frozenset(get_args(Compatibility))
_CLEANUP_POLICIES: frozenset[str] = frozenset(get_args(CleanupPolicy))

#: Ids below this belong to the first version of each topic; every later version takes an
#: id at or above it, so a new version never collides with a first version added later.
FIRST_EVOLVED_ID = 100


class ContractError(ValueError):
    """A manifest or schema file that breaks the contract's rules."""


@dataclass(frozen=True)
class SchemaVersion:
    """One published version of a value schema."""

    version: int
    id: int
    path: Path
    schema: dict[str, Any] = field(hash=False, repr=False)
    schema_str: str = field(hash=False, repr=False, compare=False)

    @property
    def full_name(self) -> str:
        """Full name of the record (``namespace.name``)."""
        return record_full_name(self.schema)

    @cached_property
    def canonical_form(self) -> str:
        """Avro Parsing Canonical Form: what decides the binary encoding."""
        return to_parsing_canonical_form(self.schema)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the Parsing Canonical Form, hex."""
        return fingerprint(self.canonical_form, "SHA-256")

    @cached_property
    def contract_sha256(self) -> str:
        """SHA-256 of the schema without docs: also covers defaults, aliases and logical
        types, which the canonical form leaves out but schema resolution depends on."""
        text = json.dumps(_without_docs(self.schema), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class TopicSpec:
    """A topic as its manifest declares it."""

    name: str
    description: str
    key_type: str
    key_description: str
    subject: str
    compatibility: Compatibility
    versions: tuple[SchemaVersion, ...]
    partitions: int
    cleanup_policy: CleanupPolicy
    retention_ms: int | None
    dlq: str | None
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    examples_glob: str
    root: Path = field(compare=False, repr=False)

    @property
    def latest(self) -> SchemaVersion:
        """The newest version: what producers write."""
        return self.versions[-1]

    def version(self, number: int) -> SchemaVersion:
        for candidate in self.versions:
            if candidate.version == number:
                return candidate
        raise KeyError(f"{self.subject} has no version {number}")

    def example_paths(self) -> list[Path]:
        """Example payloads (JSON, timestamps as epoch milliseconds), sorted by name."""
        return sorted(self.root.glob(self.examples_glob))


def record_full_name(schema: Mapping[str, Any]) -> str:
    name = str(schema["name"])
    namespace = schema.get("namespace")
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def load_topics(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, TopicSpec]:
    """Every topic manifest under ``schemas_dir/topics``, by logical topic name (cached:
    the files are read once per process)."""
    return dict(_cached_topics(schemas_dir.resolve()))


@lru_cache(maxsize=8)
def _cached_topics(schemas_dir: Path) -> tuple[tuple[str, TopicSpec], ...]:
    return read_topics(schemas_dir)


def read_topics(schemas_dir: Path = SCHEMAS_DIR) -> tuple[tuple[str, TopicSpec], ...]:
    """Read and check every manifest now (uncached), as (topic, spec) pairs."""
    schemas_dir = schemas_dir.resolve()
    manifests = sorted((schemas_dir / "topics").glob("*.yaml"))
    if not manifests:
        raise ContractError(f"no topic manifests in {schemas_dir / 'topics'}")
    specs = [load_manifest(path, schemas_dir) for path in manifests]
    seen: dict[int, str] = {}
    for spec in specs:
        for version in spec.versions:
            other = seen.setdefault(version.id, spec.subject)
            if other != spec.subject:
                raise ContractError(
                    f"schema id {version.id} is used by both {other} and {spec.subject}"
                )
    return tuple((spec.name, spec) for spec in specs)


def load_manifest(path: Path, schemas_dir: Path) -> TopicSpec:
    """One manifest; raises ContractError naming the file and the rule it breaks."""
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ContractError(f"{path}: a manifest is a mapping")
    try:
        return _spec_from_manifest(raw, path, schemas_dir)
    except (KeyError, TypeError) as exc:
        raise ContractError(f"{path}: missing or malformed entry {exc}") from exc


def _spec_from_manifest(raw: dict[str, Any], path: Path, schemas_dir: Path) -> TopicSpec:
    name = str(raw["topic"])
    if path.name != f"{name}.yaml":
        raise ContractError(f"{path}: file must be named {name}.yaml")
    value = raw["value"]
    subject = str(value["subject"])
    if subject != f"{name}-value":
        raise ContractError(f"{path}: subject must be {name}-value, not {subject}")
    compatibility = str(value["compatibility"])
    if compatibility not in _COMPATIBILITIES:
        raise ContractError(f"{path}: unknown compatibility {compatibility}")
    cleanup_policy = str(raw["cleanup_policy"])
    if cleanup_policy not in _CLEANUP_POLICIES:
        raise ContractError(f"{path}: unknown cleanup_policy {cleanup_policy}")
    retention = raw["retention_ms"]
    versions = tuple(_load_version(entry, path, schemas_dir) for entry in value["versions"])
    if not versions:
        raise ContractError(f"{path}: no schema versions")
    numbers = [v.version for v in versions]
    if numbers != list(range(1, len(versions) + 1)):
        raise ContractError(f"{path}: versions must be 1, 2, ... in order, got {numbers}")
    for later in versions[1:]:
        if later.id < FIRST_EVOLVED_ID:
            raise ContractError(
                f"{path}: version {later.version} must take an id >= {FIRST_EVOLVED_ID}"
            )
    if len({v.id for v in versions}) != len(versions):
        raise ContractError(f"{path}: schema ids repeat")
    names = {v.full_name for v in versions}
    if len(names) != 1:
        raise ContractError(f"{path}: versions name different records {sorted(names)}")
    dlq = raw["dlq"]
    key = raw["key"]
    return TopicSpec(
        name=name,
        description=str(raw["description"]).strip(),
        key_type=str(key["type"]),
        key_description=str(key.get("description", "")).strip(),
        subject=subject,
        compatibility=cast(Compatibility, compatibility),
        versions=versions,
        partitions=int(raw["partitions"]),
        cleanup_policy=cast(CleanupPolicy, cleanup_policy),
        retention_ms=None if retention is None else int(retention),
        dlq=None if dlq is None else str(dlq),
        producers=tuple(str(p) for p in raw.get("producers") or ()),
        consumers=tuple(str(c) for c in raw.get("consumers") or ()),
        examples_glob=str(raw["examples"]),
        root=schemas_dir,
    )


def _load_version(entry: Mapping[str, Any], manifest: Path, schemas_dir: Path) -> SchemaVersion:
    path = schemas_dir / str(entry["schema"])
    if not path.is_file():
        raise ContractError(f"{manifest}: schema file {path} does not exist")
    text = path.read_text().strip()
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: not JSON: {exc}") from exc
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise ContractError(f"{path}: a value schema is an Avro record")
    return SchemaVersion(
        version=int(entry["version"]), id=int(entry["id"]), path=path, schema=schema,
        schema_str=text,
    )


def _without_docs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_docs(v) for k, v in node.items() if k != "doc"}
    if isinstance(node, list):
        return [_without_docs(v) for v in node]
    return node


def topic_config(spec: TopicSpec) -> dict[str, str]:
    """Kafka topic configs for creating the topic. A compacted topic with no retention keeps
    every key's latest value for ever, so ``retention.ms`` is left to the broker default."""
    config: dict[str, str] = {"cleanup.policy": spec.cleanup_policy}
    if spec.retention_ms is not None:
        config["retention.ms"] = str(spec.retention_ms)
    return config


# --- compatibility -------------------------------------------------------------------------------


def backward_problems(spec: TopicSpec, samples: int = 64) -> list[str]:
    """Why a newer version of ``spec`` cannot read data written with an older one (BACKWARD).

    Exercises fastavro schema resolution: random records (seeded, so runs repeat) and the
    topic's examples are written with each older version and read with each newer one.
    """
    if spec.compatibility == "NONE" or len(spec.versions) < 2:
        return []
    problems: list[str] = []
    for i, older in enumerate(spec.versions[:-1]):
        writer = parse_schema(older.schema)
        records = [*_sample_records(older.schema, samples), *_examples(spec)]
        readers = spec.versions[i + 1 :]
        if spec.compatibility.startswith("BACKWARD") and not spec.compatibility.endswith(
            "TRANSITIVE"
        ):
            readers = readers[:1]
        for newer in readers:
            reader = parse_schema(newer.schema)
            for record in records:
                buffer = io.BytesIO()
                try:
                    schemaless_writer(buffer, writer, record)
                except (ValueError, TypeError):
                    continue  # an example of a newer version; not data the older one writes
                buffer.seek(0)
                try:
                    schemaless_reader(buffer, writer, reader)
                except Exception as exc:  # any failure is the finding
                    problems.append(
                        f"{spec.subject} v{newer.version} cannot read v{older.version} data: "
                        f"{type(exc).__name__}: {exc}"
                    )
                    break
    return problems


def _sample_records(schema: dict[str, Any], count: int) -> list[Any]:
    state = random.getstate()
    random.seed(0x70C4)  # generate_many draws from the global generator
    try:
        return list(generate_many(schema, count))
    finally:
        random.setstate(state)


def _examples(spec: TopicSpec) -> list[Any]:
    return [json.loads(path.read_text()) for path in spec.example_paths()]


# --- the schema lock ----------------------------------------------------------------------------


def lock_entries(topics: Iterable[TopicSpec] | None = None) -> list[dict[str, Any]]:
    """The lock entry of every (subject, version), computed from the schema files now."""
    specs = load_topics().values() if topics is None else topics
    entries = [
        {
            "subject": spec.subject,
            "version": version.version,
            "id": version.id,
            "schema": version.path.relative_to(spec.root).as_posix(),
            "full_name": version.full_name,
            "fingerprint_sha256": version.fingerprint,
            "contract_sha256": version.contract_sha256,
        }
        for spec in specs
        for version in spec.versions
    ]
    return sorted(entries, key=lambda e: (e["subject"], e["version"]))


def read_lock(schemas_dir: Path = SCHEMAS_DIR) -> list[dict[str, Any]]:
    path = schemas_dir / LOCK_FILE
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    return cast(list[dict[str, Any]], data["entries"])


def lock_mismatches(schemas_dir: Path = SCHEMAS_DIR) -> list[str]:
    """Published versions whose schema files no longer match the lock, and versions the
    lock does not cover yet; empty when the contract is intact."""
    specs = [spec for _, spec in read_topics(schemas_dir)]
    current = {(e["subject"], e["version"]): e for e in lock_entries(specs)}
    locked = {(e["subject"], e["version"]): e for e in read_lock(schemas_dir)}
    problems = []
    for key, entry in locked.items():
        now = current.get(key)
        if now is None:
            problems.append(f"{key[0]} v{key[1]} is locked but no longer in a manifest")
        elif now != entry:
            changed = sorted(k for k in entry if entry[k] != now.get(k))
            problems.append(f"{key[0]} v{key[1]} changed after publication: {changed}")
    problems.extend(
        f"{key[0]} v{key[1]} is not in the lock yet" for key in current if key not in locked
    )
    return problems


def update_lock(schemas_dir: Path = SCHEMAS_DIR) -> list[dict[str, Any]]:
    """Add lock entries for new versions; never rewrite a published one.

    Raises ContractError when a published version's file has changed: restore it and add a
    new version instead. Returns the entries added.
    """
    changed = [p for p in lock_mismatches(schemas_dir) if "not in the lock yet" not in p]
    if changed:
        raise ContractError("published schemas changed: " + "; ".join(changed))
    locked = read_lock(schemas_dir)
    known = {(e["subject"], e["version"]) for e in locked}
    added = [
        e for e in lock_entries(spec for _, spec in read_topics(schemas_dir))
        if (e["subject"], e["version"]) not in known
    ]
    if added:
        entries = sorted(locked + added, key=lambda e: (e["subject"], e["version"]))
        body = {
            "comment": "Published (subject, version) schemas. Do not edit: add a version and "
            "run `python -m streams.contract.manifest` to append its entry.",
            "entries": entries,
        }
        (schemas_dir / LOCK_FILE).write_text(json.dumps(body, indent=2) + "\n")
    return added


if __name__ == "__main__":
    for new in update_lock():
        print(f"locked {new['subject']} v{new['version']} (id {new['id']})")
