"""The workflows stage computed as the runtime computes it (``streams.kernel.stage.compute``),
without Kafka: rows for every decision, records for the actions to deliver, state carried
across batches, redelivery, the release timer, and the contract its rows and records keep."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.kernel.paths import SCHEMAS_DIR
from streams.kernel.records import Raw
from streams.kernel.stage import Changes, Computed, Value, compute
from streams.settings import Settings
from streams.workflows import contract as names
from streams.workflows import stage as wstage
from streams.workflows.records import ACTION_COLUMNS, RECORD_FIELDS
from tests.unit.workflows.helpers import CONSENTING, SEED, at, profile

POLICY = wstage.WorkflowStagePolicy(workflows=SEED, source_topic=names.CUSTOMER_PROFILES)
STAGE = wstage.stage(POLICY)
NOW = at("2026-03-05T12:00")


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


class Memory:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Value]] = {}

    def lookup(self, table: str, key: str) -> Value | None:
        return self.tables.get(table, {}).get(key)

    def apply(self, changes: Changes) -> None:
        for table, changed in changes.items():
            for key, (_, value) in changed.items():
                if value is None:
                    self.tables.get(table, {}).pop(key, None)
                else:
                    self.tables.setdefault(table, {})[key] = value


def raws_for(codec: AvroCodec, profiles: list[dict[str, Any]], first: int = 0,
             key: str | None = None) -> list[Raw]:
    return [Raw(names.CUSTOMER_PROFILES, 2, first + i, p["updated_at"],
                (key or p["person_id"]).encode(), codec.encode(names.CUSTOMER_PROFILES, p))
            for i, p in enumerate(profiles)]


def run(codec: AvroCodec, raws: list[Raw], memory: Memory) -> Computed:
    decoders = {names.CUSTOMER_PROFILES: codec.decoder(names.CUSTOMER_PROFILES)}
    inputs = {i.topic: i for i in STAGE.inputs}
    computed = compute(STAGE, raws, decoders, inputs, memory.lookup, lambda t: t + ".dlq", NOW)
    memory.apply(computed.outcome.changes)
    return computed


def test_a_batch_fires_audits_and_keeps_state_per_person(codec: AvroCodec) -> None:
    t = at("2026-03-02T10:00")
    memory = Memory()
    batch = [profile("p1", 1, t, scores={"lead_score": 40}),
             profile("p2", 1, t, stage="mql", attributes={"timezone": "UTC"}),
             profile("p1", 2, t + 1000, scores={"lead_score": 80}),
             profile("p3", 1, t, stage="customer", scores={"churn_risk": 90},
                     attributes={**CONSENTING, "opt_out": "email"})]
    computed = run(codec, raws_for(codec, batch), memory)
    assert not computed.dead and computed.outcome.result.processed == 4
    rows = computed.outcome.result.inserts[names.WORKFLOW_ACTIONS_TABLE]
    audit = sorted(zip(rows["subject_id"], rows["action_type"], rows["status"], rows["reason"],
                       rows["_offset"], strict=True))
    assert audit == [
        ("p1", "email", "fired", "trigger:lead_nurture", 2),
        ("p2", "chat", "fired", "trigger:mql_proactive_chat", 1),
        ("p3", "chat", "fired", "trigger:at_risk_retention", 3),
        ("p3", "crm_task", "fired", "trigger:at_risk_retention", 3),
        ("p3", "email", "suppressed", "opted_out:email", 3),
    ]
    outputs = computed.outcome.result.outputs
    assert sorted((o.key, o.value["action_type"]) for o in outputs) == [
        ("p1", "email"), ("p2", "chat"), ("p3", "chat"), ("p3", "crm_task")]
    chat = next(o for o in outputs if o.key == "p2")
    assert chat.topic == names.WORKFLOW_ACTIONS and chat.value["params"]["via"] == \
        "websocket_gateway"
    for record in outputs:  # every record encodes with the topic's schema
        codec.encode(names.WORKFLOW_ACTIONS, record.value)
    changed = computed.outcome.changes[wstage.STATES]
    assert {k: (p, v["offset"]) for k, (p, v) in changed.items() if v} == {
        "p1": (2, 2), "p2": (2, 1), "p3": (2, 3)}
    assert json.loads(json.dumps(memory.tables)) == memory.tables


def test_a_redelivered_batch_changes_nothing_and_fires_nothing(codec: AvroCodec) -> None:
    t = at("2026-03-02T10:00")
    memory = Memory()
    raws = raws_for(codec, [profile("p1", 1, t, scores={"lead_score": 90}),
                            profile("p2", 1, t, stage="mql")])
    first = run(codec, raws, memory)
    assert len(first.outcome.result.outputs) == 2
    again = run(codec, raws, memory)
    assert again.outcome.result.outputs == []
    assert again.outcome.result.inserts[names.WORKFLOW_ACTIONS_TABLE]["action_id"] == []
    assert not again.outcome.changes[wstage.STATES]


def test_the_timer_releases_deferred_actions_once(codec: AvroCodec) -> None:
    memory = Memory()
    late = at("2026-03-02T23:30")
    run(codec, raws_for(codec, [profile("p1", 1, late, scores={"lead_score": 90}, attributes={
        **CONSENTING, "timezone": "UTC", "quiet_hours": "22-07"})]), memory)
    entries = list(memory.tables[wstage.STATES].items())
    assert all(wstage.has_deferred(v) for _, v in entries)
    assert wstage.release_due(POLICY, entries, at("2026-03-03T06:59")).result.outputs == []
    ticked = wstage.release_due(POLICY, entries, at("2026-03-03T07:00"))
    [out] = ticked.result.outputs
    assert (out.key, out.value["status"], out.value["deliver_at"]) == (
        "p1", "released", at("2026-03-03T07:00"))
    rows = ticked.result.inserts[names.WORKFLOW_ACTIONS_TABLE]
    assert rows["_topic"] == [names.CUSTOMER_PROFILES] and rows["_offset"] == [0]
    memory.apply(ticked.changes)
    entries = list(memory.tables[wstage.STATES].items())
    assert not any(wstage.has_deferred(v) for _, v in entries)
    assert wstage.release_due(POLICY, entries, at("2026-03-03T08:00")).result.outputs == []


def test_a_profile_under_another_key_is_dead_lettered(codec: AvroCodec) -> None:
    t = at("2026-03-02T10:00")
    computed = run(codec, raws_for(codec, [profile("p1", 1, t)], key="p9"), Memory())
    assert [d.error for d in computed.dead] == ["invalid_field"]


def test_the_columns_match_the_ddl_and_the_records_match_the_schema() -> None:
    ddl = (SCHEMAS_DIR / "clickhouse" / "0040_workflow_actions.sql").read_text()
    body = ddl[ddl.index("(") + 1: ddl.index("ENGINE")]
    declared = {m.group(1) for m in re.finditer(r"^\s+(\w+)\s+\w", body, re.M)}
    assert declared - {"_ingested_at"} == set(ACTION_COLUMNS)
    assert len(set(ACTION_COLUMNS)) == len(ACTION_COLUMNS)
    schema = json.loads((SCHEMAS_DIR / "avro" / "workflow_action.v1.avsc").read_text())
    assert [f["name"] for f in schema["fields"]] == list(RECORD_FIELDS)
