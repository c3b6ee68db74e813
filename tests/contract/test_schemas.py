"""The contract as data: schemas parse, manifests hold together, examples decode, published
versions never change, and newer versions read older data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema

from streams import topics as topic_names
from streams.contract.codec import AvroCodec, LocalSchemas
from streams.contract.manifest import (
    ContractError,
    TopicSpec,
    backward_problems,
    lock_entries,
    lock_mismatches,
    read_topics,
    topic_config,
    update_lock,
)
from streams.contract.manifest import load_topics as load_contract
from streams.kernel.paths import SCHEMAS_DIR

AVSC_FILES = sorted((SCHEMAS_DIR / "avro").glob("*.avsc"))
TOPICS = load_contract()
STABLE_IDS = {
    "chat.events": 1,
    "ad.metrics": 2,
    "touchpoints": 3,
    "conversions": 4,
    "crm.profiles": 5,
    "conversation.insights": 6,
    "campaign.kpis": 7,
    "escalations": 8,
    "crm.tasks": 9,
    "lead.signals": 10,
    "identity.observations": 21,
    "customer.events": 22,
    "identity.links": 23,
    "customer.profiles": 24,
    "attribution.credits": 25,
    "recommendations": 40,
    "currency.rates": 41,
    "workflow.actions": 50,
    "audiences": 51,
    "customer.scores": 60,
    "anomalies": 42,
}
SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000


#: output topics that a stage of the pipeline also reads
CONSUMED_OUTPUTS = frozenset({topic_names.CONVERSATION_INSIGHTS, topic_names.CUSTOMER_PROFILES,
                              topic_names.CUSTOMER_SCORES, topic_names.WORKFLOW_ACTIONS})

def _fields(node: Any) -> list[tuple[str, dict[str, Any]]]:
    """(record name, field) of every record field, nested ones included."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") == "record":
            found.extend((str(node["name"]), f) for f in node["fields"])
        for value in node.values():
            found.extend(_fields(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_fields(value))
    return found


@pytest.mark.parametrize("path", AVSC_FILES, ids=lambda p: p.name)
def test_schema_parses_and_is_documented(path: Path) -> None:
    schema = json.loads(path.read_text())
    parse_schema(schema)
    assert schema["namespace"].startswith("io.touchstream.")
    assert schema.get("doc")
    for record, field in _fields(schema):
        assert field.get("doc"), f"{path.name}: {record}.{field['name']} has no doc"
        kind = field["type"]
        if isinstance(kind, list) and "null" in kind:
            assert kind[0] == "null" and "default" in field and field["default"] is None, (
                f"{path.name}: nullable {record}.{field['name']} must default to null"
            )


def test_every_schema_file_is_published_by_a_manifest() -> None:
    published = {v.path.resolve() for spec in TOPICS.values() for v in spec.versions}
    assert {p.resolve() for p in AVSC_FILES} == published


def test_manifests_cover_the_topics_of_the_code() -> None:
    assert set(TOPICS) == set(topic_names.INPUTS) | set(topic_names.OUTPUTS)


@pytest.mark.parametrize("name", sorted(TOPICS))
def test_manifest(name: str) -> None:
    spec = TOPICS[name]
    assert spec.subject == f"{name}-value"
    assert spec.compatibility == "BACKWARD"
    assert spec.versions[0].id == STABLE_IDS[name]
    assert all(v.id >= 100 for v in spec.versions[1:])
    assert all(v.path.is_file() for v in spec.versions)
    assert spec.partitions == 6
    assert spec.description and spec.key_type == "string" and spec.key_description
    assert spec.producers and spec.consumers
    compacted = name in (topic_names.CRM_PROFILES, topic_names.CONVERSATION_INSIGHTS,
                         topic_names.CUSTOMER_PROFILES)
    assert spec.cleanup_policy == ("compact" if compacted else "delete")
    if compacted:
        assert spec.retention_ms is None
        assert topic_config(spec) == {"cleanup.policy": "compact"}
    if name in topic_names.INPUTS:
        assert spec.dlq == topic_names.dlq(name)
        if not compacted:
            assert spec.retention_ms == SEVEN_DAYS_MS
            assert topic_config(spec) == {
                "cleanup.policy": "delete", "retention.ms": str(SEVEN_DAYS_MS)
            }
    elif name in CONSUMED_OUTPUTS:  # read by another stage: its bad records need a place too
        assert spec.dlq == topic_names.dlq(name)
    else:
        assert spec.dlq is None


def test_schema_ids_are_unique() -> None:
    ids = [v.id for spec in TOPICS.values() for v in spec.versions]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", sorted(TOPICS))
def test_examples_round_trip(name: str) -> None:
    spec = TOPICS[name]
    paths = spec.example_paths()
    assert 2 <= len(paths) <= 4, f"{name} needs 2-4 examples"
    codec = AvroCodec(LocalSchemas(TOPICS), TOPICS)
    for path in paths:
        example = json.loads(path.read_text())
        assert codec.decode(name, codec.encode(name, example)) == example, path.name


def test_lock_matches_the_schema_files() -> None:
    assert lock_mismatches() == []
    assert lock_entries() == json.loads((SCHEMAS_DIR / "avro/lock.json").read_text())["entries"]


@pytest.mark.parametrize("name", sorted(TOPICS))
def test_newer_versions_read_older_data(name: str) -> None:
    assert backward_problems(TOPICS[name]) == []


# --- the rules above, exercised on a temporary copy of schemas/ -----------------------------


@pytest.fixture
def schemas_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, copy, ignore=shutil.ignore_patterns("clickhouse"))
    return copy


