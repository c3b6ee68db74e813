from __future__ import annotations

from dataclasses import replace

import pytest

from streams.conversation import escalation as rules
from streams.conversation import journey as j
from streams.conversation.effects import Escalate
from streams.conversation.escalation import DEFAULT_POLICY, HOUR, MINUTE
from streams.conversation.state import MessageSignals
from streams.text import cues
from streams.text.intent import load_taxonomy
from tests.unit.conversation.helpers import T0, Run, agent, bot, customer, event, says


def journey_of(values: list[float]) -> j.Journey:
    journey = j.empty()
    for i, value in enumerate(values):
        journey = j.add(journey, i, value)
    return journey


# --- the rules, one by one -------------------------------------------------------------------


def test_human_request() -> None:
    assert rules.human_request(True, None, None) == "human_request"
    assert rules.human_request(False, "human_request", 0.7) == "human_request"
    assert rules.human_request(False, "human_request", 0.6) is None  # the intent alone, unsure
    assert rules.human_request(False, "human_request", 0.3) is None
    assert rules.human_request(False, "billing", 0.99) is None


def test_sentiment_worsening() -> None:
    falling = journey_of([0.2, -0.1, -0.4])
    assert rules.sentiment_worsening(falling, 3) == "sentiment_worsening"
    assert rules.sentiment_worsening(falling, 2) is None  # too few in the window
    assert rules.sentiment_worsening(journey_of([0.9, 0.6, 0.3]), 3) is None  # still positive
    assert rules.sentiment_worsening(journey_of([-0.6, -0.7]), 2) == "sentiment_worsening"
    strict = replace(DEFAULT_POLICY, ewma_min_messages=3)
    assert rules.sentiment_worsening(journey_of([-0.6, -0.7]), 2, strict) is None
    assert rules.sentiment_worsening(journey_of([-0.6, -0.7, -0.6]), 3, strict) == (
        "sentiment_worsening")
    assert rules.sentiment_worsening(journey_of([-0.7]), 1) is None  # one bad message
    assert rules.sentiment_worsening(journey_of([-0.2, -0.2, -0.2]), 3) is None  # flat


def test_bot_failure_loop() -> None:
    assert rules.bot_failure_loop(3, 0, 0) == "bot_failure_loop"
    assert rules.bot_failure_loop(0, 2, 0) == "bot_failure_loop"
    assert rules.bot_failure_loop(0, 0, 2) == "bot_failure_loop"
    assert rules.bot_failure_loop(0, 1, 1) is None
    assert rules.bot_failure_loop(2, 0, 0) == "bot_failure_loop"
    assert rules.bot_failure_loop(1, 0, 0) is None  # asked once more: not a loop yet
    assert rules.bot_failure_loop(1, 1, 0) is None  # one failure, rephrased after
    assert rules.bot_failure_loop(2, 1, 0) == "bot_failure_loop"


@pytest.mark.parametrize("text", [
    "Sorry, I didn't understand that.", "Could you please rephrase?",
    "Lo siento, no entendí tu pregunta.", "¿Podrías reformular?",
    "Désolé, je n'ai pas compris.", "Pouvez-vous reformuler ?",
    "Das habe ich leider nicht verstanden.", "Kannst du das anders formulieren?",
    "Desculpe, não entendi.", "Pode reformular a pergunta?",
])
def test_fallback_phrases(text: str) -> None:
    assert rules.is_fallback(text)


def test_not_fallback() -> None:
    assert not rules.is_fallback("I understand, let me check your order.")


def test_repeat_detection_by_jaccard() -> None:
    a = rules.tokens("My order has not arrived yet")
    b = rules.tokens("my order has NOT arrived yet!")
    c = rules.tokens("where is my order")
    assert rules.jaccard(a, b) == 1.0
    assert rules.jaccard(a, c) < 0.8
    assert rules.jaccard([], []) == 0.0


def test_vip_negative() -> None:
    assert rules.vip_negative("high", -0.3) == "vip_negative"
    assert rules.vip_negative("high", -0.2) is None
    assert rules.vip_negative("medium", -0.9) is None
    assert rules.vip_negative("high", None) is None
    assert rules.vip_negative("high", 0.0, frustration=0.6) == "vip_negative"
    assert rules.vip_negative("high", 0.0, anger=0.4) == "vip_negative"
    assert rules.vip_negative("medium", 0.0, frustration=0.9, anger=0.9) is None
    assert [rules.value_tier(v) for v in (None, 10.0, 200.0, 999.0, 1000.0)] == [
        "low", "low", "medium", "medium", "high"]


