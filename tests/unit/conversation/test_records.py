from __future__ import annotations

from streams.contract.codec import AvroCodec, LocalSchemas
from streams.contract.manifest import load_topics
from streams.conversation import contract as names
from streams.conversation import records
from streams.conversation.effects import Escalate, LeadSignal, ScheduleFollowUp
from streams.conversation.state import MessageSignals
from tests.unit.conversation.helpers import T0, Run, bot, customer, event, says


def _run() -> Run:
    run = Run()
    run(event("STARTED", at=T0, metadata={"customer_value": "300"}))
    run(customer("how much is the team plan?", T0 + 1), says(0.1, "pricing", 0.9))
    run(bot("It is 20 per seat.", T0 + 2), MessageSignals(0.0))
    run(customer("that's a rip-off, I want a person", T0 + 3),
        says(-0.6, "human_request", 0.9, anger=0.5, human_request=True))
    run(event("ENDED", at=T0 + 4))
    return run


def test_records_encode_with_the_published_schemas() -> None:
    run = _run()
    out = records.records_for(run.effects)
    assert [r.topic for r in out] == [names.LEAD_SIGNALS, names.ESCALATIONS, names.CRM_TASKS]
    [schedule] = run.of(ScheduleFollowUp)
    out.append(records.follow_up_task(schedule))
    topics = load_topics()
    codec = AvroCodec(LocalSchemas(topics), topics)
    for record in out:
        assert codec.decode(record.topic, codec.encode(record.topic, record.value)) == (
            record.value)
    lead, escalation, task, follow_up = out
    assert lead.key == "cus-1" and escalation.key == task.key == "conv-1"
    assert task.value["task_type"] == "escalation"
    assert task.value["due_at"] == escalation.value["sla_deadline"]
    # a request for a person told with an insult ("rip-off"): both reasons
    assert task.value["title"] == "P2 escalation to sales: human_request, sentiment_worsening"
    assert "customer: that's a rip-off, I want a person" in task.value["description"]
    assert follow_up.value["task_type"] == "follow_up"
    assert follow_up.value["due_at"] == schedule.due_at_ms


def test_lead_key_falls_back_to_the_conversation() -> None:
    run = Run()
    ev = customer("I'd like to buy 3 licences", T0)
    ev["customer"] = {"customer_id": None, "email": None, "phone": None, "anonymous_id": None}
    run(ev, says(0.2, "purchase_inquiry", 0.8))
    [lead] = run.of(LeadSignal)
    assert records.lead_record(lead).key == "conv-1"


def test_columns_line_up() -> None:
    run = _run()
    escalations = run.of(Escalate)
    cols = records.escalation_columns(escalations)
    assert set(cols) == set(records.ESCALATION_COLUMNS)
    assert cols["escalation_id"] == ["conv-1:e1"] and cols["_offset"] == [3]
    state_cols = records.state_columns([run.s])
    assert state_cols["status"] == ["ended"] and state_cols["escalated"] == [True]
    assert state_cols["_version"] == [8]
    tasks = [r.value for r in records.records_for(escalations) if r.topic == names.CRM_TASKS]
    assert records.task_columns(tasks)["escalation_id"] == ["conv-1:e1"]
