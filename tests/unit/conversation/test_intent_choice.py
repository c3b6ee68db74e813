"""How the conversation's intent, which routes it, is chosen from its customer messages."""

from __future__ import annotations

from dataclasses import replace

from streams.conversation.customer_turn import later_topic
from streams.conversation.effects import Escalate
from streams.conversation.escalation import DEFAULT_POLICY, conversation_team, route
from streams.conversation.state import MessageSignals, choose_intent
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


def _with(signals: MessageSignals, *cues: str, scores: dict[str, float] | None = None
          ) -> MessageSignals:
    prediction = signals.intent
    assert prediction is not None
    read = IntentPrediction(prediction.intent, prediction.confidence,
                            scores or dict(prediction.scores))
    return replace(signals, intent=read, cues=frozenset(cues))


def test_a_security_incident_supersedes_the_opening_question() -> None:
    # "how do I change the daily card limit?", then "someone got into my app": the
    # conversation is about the incident, for the technical team (LABELS.md)
    run = Run()
    run(customer("how do I change my card limit", T0), says(intent="technical_issue",
                                                            confidence=0.9))
    run(bot("Open Settings.", T0 + 1000))
    run(customer("I can't get in, someone changed my email", T0 + 2000),
        _with(says(intent="account", confidence=0.7), "security"))
    assert run.s["intent"] == "account"
    assert run.s["topic"] == "technical"
    [escalation] = run.of(Escalate)
    assert (escalation.intent, escalation.team) == ("account", "technical")


def test_a_security_incident_needs_a_sure_account_reading_and_no_escalation_before() -> None:
    unsure = Run()
    unsure(customer("a question about my bill", T0), says(intent="billing", confidence=0.9))
    unsure(customer("a strange email about my account", T0 + 1000),
           _with(says(intent="account", confidence=0.4), "security"))
    assert unsure.s["intent"] == "billing"
    off = Run(replace(DEFAULT_POLICY, security_supersedes=False))
    off(customer("a question about my bill", T0), says(intent="billing", confidence=0.9))
    off(customer("someone logged in from abroad", T0 + 1000),
        _with(says(intent="account", confidence=0.9), "security"))
    assert off.s["intent"] == "billing"
    routed = Run()
    routed(customer("get me a person about my bill", T0),
           says(intent="billing", confidence=0.9, human_request=True))
    routed(customer("someone logged in from abroad", T0 + 1000),
           _with(says(intent="account", confidence=0.9), "security"))
    assert routed.s["intent"] == "billing"


def test_a_follow_up_names_a_topic_by_its_words_not_by_the_models_scores() -> None:
    late = IntentPrediction("complaint", 0.6, {"complaint": 0.6, "billing": 0.4})
    # "Third time this month.": the model's second guess is no topic
    assert later_topic(None, "complaint", late, frozenset()) is None
    assert later_topic("general", "complaint", late, frozenset()) == "general"
    # the words name one: it fills an open topic, never replaces a named one
    assert later_topic(None, "complaint", late, frozenset({"billing_topic"})) == "billing"
    assert later_topic("technical", "complaint", late,
                       frozenset({"billing_topic"})) == "technical"
    reads = replace(DEFAULT_POLICY, later_topic_scores=True, later_topic_by_conversation=())
    assert later_topic(None, "complaint", late, frozenset(), reads) == "billing"


def test_a_later_message_of_an_account_conversation_is_read_as_an_account_matter() -> None:
    # a complaint about an unanswered data request, with words of a bill in it, in an account
    # conversation: still general; a security incident: technical over any earlier topic
    angry = IntentPrediction("complaint", 0.9, {"complaint": 0.9, "billing": 0.5})
    assert later_topic("general", "account", angry, frozenset({"billing_topic"})) == "general"
    assert later_topic("billing", "account", angry, frozenset({"security"})) == "technical"
    assert later_topic("general", "account", angry, frozenset({"account_payment"})) == "billing"
    # as the message's own intent would read it (the rule before): the bill's team
    own = replace(DEFAULT_POLICY, later_topic_by_conversation=())
    assert later_topic("general", "account", angry, frozenset({"billing_topic"}),
                       own) == "billing"


def test_the_team_follows_the_topic_the_conversation_settled_on() -> None:
    run = Run()
    run(customer("my prescription was not ready", T0), says(intent="complaint", confidence=0.9))
    run(bot("Sorry to hear that.", T0 + 1000))
    run(customer("third time this month", T0 + 2000),
        _with(says(intent="complaint", confidence=0.6),
              scores={"complaint": 0.6, "billing": 0.4}))
    assert conversation_team(run.s, "low") == "general"