@pytest.mark.parametrize("text", [
    "I'm calling my lawyer", "I will sue you", "we'll take legal action",
    "hablaré con mi abogado", "je vais contacter mon avocat", "mein Anwalt meldet sich",
    "vou falar com meu advogado", "I will take you to court",
])
def test_legal_threat(text: str) -> None:
    assert rules.legal_threat(text)
    assert rules.policy_topic(True) == "policy_topic"


def test_policy_topic_is_legal_regulators_security_and_overdue_data_requests() -> None:
    # LABELS.md: "legal threats, regulator complaints, security incidents, fraud, overdue
    # data-protection requests" -- and a calm refund or cancellation is none of them
    for text in ("I'm reporting you to consumer protection", "Voy a denunciaros a la OCU",
                 "je vais porter plainte auprès de la DGCCRF",
                 "Ich beschwere mich bei der Verbraucherzentrale", "vou reclamar no Procon",
                 "someone hacked my account", "me han hackeado la cuenta",
                 "mon compte a été piraté", "mein Konto wurde gehackt", "minha conta foi invadida",
                 "I asked for my personal data to be deleted under GDPR weeks ago"):
        assert rules.policy_topic(False, cues.found(text)) == "policy_topic", text
    for text in ("I want a refund", "please cancel my subscription",
                 "Please delete my personal data under GDPR",
                 "our legal team needs to review the contract before we buy"):
        assert rules.policy_topic(False, cues.found(text)) is None, text


def test_low_intent_confidence() -> None:
    assert rules.low_intent_confidence(2, 0.35) == "low_intent_confidence"
    assert rules.low_intent_confidence(1, 0.1) is None
    assert rules.low_intent_confidence(3, 0.4) is None
    assert rules.low_intent_confidence(3, None) is None


def test_low_intent_confidence_ignores_fallback_intents() -> None:
    run = Run()
    run(customer("hi, it's about the thing", T0), says(0.0, "other", 0.9))
    run(bot("What is it about?", T0 + 1), MessageSignals(0.0))
    run(customer("it happened again", T0 + 2), says(0.0, "other", 0.95))
    assert [e.reasons for e in run.of(Escalate)] == [("low_intent_confidence",)]
    clear = Run()
    clear(customer("my invoice is wrong", T0), says(0.0, "billing", 0.9))
    clear(customer("thanks", T0 + 1), says(0.5, "other", 0.9))
    assert clear.of(Escalate) == []


# --- routing, priority, SLA ------------------------------------------------------------------


@pytest.mark.parametrize(("intent", "tier", "team"), [
    # "cancellation: retention, whatever the customer's value"
    ("cancellation", "high", "retention"), ("cancellation", "medium", "retention"),
    ("cancellation", "low", "retention"),
    # "Customer value sets priority and SLA, not the team"
    ("complaint", "high", "general"), ("complaint", "low", "general"),
    ("purchase_inquiry", "low", "sales"), ("purchase_inquiry", "high", "sales"),
    ("pricing", "high", "sales"), ("refund", "low", "billing"), ("refund", "high", "billing"),
    ("billing", "medium", "billing"), ("technical_issue", "low", "technical"),
    ("account", "high", "general"), ("human_request", "high", "general"),
    ("other", "low", "general"), (None, "high", "general"), ("brand_new_intent", "low", "general"),
])
def test_routing_policy(intent: str | None, tier: str, team: str) -> None:
    assert rules.route(intent, tier) == team


