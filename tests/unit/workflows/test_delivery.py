"""The delivery stage computed as the runtime computes it: each action performed once through
its target's wire format, re-delivered actions skipped, an unreachable target retried (never
dead-lettered), refusals and missing contacts audited as failed."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pytest

from streams.contract.codec import AvroCodec
from streams.kernel.errors import Unavailable
from streams.kernel.paths import SCHEMAS_DIR
from streams.kernel.records import Raw
from streams.kernel.stage import Computed, compute
from streams.settings import Settings
from streams.workflows import contract as names
from streams.workflows import delivery
from streams.workflows.delivery import AUDIENCE_COLUMNS, Request, Response, TargetUnavailable
from streams.workflows.fields import sha256_of
from tests.unit.workflows.helpers import at
from tests.unit.workflows.test_stage import Memory

NOW = at("2026-03-05T12:00")
T = at("2026-03-02T10:00")
ALL = delivery.DeliveryPolicy(targets=frozenset({"email", "chat"}))


class Targets:
    """Records what the stage asks of the outside targets; can be down or refuse."""

    def __init__(self) -> None:
        self.calls: list[Request] = []
        self.down = False
        self.refuse: set[str] = set()

    def perform(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for request in requests:
            self.calls.append(request)
            if self.down:
                raise TargetUnavailable(request.target, "connection refused")
            ok = request.action_id not in self.refuse
            out.append(Response(ok, f"ref-{len(self.calls)}" if ok else "HTTP 400: bad"))
        return out


def action(workflow: str, kind: str, subject: str = "p1", index: int = 0,
           **params: str) -> dict[str, Any]:
    key = f"{workflow}:{subject}:100"
    channel = {"crm_task": "crm", "audience": "ads", "campaign": "ads"}.get(kind, kind)
    return {"action_id": f"{key}:{index}", "idempotency_key": key, "workflow_id": workflow,
            "priority": 90, "subject_id": subject, "action_type": kind, "channel": channel,
            "params": params, "status": "fired", "reason": f"trigger:{workflow}",
            "trigger_event_id": f"profile:{subject}:3", "triggered_at": T, "deliver_at": T}


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec.from_settings(Settings())


def raws(codec: AvroCodec, actions: list[dict[str, Any]], first: int = 0) -> list[Raw]:
    return [Raw(names.WORKFLOW_ACTIONS, 4, first + i, T, a["subject_id"].encode(),
                codec.encode(names.WORKFLOW_ACTIONS, a)) for i, a in enumerate(actions)]


def run(codec: AvroCodec, batch: list[Raw], memory: Memory, targets: Targets,
        policy: delivery.DeliveryPolicy = ALL) -> Computed:
    stage = delivery.stage(policy, targets.perform)
    decoders = {names.WORKFLOW_ACTIONS: codec.decoder(names.WORKFLOW_ACTIONS)}
    computed = compute(stage, batch, decoders, {i.topic: i for i in stage.inputs},
                       memory.lookup, lambda t: t + ".dlq", NOW)
    memory.apply(computed.outcome.changes)
    return computed


def audit(computed: Computed) -> list[tuple[str, str, str]]:
    rows = computed.outcome.result.inserts[names.WORKFLOW_ACTIONS_TABLE]
    return sorted(zip(rows["action_type"], rows["status"], rows["reason"], strict=True))


RETENTION = [action("at_risk_retention", "email", index=0, template="retention_offer",
                    campaign="retention", to="ann@example.com"),
             action("at_risk_retention", "crm_task", index=1, team="customer_success",
                    title="Call an at-risk customer", due_in="2d"),
             action("at_risk_retention", "chat", index=2, message="retention_check_in",
                    team="customer_success"),
             action("lookalike_high_value", "audience", list="lookalike_seed_high_value",
                    operation="add", email_sha256=sha256_of("email", "ann@example.com"))]


def test_each_action_reaches_its_target_in_its_wire_format(codec: AvroCodec) -> None:
    targets, memory = Targets(), Memory()
    computed = run(codec, raws(codec, RETENTION), memory, targets)
    assert not computed.dead
    assert audit(computed) == [
        ("audience", "delivered", "audiences"), ("chat", "delivered", "chat:ref-2"),
        ("crm_task", "delivered", "crm.tasks"), ("email", "delivered", "email:ref-1")]
    email, chat = targets.calls
    assert email.target == "email" and email.action_id == RETENTION[0]["action_id"]
    assert email.body["personalizations"][0]["to"] == [{"email": "ann@example.com"}]
    assert email.body["template_id"] == "retention_offer"
    assert chat.body == {"type": "proactive", "message_id": RETENTION[2]["action_id"],
                         "person_id": "p1", "message": "retention_check_in",
                         "team": "customer_success", "workflow_id": "at_risk_retention"}
    task, member = computed.outcome.result.outputs
    assert (task.topic, task.key) == (names.CRM_TASKS, "p1")
    assert task.value["task_id"] == RETENTION[1]["action_id"]
    assert (task.value["team"], task.value["priority"], task.value["due_at"]) == (
        "customer_success", "P1", T + 2 * 86_400_000)
    assert (member.topic, member.value["audience"], member.value["operation"]) == (
        names.AUDIENCES, "lookalike_seed_high_value", "add")
    for record in (task, member):  # the records keep their topics' schemas
        codec.encode(record.topic, record.value)
    rows = computed.outcome.result.inserts[names.AUDIENCE_MEMBERS_TABLE]
    assert (rows["person_id"], rows["phone_sha256"], rows["_offset"]) == (["p1"], [""], [3])
    audit_rows = computed.outcome.result.inserts[names.WORKFLOW_ACTIONS_TABLE]
    assert set(audit_rows["_topic"]) == {names.WORKFLOW_ACTIONS}


def test_a_redelivered_action_is_not_performed_twice(codec: AvroCodec) -> None:
    targets, memory = Targets(), Memory()
    run(codec, raws(codec, RETENTION), memory, targets)
    # the same records again at later offsets (the producer resent them), twice in one batch
    again = run(codec, raws(codec, RETENTION + RETENTION, first=10), memory, targets)
    assert len(targets.calls) == 2  # still the first email and chat only
    assert again.outcome.result.outputs == []
    assert again.outcome.result.duplicates == 8
    assert again.outcome.result.inserts[names.WORKFLOW_ACTIONS_TABLE]["action_id"] == []
    # within one batch too
    fresh = Memory()
    once = run(codec, raws(codec, [RETENTION[1], RETENTION[1]]), fresh, Targets())
    assert len(once.outcome.result.outputs) == 1 and once.outcome.result.duplicates == 1


def test_an_unreachable_target_is_retried_never_dead_lettered(codec: AvroCodec) -> None:
    targets, memory = Targets(), Memory()
    targets.down = True
    batch = raws(codec, RETENTION)
    with pytest.raises(Unavailable):
        run(codec, batch, memory, targets)
    assert memory.tables == {}  # nothing changed: the runtime computes the batch again
    targets.down = False
    computed = run(codec, batch, memory, targets)
    assert not computed.dead and len(audit(computed)) == 4
    # the retried email went out under the same request id (the target dedupes on it)
    assert {c.action_id for c in targets.calls if c.target == "email"} == {
        RETENTION[0]["action_id"]}


def test_refusals_and_missing_contacts_fail_with_the_reason(codec: AvroCodec) -> None:
    targets = Targets()
    targets.refuse.add(RETENTION[0]["action_id"])
    batch = [RETENTION[0],
             action("lead_nurture", "email", subject="p2", template="t"),  # no address
             action("lookalike_high_value", "audience", subject="p3", list="seed"),  # no hash
             action("sms_nudge", "sms", subject="p4", to="+4915112345678")]
    computed = run(codec, raws(codec, batch), Memory(), targets)
    assert audit(computed) == [
        ("audience", "failed", "no_contact:ads"), ("email", "failed", "email:HTTP 400: bad"),
        ("email", "failed", "no_contact:email"), ("sms", "failed", "no_target:sms")]
    nothing = run(codec, raws(codec, RETENTION[:1]), Memory(), Targets(),
                  delivery.DeliveryPolicy())  # no outside target configured
    assert audit(nothing) == [("email", "failed", "no_target:email")]


def test_an_action_that_is_not_to_deliver_is_dead_lettered(codec: AvroCodec) -> None:
    deferred = {**RETENTION[1], "status": "deferred"}
    wrong_key = raws(codec, [RETENTION[1]])[0]
    wrong_key = Raw(wrong_key.topic, 4, 1, T, b"p9", wrong_key.value)
    computed = run(codec, [*raws(codec, [deferred]), wrong_key], Memory(), Targets())
    assert [d.error for d in computed.dead] == ["invalid_field", "invalid_field"]


def test_the_audience_columns_match_the_ddl() -> None:
    ddl = (SCHEMAS_DIR / "clickhouse" / "0041_audience_members.sql").read_text()
    body = ddl[ddl.index("(") + 1: ddl.index("ENGINE")]
    declared = {m.group(1) for m in re.finditer(r"^\s+(\w+)\s+\w", body, re.M)}
    assert declared - {"_ingested_at"} == set(AUDIENCE_COLUMNS)
    schema = json.loads((SCHEMAS_DIR / "avro" / "audience_change.v1.avsc").read_text())
    assert [f["name"] for f in schema["fields"]] == list(AUDIENCE_COLUMNS[:8])
