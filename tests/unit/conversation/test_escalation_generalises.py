"""Escalation beyond the English lexicons, through the replay (the code the worker runs): a
worsening mood read from the trajectory of the customer's messages in every language, bot
loops in every language, policy topics told without their usual key words, a cancellation
on a condition; and calm conversations in the same languages that must stay with the bot."""

from __future__ import annotations

import pytest

from streams.evaluation.guide_sets import (
    GuideConversation,
    conversation_report,
    plain_conversation,
)


def _conv(cid: str, language: str, turns: list[str], value: float = 100.0
          ) -> GuideConversation:
    return plain_conversation(language, turns, cid, value)


def _escalated_at(conversations: list[GuideConversation]) -> dict[str, int | None]:
    report = conversation_report(conversations)
    return {d["id"]: d["escalated_at_turn"] for d in report["details"]}


#: (language, turns, index of the turn that should escalate): the mood gets worse turn by
#: turn in words that are sentiment, not escalation cues
WORSENING = [
    ("es", ["c: Hola, el envío de mi pedido va con retraso.",
            "b: Lo siento, ¿me das el número de pedido?",
            "c: Es el 4411. Ya es el segundo retraso, qué decepción.",
            "b: Gracias, lo reviso.",
            "c: Sinceramente es pésimo, estoy muy molesto y decepcionado."], 4),
    ("fr", ["c: Bonjour, ma commande est en retard.",
            "b: Désolé, pouvez-vous me donner le numéro ?",
            "c: C'est la 4411. Franchement c'est décevant.",
            "b: Merci, je regarde.",
            "c: C'est vraiment lamentable, je suis très déçu et agacé."], 4),
    ("de", ["c: Hallo, meine Bestellung ist verspätet.",
            "b: Das tut mir leid, wie lautet die Bestellnummer?",
            "c: 4411. Das ist jetzt schon ärgerlich.",
            "b: Danke, ich sehe nach.",
            "c: Wirklich furchtbar, ich bin sehr enttäuscht und genervt."], 4),
    ("pt", ["c: Oi, meu pedido está atrasado.",
            "b: Sinto muito, qual o número do pedido?",
            "c: É o 4411. Já estou chateado com isso.",
            "b: Obrigado, vou verificar.",
            "c: Sinceramente é péssimo, estou muito irritado e decepcionado."], 4),
]


@pytest.mark.parametrize(("language", "turns", "at"), WORSENING,
                         ids=[w[0] for w in WORSENING])
def test_worsening_mood_escalates_in_every_language(language: str, turns: list[str],
                                                     at: int) -> None:
    got = _escalated_at([_conv(f"w-{language}", language, turns)])
    assert got[f"w-{language}"] == at


CALM = [
    ("es", ["c: Hola, ¿cuándo llega mi pedido 4411?", "b: Llega el jueves.",
            "c: Perfecto, muchas gracias."]),
    ("fr", ["c: Bonjour, quand arrive ma commande 4411 ?", "b: Elle arrive jeudi.",
            "c: Parfait, merci beaucoup."]),
    ("de", ["c: Hallo, wann kommt meine Bestellung 4411?", "b: Sie kommt am Donnerstag.",
            "c: Super, danke schön."]),
    ("pt", ["c: Oi, quando chega meu pedido 4411?", "b: Chega na quinta.",
            "c: Ótimo, muito obrigado."]),
]


@pytest.mark.parametrize(("language", "turns"), CALM, ids=[c[0] for c in CALM])
def test_a_calm_conversation_stays_with_the_bot(language: str, turns: list[str]) -> None:
    assert _escalated_at([_conv(f"c-{language}", language, turns)]) == {f"c-{language}": None}


#: the customer says the answer missed their point, the bot answers the same again
LOOPS = [
    ("en", "c: How do I move my number to a new SIM?", "b: You can find our plans at our shop.",
     "c: That's not my question, I asked about moving my number."),
    ("es", "c: ¿Cómo paso mi número a una SIM nueva?", "b: Puedes ver nuestras tarifas en la tienda.",
     "c: Eso no tiene nada que ver, te pregunto por mi número."),
    ("fr", "c: Comment transférer mon numéro sur une nouvelle SIM ?",
     "b: Vous trouverez nos forfaits en boutique.",
     "c: Rien à voir, ma question porte sur mon numéro."),
    ("de", "c: Wie übertrage ich meine Nummer auf eine neue SIM?",
     "b: Unsere Tarife finden Sie im Shop.",
     "c: Das ist nicht das, was ich gefragt habe. Es geht um meine Nummer."),
    ("pt", "c: Como passo meu número para um chip novo?", "b: Você encontra nossos planos na loja.",
     "c: Não é isso que eu perguntei, quero saber do meu número."),
]


@pytest.mark.parametrize(("language", "first", "answer", "missed"), LOOPS,
                         ids=[loop[0] for loop in LOOPS])
def test_bot_repeating_an_answer_that_missed_the_point_escalates(
        language: str, first: str, answer: str, missed: str) -> None:
    turns = [first, answer, missed, answer]
    got = _escalated_at([_conv(f"l-{language}", language, turns)])
    # the bot's repeated answer (turn 3) is the loop; the customer's complaint alone is not
    assert got[f"l-{language}"] == 3


@pytest.mark.parametrize(("language", "text"), [
    ("en", "Someone changed my password without my permission."),
    ("es", "Me ha llegado un código que no he pedido, alguien intenta entrar."),
    ("fr", "Mon adresse e-mail a été modifiée sans mon accord."),
    ("de", "Mein Passwort wurde ohne meine Zustimmung geändert."),
    ("pt", "Trocaram o e-mail da minha conta sem minha autorização."),
])
def test_an_account_change_the_customer_did_not_make_is_a_security_incident(
        language: str, text: str) -> None:
    got = _escalated_at([_conv("s", language, ["c: " + text])])
    assert got == {"s": 0}


@pytest.mark.parametrize(("language", "text", "escalate"), [
    ("en", "Unless the outage is fixed today, I'm cancelling my contract.", True),
    ("en", "Please cancel my contract at the end of the month.", False),
    ("es", "A menos que lo arregléis hoy, cancelo el contrato.", True),
    ("es", "Quiero cancelar el contrato a final de mes.", False),
    ("de", "Es sei denn, Sie beheben das heute, dann kündige ich den Vertrag.", True),
    ("pt", "A não ser que resolvam hoje, vou cancelar o contrato.", True),
    ("pt", "Quero cancelar o contrato no fim do mês.", False),
])
def test_a_cancellation_on_a_condition_is_a_threat(language: str, text: str,
                                                   escalate: bool) -> None:
    got = _escalated_at([_conv("t", language, ["c: " + text])])
    assert (got["t"] == 0) is escalate