@pytest.mark.parametrize(("intent", "text", "team"), [
    # account: general; payment method or billing contact on file -> billing; login,
    # password, 2FA, lockout, hacked account -> technical
    ("account", "How do I change the email address on my profile?", "general"),
    ("account", "Please delete all my personal data", "general"),
    ("account", "I can't log in, the password is rejected", "technical"),
    ("account", "No recibo el código 2FA y no puedo iniciar sesión", "technical"),
    ("account", "Mon compte a été piraté", "technical"),
    ("account", "Mein Konto ist gesperrt", "technical"),
    ("account", "Please update the credit card you have on file", "billing"),
    ("account", "Quero trocar o cartão cadastrado", "billing"),
    ("account", "Change our billing contact to finance@example.com", "billing"),
    # complaint: the team of the underlying topic when clear, else general; support staff,
    # wait times, delivery, marketing emails or the bot -> general
    ("complaint", "Your support agent was rude to me", "general"),
    ("complaint", "I waited 40 minutes on hold", "general"),
    ("complaint", "The parcel arrived late and damaged", "general"),
    ("complaint", "Stop sending me marketing emails every day", "general"),
    ("complaint", "Your invoices are always wrong, I'm fed up", "billing"),
    ("complaint", "The new app update is terrible quality", "technical"),
    ("complaint", "I'm very unhappy", "general"),
    # human_request: the team of the topic the customer states, else general
    ("human_request", "I need a human to look at my invoice", "billing"),
    ("human_request", "Put me through to a technician, the app crashes", "technical"),
    ("human_request", "Let me speak to a manager", "general"),
])
def test_the_topic_decides_account_complaint_and_human_request(intent: str, text: str,
                                                              team: str) -> None:
    topic = rules.message_topic(intent, cues.found(text))
    for tier in ("low", "high"):
        assert rules.route(intent, tier, topic=topic) == team, text


def test_a_complaint_without_a_topic_cue_takes_the_task_the_model_read_in_it() -> None:
    # LABELS.md: a complaint goes to the team of its underlying topic when it is clear; an
    # angry fault report read half as the fault is the fault's
    bug = {"complaint": 0.55, "technical_issue": 0.4, "account": 0.02}
    assert rules.message_topic("complaint", frozenset(), bug) == "technical"
    money = {"complaint": 0.5, "refund": 0.35, "billing": 0.1}
    assert rules.message_topic("complaint", frozenset(), money) == "billing"
    # a faint second reading is no topic, and an order question is a delivery: general
    faint = {"complaint": 0.8, "technical_issue": 0.15, "billing": 0.05}
    assert rules.message_topic("complaint", frozenset(), faint) is None
    order = {"complaint": 0.5, "purchase_inquiry": 0.45, "other": 0.02}
    assert rules.message_topic("complaint", frozenset(), order) is None
    assert rules.route("complaint", "low", topic=rules.message_topic(
        "complaint", frozenset(), order)) == "general"


def test_routing_policy_is_configurable() -> None:
    by_value = replace(DEFAULT_POLICY, value_routes={("cancellation", "low"): "billing"})
    assert rules.route("cancellation", "low", by_value) == "billing"
    assert rules.route("cancellation", "high", by_value) == "retention"
    support = replace(DEFAULT_POLICY, team_hints={**DEFAULT_POLICY.team_hints,
                                                  "complaint": "nonexistent"})
    assert rules.route("complaint", "low", support) == "general"  # only known teams


@pytest.mark.parametrize(("intent", "text", "escalate"), [
    # rule 3: shouting, insults or accusations, exasperation, business-critical urgency
    ("billing", "YOU CHARGED ME THREE TIMES WITHOUT ASKING, FIX IT", True),
    ("billing", "This is theft, plain and simple.", True),
    ("technical_issue", "I'm fed up with this app.", True),
    ("technical_issue", "We're losing money every minute, the whole team can't work", True),
    ("technical_issue", "Esto es una basura, no funciona nada", True),
    ("technical_issue", "C'est lamentable, rien ne marche", True),
    ("technical_issue", "Das ist doch Schrott", True),
    ("technical_issue", "Que porcaria de aplicativo", True),
    # rule 4: a cancellation threat, or a cancellation from a visibly upset customer
    ("complaint", "Fix it by Friday or I'm cancelling", True),
    ("cancellation", "Ich kündige sofort und gehe zur Konkurrenz", True),
    # rule 5: a refund demanded with anger or an ultimatum
    ("refund", "Refund me immediately or else", True),
    ("refund", "REFUND ME NOW. Scammers.", True),
    # not on their own: calm cancellations and refunds, mild irritation or sarcasm, one
    # "not acceptable", polite or "formal" complaints
    ("cancellation", "Please cancel my subscription at the end of the month", False),
    ("refund", "When will I get my refund?", False),
    ("technical_issue", "Oh great, the search is broken again. Any idea when it'll work?", False),
    ("billing", "It's not acceptable that the invoice is late, can you send it?", False),
    ("complaint", "I'd like to make a formal complaint about the courier", False),
])
def test_one_message_strong_enough_for_a_person(intent: str, text: str,
                                                escalate: bool) -> None:
    found = cues.found(text)
    got = rules.upset_message(intent, found, cues.shouting(text), 0.0)
    assert (got == "sentiment_worsening") is escalate, text