def _specs(schemas_dir: Path) -> dict[str, TopicSpec]:
    return dict(read_topics(schemas_dir))


def _edit_schema(path: Path, edit: Any) -> None:
    schema = json.loads(path.read_text())
    edit(schema)
    path.write_text(json.dumps(schema, indent=2))


def test_lock_fails_when_a_published_schema_changes(schemas_copy: Path) -> None:
    avsc = schemas_copy / "avro/chat_event.v1.avsc"
    _edit_schema(avsc, lambda s: s["fields"][6].update(default=None, doc="Reworded."))
    assert lock_mismatches(schemas_copy) == []  # docs are free to change

    _edit_schema(avsc, lambda s: s["fields"].append(
        {"name": "tenant", "type": "string", "default": "", "doc": "Tenant."}))
    problems = lock_mismatches(schemas_copy)
    assert len(problems) == 1 and "chat.events-value v1 changed" in problems[0]
    with pytest.raises(ContractError, match="published schemas changed"):
        update_lock(schemas_copy)


def test_lock_fails_when_a_default_changes(schemas_copy: Path) -> None:
    # the canonical form drops defaults; the contract hash does not
    _edit_schema(
        schemas_copy / "avro/crm_profile.v1.avsc",
        lambda s: [f.update(default=True) for f in s["fields"] if f["name"] == "deleted"],
    )
    assert any("crm.profiles-value v1 changed" in p for p in lock_mismatches(schemas_copy))


def _add_version(schemas_dir: Path, field: dict[str, Any], schema_id: int = 100) -> TopicSpec:
    v1 = json.loads((schemas_dir / "avro/crm_profile.v1.avsc").read_text())
    v1["fields"].append(field)
    (schemas_dir / "avro/crm_profile.v2.avsc").write_text(json.dumps(v1, indent=2))
    manifest = schemas_dir / "topics/crm.profiles.yaml"
    manifest.write_text(manifest.read_text().replace(
        "      schema: avro/crm_profile.v1.avsc\n",
        "      schema: avro/crm_profile.v1.avsc\n"
        f"    - version: 2\n      id: {schema_id}\n      schema: avro/crm_profile.v2.avsc\n",
    ))
    return _specs(schemas_dir)["crm.profiles"]


def test_compatible_new_version(schemas_copy: Path) -> None:
    spec = _add_version(schemas_copy, {
        "name": "score", "type": ["null", "double"], "default": None, "doc": "Lead score."})
    assert [v.id for v in spec.versions] == [5, 100]
    assert backward_problems(spec) == []
    assert lock_mismatches(schemas_copy) == ["crm.profiles-value v2 is not in the lock yet"]
    added = update_lock(schemas_copy)
    assert [(e["subject"], e["version"], e["id"]) for e in added] == [
        ("crm.profiles-value", 2, 100)]
    assert lock_mismatches(schemas_copy) == []


def test_incompatible_new_version(schemas_copy: Path) -> None:
    spec = _add_version(schemas_copy, {"name": "score", "type": "double", "doc": "No default."})
    problems = backward_problems(spec)
    assert problems and "v2 cannot read v1 data" in problems[0]


def test_new_version_needs_an_evolved_id(schemas_copy: Path) -> None:
    with pytest.raises(ContractError, match="id >= 100"):
        _add_version(schemas_copy, {
            "name": "score", "type": ["null", "double"], "default": None, "doc": "Score."},
            schema_id=8)


def test_ids_must_be_unique_across_topics(schemas_copy: Path) -> None:
    manifest = schemas_copy / "topics/campaign.kpis.yaml"
    manifest.write_text(manifest.read_text().replace("id: 7", "id: 6"))
    with pytest.raises(ContractError, match="schema id 6 is used by both"):
        read_topics(schemas_copy)


def test_manifest_must_reference_existing_files(schemas_copy: Path) -> None:
    (schemas_copy / "avro/touchpoint.v1.avsc").unlink()
    with pytest.raises(ContractError, match="does not exist"):
        read_topics(schemas_copy)
