"""How the conversation's intent, which routes it, is chosen from its customer messages."""

from __future__ import annotations

from streams.conversation.effects import Escalate
from streams.conversation.escalation import route
from streams.conversation.state import choose_intent
from streams.text.intent import IntentPrediction
from tests.unit.conversation.helpers import T0, Run, bot, customer, says


def p(intent: str, confidence: float) -> IntentPrediction:
    return IntentPrediction(intent, confidence, {intent: confidence})


def test_first_prediction_fills_the_gap() -> None:
    assert choose_intent(None, None, p("other", 0.3)) == ("other", 0.3)
    assert choose_intent(None, None, p("billing", 0.4)) == ("billing", 0.4)


def test_a_confident_specific_intent_is_settled() -> None:
    # the follow-up ("this is ridiculous") is more confident but not what it is about
    assert choose_intent("technical_issue", 0.6, p("complaint", 0.95)) == ("technical_issue", 0.6)
    assert choose_intent("billing", 0.5, p("human_request", 0.99)) == ("billing", 0.5)


def test_an_unsure_specific_intent_gives_way_to_a_surer_one_only() -> None:
    assert choose_intent("billing", 0.4, p("account", 0.7)) == ("account", 0.7)
    assert choose_intent("billing", 0.4, p("account", 0.3)) == ("billing", 0.4)
    assert choose_intent("billing", 0.4, p("other", 0.9)) == ("billing", 0.4)


def test_a_vague_intent_gives_way_to_any_specific_one() -> None:
    assert choose_intent("other", 0.9, p("refund", 0.3)) == ("refund", 0.3)
    assert choose_intent("other", 0.4, p("human_request", 0.8)) == ("human_request", 0.8)
    assert choose_intent("other", 0.8, p("other", 0.6)) == ("other", 0.8)


def test_a_request_for_a_person_after_a_greeting_says_more_than_the_greeting() -> None:
    # the greeting is surer, but a request for a person is the less vague of the two
    assert choose_intent("other", 0.99, p("human_request", 0.7)) == ("human_request", 0.7)
    # and a greeting after the request does not take it back
    assert choose_intent("human_request", 0.7, p("other", 0.99)) == ("human_request", 0.7)


def test_settled_by_an_escalation_keeps_whatever_it_was() -> None:
    assert choose_intent("other", 0.4, p("billing", 0.9), settled=True) == ("other", 0.4)
    assert choose_intent("billing", 0.3, p("account", 0.9), settled=True) == ("billing", 0.3)
    assert choose_intent(None, None, p("account", 0.9), settled=True) == ("account", 0.9)


def test_fold_keeps_the_opening_topic_through_angry_follow_ups() -> None:
    run = Run()
    run(customer("hi", T0), says(intent="other", confidence=0.8))
    run(customer("my order 12 is two weeks late", T0 + 1000),
        says(-0.4, intent="complaint", confidence=0.7))
    run(bot("Let me check.", T0 + 2000))
    run(customer("how much is the premium plan anyway", T0 + 3000),
        says(intent="pricing", confidence=0.9))
    assert run.s["intent"] == "complaint"


def test_the_team_of_an_escalation_does_not_flip_afterwards() -> None:
    run = Run()
    # unsure, and a request for a person: escalated to the team of what is known then
    run(customer("i need help with something, get me a person", T0),
        says(intent="billing", confidence=0.4, human_request=True))
    [escalation] = run.of(Escalate)
    assert (escalation.team, escalation.intent) == ("billing", "billing")
    run(customer("I can't log in to my account", T0 + 1000),
        says(intent="account", confidence=0.95))
    assert run.s["intent"] == "billing"
    assert route(run.s["intent"], "low") == escalation.team