def test_default_team_hints_are_the_taxonomy() -> None:
    assert rules.policy_for(load_taxonomy()).team_hints == rules.TAXONOMY_TEAMS


def test_severity_priority_and_sla() -> None:
    def calm(reasons: tuple[str, ...], legal: bool = False) -> str:
        return rules.severity(reasons, anger=0.0, urgency=0.0, frustration=0.0, compound=0.0,
                              legal=legal)

    assert calm(("low_intent_confidence",)) == "low"
    assert calm(("human_request",)) == "medium"
    assert rules.severity(("human_request",), anger=0.7, urgency=0.0, frustration=0.0,
                          compound=0.0, legal=False) == "high"
    assert rules.severity(("low_intent_confidence",), anger=0.0, urgency=0.0, frustration=0.0,
                          compound=-0.6, legal=False) == "high"
    assert calm(("policy_topic",), legal=True) == "high"
    assert [rules.priority(t, s) for t, s in [("high", "high"), ("high", "medium"),
                                                ("low", "high"), ("medium", "medium"),
                                                ("low", "low")]] == [
        "P1", "P2", "P2", "P3", "P4"]
    assert rules.priority("low", "low", legal=True) == "P1"
    assert [rules.sla_deadline(p, T0) - T0 for p in rules.PRIORITIES] == [
        15 * MINUTE, HOUR, 4 * HOUR, 24 * HOUR]
    quick = replace(DEFAULT_POLICY, sla_ms={**DEFAULT_POLICY.sla_ms, "P1": 5 * MINUTE})
    assert rules.sla_deadline("P1", T0, quick) == T0 + 5 * MINUTE


# --- rules inside the fold -------------------------------------------------------------------


def test_escalation_carries_routing_and_context() -> None:
    run = Run()
    run(event("STARTED", at=T0, metadata={"customer_value": "5000"}))
    run(customer("I want to cancel my plan", T0 + 1000), says(-0.1, "cancellation", 0.8))
    assert run.of(Escalate) == []  # a calm cancellation, even of a high-value customer
    run(customer("If you can't fix it I'm going to a competitor", T0 + 2000),
        says(-0.1, "cancellation", 0.8))
    [esc] = run.of(Escalate)
    assert (esc.escalation_id, esc.episode, esc.team, esc.priority) == (
        "conv-1:e1", 1, "retention", "P2")
    assert set(esc.reasons) == {"sentiment_worsening", "vip_negative"}
    assert esc.sla_deadline == T0 + 2000 + HOUR
    assert (esc.intent, esc.customer_value, esc.sentiment_path) == (
        "cancellation", 5000.0, (-0.1, -0.1))
    assert esc.recent[-1]["text"] == "If you can't fix it I'm going to a competitor"
    assert (esc.source_partition, esc.source_offset) == (0, 2)


def test_angry_vip_is_p1() -> None:
    run = Run()
    run(customer("this is a disgrace, fix my account NOW", T0, ltv="2500"),
        says(-0.7, "account", 0.9, anger=0.8, urgency=0.8))
    [esc] = run.of(Escalate)
    assert esc.reasons == ("sentiment_worsening", "vip_negative") and esc.priority == "P1"
    assert esc.team == "general" and esc.sla_deadline == T0 + 15 * MINUTE


def test_quiet_conversation_does_not_escalate() -> None:
    run = Run()
    run(customer("hi, what are your opening hours?", T0), says(0.0, "other", 0.8))
    run(bot("We are open 9 to 5.", T0 + 1), MessageSignals(0.0))
    run(customer("great, thanks", T0 + 2), says(0.6, "other", 0.9))
    assert run.of(Escalate) == []


