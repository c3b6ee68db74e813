"""Conversation-level reasons through the replay, in five languages, in the forms the first
rules missed: a mood that declines into stress or discouragement without an angry word; a
data-protection request that is "still" not done in a later message; card details given
through a link. And the calm neighbours: "still" in the message that asks for the data."""

from __future__ import annotations

from typing import Any

import pytest

from streams.evaluation.guide_sets import conversation_report, plain_conversation


def _detail(language: str, turns: list[str]) -> dict[str, Any]:
    detail: dict[str, Any] = conversation_report([plain_conversation(language, turns)])[
        "details"][0]
    return detail


#: a calm question, a neutral follow-up, then stress and discouragement: no insult, no capital
STRESSED = [
    ("en", ["c: Hi, when will the new charger I ordered be sent?",
            "b: It should leave the warehouse this week.",
            "c: OK, my order number is 5521.",
            "b: Thanks, I have passed it on.",
            "c: Nobody has come back to me since. I'm getting really stressed and "
            "disheartened, I need it for work."]),
    ("es", ["c: Hola, ¿cuándo enviáis el cargador nuevo que pedí?",
            "b: Debería salir del almacén esta semana.",
            "c: Vale, mi número de pedido es 5521.",
            "b: Gracias, lo he trasladado.",
            "c: Desde entonces nadie me contesta. Estoy muy estresado y desanimado, lo "
            "necesito para trabajar."]),
    ("fr", ["c: Bonjour, quand le nouveau chargeur commandé sera-t-il expédié ?",
            "b: Il devrait quitter l'entrepôt cette semaine.",
            "c: D'accord, mon numéro de commande est 5521.",
            "b: Merci, je l'ai transmis.",
            "c: Depuis, personne ne revient vers moi. Je suis stressé et découragé, j'en ai "
            "besoin pour travailler."]),
    ("de", ["c: Hallo, wann wird das neue Ladegerät verschickt, das ich bestellt habe?",
            "b: Es sollte diese Woche das Lager verlassen.",
            "c: Gut, meine Bestellnummer ist 5521.",
            "b: Danke, ich habe es weitergegeben.",
            "c: Seitdem meldet sich niemand. Ich bin gestresst und entmutigt, ich brauche es "
            "für die Arbeit."]),
    ("pt", ["c: Olá, quando é que enviam o carregador novo que encomendei?",
            "b: Deve sair do armazém esta semana.",
            "c: Está bem, o número da encomenda é 5521.",
            "b: Obrigado, já encaminhei.",
            "c: Desde então ninguém me responde. Estou estressado e desanimado, preciso dele "
            "para trabalhar."]),
]


@pytest.mark.parametrize(("language", "turns"), STRESSED, ids=[s[0] for s in STRESSED])
def test_a_mood_declining_into_stress_escalates_at_its_low_point(
        language: str, turns: list[str]) -> None:
    detail = _detail(language, turns)
    assert detail["escalated_at_turn"] == 4
    assert detail["reasons"] == ["sentiment_worsening"]


#: a data-protection request, then "still" in a later message
STILL = [
    ("en", "c: I asked you to erase my personal data in January.",
     "c: My profile is still there and the newsletters still come."),
    ("es", "c: Pedí en enero que borrarais mis datos personales.",
     "c: Mi perfil sigue activo y todavía me llegan boletines."),
    ("fr", "c: J'ai demandé en janvier l'effacement de mes données personnelles.",
     "c: Mon profil est encore là et je reçois encore la lettre d'information."),
    ("de", "c: Ich habe im Januar die Löschung meiner personenbezogenen Daten verlangt.",
     "c: Mein Profil ist nach wie vor aktiv und der Newsletter kommt weiterhin."),
    ("pt", "c: Pedi em janeiro que apagassem os meus dados pessoais.",
     "c: O meu perfil ainda existe e continuo a receber a newsletter."),
]


@pytest.mark.parametrize(("language", "asked", "still"), STILL, ids=[s[0] for s in STILL])
def test_a_data_request_still_not_done_later_is_a_policy_topic(
        language: str, asked: str, still: str) -> None:
    detail = _detail(language, [asked, "b: Requests are handled within a month.", still])
    assert detail["escalated_at_turn"] == 2
    assert detail["reasons"] == ["policy_topic"]


def test_still_in_the_message_that_asks_is_no_overdue_request() -> None:
    detail = _detail("en", ["c: Is it still possible to get a copy of my personal data?"])
    assert "policy_topic" not in (detail["reasons"] or [])


@pytest.mark.parametrize(("language", "text"), [
    ("en", "I clicked the link in that text and typed in my card number, was that you?"),
    ("es", "Pinché en el enlace del mensaje y metí el número de tarjeta, ¿erais vosotros?"),
    ("fr", "J'ai cliqué sur le lien du SMS et donné mon numéro de carte, c'était vous ?"),
    ("de", "Ich habe auf den Link in der SMS geklickt und die Kartennummer eingegeben."),
    ("pt", "Cliquei no link da mensagem e pus o número do cartão, eram vocês?"),
])
def test_card_details_given_through_a_link_are_a_policy_topic(language: str,
                                                              text: str) -> None:
    detail = _detail(language, ["c: " + text])
    assert detail["escalated_at_turn"] == 0
    assert "policy_topic" in detail["reasons"]
