from __future__ import annotations

import json

from streams.conversation.effects import CancelFollowUp, LeadSignal, ScheduleFollowUp
from streams.conversation.escalation import HOUR
from streams.conversation.state import MessageSignals, expire, fold
from tests.unit.conversation.helpers import T0, Run, agent, bot, customer, event, says


def test_started_messages_handoff_ended() -> None:
    run = Run()
    run(event("STARTED", at=T0, metadata={"ltv": "250"}))
    run(customer("hi, where is my parcel", T0 + 1000), says(0.0, "complaint", 0.8))
    run(bot("Let me check.", T0 + 3500), MessageSignals(0.0))
    run(bot("It left the depot.", T0 + 4000), MessageSignals(0.0))
    run(event("HANDOFF", at=T0 + 5000))
    run(agent("Hello, I'm Sam.", T0 + 9000), MessageSignals(0.2))
    run(event("ENDED", at=T0 + 60_000, metadata={"resolution": "resolved"}))
    s = run.s
    assert (s["status"], s["resolution"], s["handoff"], s["handoffs"]) == (
        "ended", "resolved", True, 1)
    assert (s["events"], s["messages"], s["customer_messages"], s["bot_turns"],
            s["agent_turns"]) == (7, 4, 1, 2, 1)
    assert (s["started_at"], s["first_customer_at"], s["first_response_at"]) == (
        T0, T0 + 1000, T0 + 3500)
    assert s["first_response_ms"] == 2500
    assert (s["ended_at"], s["duration_ms"]) == (T0 + 60_000, 60_000)
    assert (s["bots"], s["agents"]) == (["bot-1"], ["agent-7"])
    assert (s["customer_id"], s["customer_value"], s["intent"]) == ("cus-1", 250.0, "complaint")
    assert s["identifiers"] == {"customer_id": "cus-1", "email": "a@example.com"}
    assert [m["role"] for m in s["recent"]] == ["customer", "bot", "bot", "agent"]
    assert run.effects == []


def test_first_response_needs_a_customer_message_first() -> None:
    run = Run()
    run(bot("Welcome! How can I help?", T0), MessageSignals(0.5))
    assert run.s["first_response_at"] is None
    run(customer("my invoice is wrong", T0 + 10_000), says(-0.1, "billing"))
    run(bot("Sorry to hear that.", T0 + 12_000), MessageSignals(0.0))
    assert run.s["first_response_ms"] == 2000


def test_redelivery_changes_nothing_and_fold_is_pure() -> None:
    run = Run()
    run(customer("I want to buy the pro plan", T0), says(0.3, "purchase_inquiry", 0.9))
    before = run.s
    snapshot = json.dumps(before, sort_keys=True)
    again, effects = fold(before, customer("I want to buy the pro plan", T0), 0, 0,
                          says(0.3, "purchase_inquiry", 0.9))
    assert again is before and effects == []
    after, _ = fold(before, customer("and two seats more", T0 + 1), 0, 5, says(0.2))
    assert json.dumps(before, sort_keys=True) == snapshot  # the input was not changed
    assert after["customer_messages"] == 2 and after["offset"] == 5
    # another partition's offsets are not compared
    moved, _ = fold(after, bot("ok", T0 + 2), 3, 1, None)
    assert moved["partition"] == 3 and moved["bot_turns"] == 1


def test_record_is_json_serialisable() -> None:
    run = Run()
    run(customer("cancel my subscription now", T0), says(-0.5, "cancellation", 0.9,
                                                         anger=0.4))
    run(bot("I didn't understand, could you rephrase?", T0 + 1), MessageSignals(0.0))
    state = run.s
    restored = json.loads(json.dumps(state))
    assert restored == state
    later, _ = fold(restored, customer("cancel it", T0 + 2), 0, 9, says(-0.5))
    assert later["customer_messages"] == 2


def test_inactivity_timeout_schedules_a_follow_up_and_the_customer_cancels_it() -> None:
    run = Run()
    run(customer("my app crashes on start", T0), says(-0.3, "technical_issue", 0.8))
    state = run.s
    same, effects = expire(state, T0 + 29 * 60_000, 30 * 60_000)
    assert same is state and effects == []
    timed_out, effects = expire(state, T0 + 31 * 60_000, 30 * 60_000)
    assert (timed_out["status"], timed_out["ended_at"], timed_out["resolution"]) == (
        "timed_out", T0, "unresolved")
    assert effects == [ScheduleFollowUp(
        task_id="conv-1:f" + str(T0), conversation_id="conv-1", due_at_ms=T0 + 24 * HOUR,
        reason="timed_out", created_at=T0, customer_id="cus-1", channel="WEB", language="en",
        team="technical", priority="P3", intent="technical_issue", last_sentiment=-0.3)]
    assert expire(timed_out, T0 + 99 * HOUR, 30 * 60_000) == (timed_out, [])
    back, effects = fold(timed_out, customer("still crashing", T0 + 2 * HOUR), 0, 7,
                         says(-0.4))
    assert effects == [CancelFollowUp("conv-1:f" + str(T0), "conv-1", "customer_returned")]
    assert (back["status"], back["ended_at"], back["follow_up_id"]) == ("open", None, None)


def test_ended_unresolved_schedules_a_follow_up_once() -> None:
    run = Run()
    run(customer("refund please, this is awful", T0), says(-0.6, "complaint", 0.7))
    run(bot("Here is our refund policy.", T0 + 1000), MessageSignals(0.0))
    effects = run(event("ENDED", at=T0 + 5000))
    assert run.s["resolution"] == "unresolved"  # inferred: ended negative
    assert [type(e) for e in effects] == [ScheduleFollowUp]
    assert run(event("ENDED", at=T0 + 6000)) == []  # one pending follow-up at a time


def test_ended_satisfied_is_resolved_without_follow_up() -> None:
    run = Run()
    run(customer("that fixed it, thank you!", T0), says(0.1, "other", 0.9, satisfaction=0.8))
    assert run(event("ENDED", at=T0 + 1000)) == []
    assert run.s["resolution"] == "resolved"
    stated = Run()
    stated(customer("thanks!", T0), says(0.6))
    stated(event("ENDED", at=T0 + 1, metadata={"resolution": "unresolved"}))
    assert stated.s["resolution"] == "unresolved" and stated.of(ScheduleFollowUp)


def test_no_customer_message_is_unknown() -> None:
    run = Run()
    run(event("STARTED", at=T0))
    run(event("ENDED", at=T0 + 1000))
    assert (run.s["resolution"], run.s["duration_ms"], run.effects) == ("unknown", 1000, [])


def test_lead_signal_once_per_conversation() -> None:
    run = Run()
    run(customer("how much is the business plan?", T0, customer_value="1200"),
        says(0.2, "pricing", 0.85))
    run(customer("and can I buy 10 seats?", T0 + 1), says(0.3, "purchase_inquiry", 0.9))
    run(customer("weak guess", T0 + 2), says(0.0, "pricing", 0.5))
    leads = run.of(LeadSignal)
    assert len(leads) == 1
    lead = leads[0]
    assert (lead.signal_id, lead.intent, lead.confidence, lead.customer_value) == (
        "conv-1:lead", "pricing", 0.85, 1200.0)
    low = Run()
    low(customer("maybe prices?", T0), says(0.0, "pricing", 0.5))
    assert low.of(LeadSignal) == []


def test_language_from_signals_fills_a_missing_tag() -> None:
    ev = customer("hola, necesito ayuda", T0)
    ev["language"] = None
    state, _ = fold(None, ev, 0, 0, MessageSignals(0.0, language="es"))
    assert state["language"] == "es"