def test_bot_fallbacks_escalate_on_the_second() -> None:
    run = Run()
    run(customer("my thing is broken", T0), says(-0.2, "technical_issue", 0.7))
    run(bot("Sorry, I didn't understand.", T0 + 1), MessageSignals(0.0))
    assert run.of(Escalate) == []
    run(bot("Could you rephrase that?", T0 + 2), MessageSignals(0.0))
    [esc] = run.of(Escalate)
    assert esc.reasons == ("bot_failure_loop",) and esc.team == "technical"


def test_customer_repeating_themselves_escalates() -> None:
    run = Run()
    run(customer("my order has not arrived yet", T0), says(-0.1, "complaint", 0.7))
    run(bot("Can I help with anything else?", T0 + 1), MessageSignals(0.0))
    run(customer("My order has NOT arrived yet", T0 + 2), says(-0.1, "complaint", 0.7))
    assert run.of(Escalate) == []  # once more is not a loop yet
    run(bot("Can I help with anything else?", T0 + 3), MessageSignals(0.0))
    run(customer("again: my order has not arrived yet", T0 + 4), says(-0.1, "complaint", 0.7))
    assert [e.reasons for e in run.of(Escalate)] == [("bot_failure_loop",)]


def test_one_failed_answer_the_customer_rephrases_after_is_no_loop() -> None:
    run = Run()
    run(customer("how do I export my invoices", T0), says(0.0, "technical_issue", 0.9))
    run(bot("Sorry, I didn't understand that.", T0 + 1), MessageSignals(0.0))
    run(customer("I said: how do I export my invoices", T0 + 2),
        says(0.0, "technical_issue", 0.9))
    run(bot("Go to Settings > Billing.", T0 + 3), MessageSignals(0.0))
    assert run.of(Escalate) == []
    run(customer("I said: how do I export my invoices", T0 + 4),
        says(0.0, "technical_issue", 0.9))
    assert [e.reasons for e in run.of(Escalate)] == [("bot_failure_loop",)]


def test_high_value_customer_frustrated_without_negative_words() -> None:
    run = Run()
    run(event("STARTED", at=T0, metadata={"customer_value": "4200"}))
    run(customer("where is my order?", T0 + 1), says(0.0, "purchase_inquiry", 0.9))
    assert run.of(Escalate) == []
    run(customer("I've already explained this twice.", T0 + 2),
        says(0.0, "purchase_inquiry", 0.9, frustration=0.6))
    [esc] = run.of(Escalate)
    assert esc.reasons == ("vip_negative",) and esc.team == "sales"


def test_handoff_event_never_escalates() -> None:
    run = Run()
    run(customer("where is my order?", T0), says(0.0, "purchase_inquiry", 0.9))
    run(event("HANDOFF", at=T0 + 1, metadata={"reason": "human_request"}))
    assert run.of(Escalate) == [] and run.s["escalation"]["phase"] == "with_human"


def test_confused_twice_and_low_confidence() -> None:
    confused = Run()
    confused(customer("what? I don't get it", T0), says(0.0, "other", 0.8, confusion=0.7))
    confused(customer("I'm lost, what does that mean", T0 + 1),
             says(0.0, "other", 0.8, confusion=0.7))
    # confused, and nothing but "other" said: the bot cannot tell what it is about either
    assert [e.reasons for e in confused.of(Escalate)] == [
        ("bot_failure_loop", "low_intent_confidence")]
    vague = Run()
    vague(customer("the thing with the stuff", T0), says(0.0, "complaint", 0.3))
    vague(customer("you know, that one", T0 + 1), says(0.0, "account", 0.35))
    assert [e.reasons for e in vague.of(Escalate)] == [("low_intent_confidence",)]


def test_one_escalation_per_episode_then_a_new_one_after_the_human_hands_back() -> None:
    run = Run()
    run(customer("let me talk to a human", T0), says(-0.2, "human_request", 0.9,
                                                     human_request=True))
    run(customer("HUMAN please, I'm calling my lawyer", T0 + 1),
        says(-0.5, "human_request", 0.9, human_request=True))
    assert len(run.of(Escalate)) == 1
    assert run.s["escalation"]["phase"] == "open" and run.s["escalation"]["suppressed"] == 1
    run(event("HANDOFF", at=T0 + 2))
    run(agent("Hi, Sam here. What happened?", T0 + 3), MessageSignals(0.0))
    run(customer("a human! I want a person", T0 + 4), says(-0.3, "human_request", 0.9,
                                                          human_request=True))
    assert len(run.of(Escalate)) == 1  # a human is on it
    assert run.s["status"] == "handoff"
    run(bot("I'm back: the agent solved your case.", T0 + 5), MessageSignals(0.3))
    assert (run.s["status"], run.s["escalation"]["phase"]) == ("open", "idle")
    run(customer("get me a person again", T0 + 6), says(-0.3, "human_request", 0.9,
                                                       human_request=True))
    escalations = run.of(Escalate)
    assert [e.escalation_id for e in escalations] == ["conv-1:e1", "conv-1:e2"]
    assert run.s["escalations"] == 2


def test_ended_conversation_closes_the_episode() -> None:
    run = Run()
    run(customer("I want a refund immediately or else", T0), says(-0.2, "refund", 0.9))
    assert len(run.of(Escalate)) == 1
    run(event("ENDED", at=T0 + 1))
    assert run.s["escalation"]["phase"] == "idle"
    assert run.s["resolution"] == "unresolved"  # escalated but nobody came
    run(customer("hello? refund me immediately, I'm sick of waiting", T0 + HOUR),
        says(-0.3, "refund", 0.9))
    assert len(run.of(Escalate)) == 2


# --- LABELS.md over a conversation -----------------------------------------------------------


def test_the_bot_repeating_itself_after_it_did_not_help_is_a_bot_loop() -> None:
    run = Run()
    run(customer("where is my refund for order 881?", T0), says(0.0, "refund", 0.9))
    run(bot("Refunds take 5 to 10 business days.", T0 + 1), MessageSignals(0.0))
    run(customer("That doesn't help, it has been three weeks.", T0 + 2),
        says(0.0, "refund", 0.9))
    assert run.of(Escalate) == []  # one answer that did not help is no loop yet
    run(bot("Refunds take 5 to 10 business days.", T0 + 3), MessageSignals(0.0))
    [esc] = run.of(Escalate)
    assert esc.reasons == ("bot_failure_loop",) and esc.source_offset == 3


def test_a_new_answer_after_it_did_not_help_is_no_loop() -> None:
    run = Run()
    run(customer("where is my refund for order 881?", T0), says(0.0, "refund", 0.9))
    run(bot("Refunds take 5 to 10 business days.", T0 + 1), MessageSignals(0.0))
    run(customer("That doesn't help, it has been three weeks.", T0 + 2),
        says(0.0, "refund", 0.9))
    run(bot("I see the refund was sent yesterday to your card ending 4421.", T0 + 3),
        MessageSignals(0.0))
    assert run.of(Escalate) == []


def test_a_complaint_goes_to_the_team_of_its_topic_and_a_calm_one_is_not_escalated() -> None:
    run = Run()
    run(event("STARTED", at=T0, metadata={"customer_value": "3000"}))
    run(customer("Your invoices are always wrong and it's tiring.", T0 + 1),
        says(-0.2, "complaint", 0.8))
    assert run.of(Escalate) == []  # a polite complaint, even from a high-value customer
    assert rules.conversation_team(run.s, "high") == "billing"
    run(customer("I want to talk to a person about it", T0 + 2),
        says(0.0, "human_request", 0.9, human_request=True))
    [esc] = run.of(Escalate)
    assert esc.reasons == ("human_request",) and esc.team == "billing"


def test_policy_topics_escalate_at_the_message_in_any_language() -> None:
    for text in ("Je vais porter plainte auprès de la DGCCRF.", "Me han hackeado la cuenta.",
                 "Ich werde rechtliche Schritte einleiten.", "Vou registrar no Procon."):
        run = Run()
        run(customer("Hello", T0), says(0.0, "other", 0.9))
        run(customer(text, T0 + 1), says(0.0, "complaint", 0.8))
        [esc] = run.of(Escalate)
        assert "policy_topic" in esc.reasons and esc.source_offset == 1, text
