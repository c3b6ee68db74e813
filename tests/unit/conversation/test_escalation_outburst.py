"""A worsening mood read from the shape of a turn (``streams.conversation.outburst``): after
terse replies to the bot's suggestions, a long complaint (irony, resignation, what the
failure costs) is a worsening mood whatever its words, in five languages; a long question or
a first long message is none, nor is a complaint as long as the one before."""

from __future__ import annotations

import pytest

from streams.conversation.effects import Message
from streams.conversation.outburst import outburst, previous_customer_text
from tests.unit.conversation.helpers import escalated_at


def _m(role: str, text: str) -> Message:
    return Message(role=role, text=text, compound=None, at=0)


LONG = ("x" * 60 + " ") * 3  # 183 characters
RECENT = [_m("customer", "Did that."), _m("bot", "Please try again later."), _m("customer", LONG)]


def test_a_long_complaint_after_a_terse_reply_is_an_outburst() -> None:
    assert outburst(RECENT, 3, "complaint", None) == "sentiment_worsening"
    # a clearly negative message counts where the sentiment is trusted, whatever its intent
    assert outburst(RECENT, 3, "technical_issue", -0.6) == "sentiment_worsening"


@pytest.mark.parametrize(("recent", "window", "intent", "compound"), [
    (RECENT, 2, "complaint", None),  # the first two customer messages never fire
    (RECENT, 3, "purchase_inquiry", None),  # telling more about a question
    (RECENT, 3, "technical_issue", -0.1),  # mildly negative, not a complaint
    (RECENT, 3, "technical_issue", None),  # sentiment not trusted, not a complaint
    ([_m("customer", "x" * 100), _m("bot", "ok"), _m("customer", LONG)], 3, "complaint", None),
    ([_m("customer", "ok"), _m("bot", "ok"), _m("customer", "x" * 99)], 3, "complaint", None),
    ([_m("bot", "ok"), _m("customer", LONG)], 3, "complaint", None),  # nothing to compare
])
def test_no_outburst_without_its_shape(recent: list[Message], window: int, intent: str,
                                       compound: float | None) -> None:
    assert outburst(recent, window, intent, compound) is None


def test_a_message_read_partly_as_a_complaint_is_one() -> None:
    # irony or resignation about a fault: the model's top intent is the fault, a complaint
    # close behind; the shape of the turn then decides, as for a complaint
    half = {"technical_issue": 0.51, "complaint": 0.46, "account": 0.01}
    assert outburst(RECENT, 3, "technical_issue", None, scores=half) == "sentiment_worsening"
    assert outburst(RECENT, 3, "technical_issue", None) is None
    faint = {"technical_issue": 0.8, "complaint": 0.1, "account": 0.05}
    assert outburst(RECENT, 3, "technical_issue", None, scores=faint) is None
    # the shape still has to be there
    assert outburst(RECENT, 2, "technical_issue", None, scores=half) is None
    assert outburst(RECENT[-1:], 3, "technical_issue", None, scores=half) is None


#: long closing turns that ask nothing, in the words of no lexicon (a story of resignation)
TOLD = {
    "en": "Fine, I'll keep paying for it the way I pay for everything else on that bill, I "
          "stopped trying to understand the lines on it a long time ago, nobody ever explains.",
    "es": "Vale, lo seguiré pagando como pago todo lo demás de esa factura, hace tiempo que "
          "dejé de intentar entender cada línea, total, nadie me lo explica nunca.",
    "fr": "Bon, je continuerai à payer comme je paie tout le reste sur cette facture, j'ai "
          "arrêté depuis longtemps d'essayer de comprendre chaque ligne, personne n'explique.",
    "de": "Gut, dann zahle ich das eben weiter wie alles andere auf dieser Rechnung, ich habe "
          "längst aufgehört, jede Zeile verstehen zu wollen, erklärt wird sowieso nie etwas.",
    "pt": "Tudo bem, vou continuar a pagar como pago tudo o resto nessa fatura, há muito que "
          "deixei de tentar perceber cada linha, ninguém explica nada mesmo.",
}


@pytest.mark.parametrize("language", sorted(TOLD))
def test_a_long_turn_that_asks_nothing_after_three_is_an_outburst(language: str) -> None:
    recent = [_m("customer", "Ok."), _m("bot", "Anything else?"),
              _m("customer", TOLD[language])]
    assert outburst(recent, 4, "billing", None) == "sentiment_worsening"
    # not before the fourth customer message, nor when it asks something
    assert outburst(recent, 3, "billing", None) is None
    asking = [*recent[:-1], _m("customer", TOLD[language][:-1] + ", ¿o no?")]
    assert outburst(asking, 4, "billing", None) is None


def test_the_previous_customer_text_skips_the_bot() -> None:
    assert previous_customer_text(RECENT) == "Did that."
    assert previous_customer_text(RECENT[-1:]) is None


#: a problem stated, two terse replies to the bot's suggestions, then a long ironic complaint
#: about the service (no insult, no capitals, no lexicon word of despair)
WORN = {
    "en": ("Hi, my smart thermostat resets itself to 16 degrees every night.",
           "Did that. No change.", "Checked, the schedule is right.",
           "Wonderful. Three nights now in a cold flat with two small kids, and every evening "
           "your service tells me to restart it. I pay you every month for this. Really "
           "impressive customer care, keep it up, I'm sure someone will get round to it "
           "eventually."),
    "es": ("Hola, el termostato inteligente se pone solo a 16 grados cada noche.",
           "Hecho. Nada.", "Revisado, el horario está bien.",
           "Maravilloso. Tres noches ya en un piso frío con dos niños pequeños, y cada tarde la "
           "misma respuesta de vuestro servicio técnico. Pago cada mes y esto es lo que recibo "
           "a cambio. Un servicio de atención de diez, de verdad, seguro que alguien lo mira "
           "algún día."),
    "fr": ("Bonjour, mon thermostat connecté se remet à 16 degrés toutes les nuits.",
           "Fait. Rien.", "Vérifié, le programme est bon.",
           "Génial. Trois nuits de suite sans chauffage avec deux petits, et toujours la même "
           "réponse toute faite. Le service client chez vous, c'est vraiment quelque chose. Je "
           "suppose que quelqu'un finira par regarder mon dossier un de ces jours."),
    "de": ("Hallo, mein smartes Thermostat stellt sich jede Nacht auf 16 Grad zurück.",
           "Gemacht. Nichts.", "Geprüft, der Zeitplan stimmt.",
           "Wunderbar. Drei Nächte in einer kalten Wohnung mit zwei kleinen Kindern, und jeden "
           "Abend sagt mir Ihr Service, ich soll es neu starten. Ich zahle Ihnen jeden Monat "
           "Geld dafür. Ein beeindruckender Kundenservice, weiter so, irgendwann kümmert sich "
           "bestimmt jemand."),
    "pt": ("Olá, o meu termóstato inteligente volta sozinho aos 16 graus todas as noites.",
           "Feito. Nada.", "Verificado, o horário está certo.",
           "Maravilhoso. Três noites numa casa fria com duas crianças pequenas, e todas as "
           "noites o vosso serviço diz-me para o reiniciar. Pago-vos todos os meses por isto. "
           "Um atendimento impressionante, continuem assim, de certeza que alguém vai tratar "
           "disso um dia."),
}
BOT = ("b: Sorry to hear that. Please restart the device from its settings menu.",
       "b: Thanks. Please also check the schedule in the app.",
       "b: Thank you, I have logged this for our team.")


def _escalated_at(language: str, customer: tuple[str, ...]) -> tuple[int | None, object]:
    return escalated_at(language, customer, BOT, f"o-{language}")


@pytest.mark.parametrize("language", sorted(WORN))
def test_a_long_ironic_complaint_after_terse_replies_escalates(language: str) -> None:
    at, reasons = _escalated_at(language, WORN[language])
    assert at == 6 and reasons == ["sentiment_worsening"]


@pytest.mark.parametrize("language", sorted(WORN))
def test_the_same_complaint_as_a_first_message_does_not(language: str) -> None:
    """Read against nothing (the first customer message), the turn has no shape."""
    at, _ = _escalated_at(language, WORN[language][-1:])
    assert at is None


def test_a_long_calm_follow_up_question_does_not_escalate() -> None:
    at, _ = _escalated_at("en", (
        "Hi, does the premium plan include the energy reports?", "Yes.", "Great, thanks.",
        "One more thing before I upgrade: my partner also has an account on the same "
        "address, could we share one plan between the two thermostats, and would the "
        "reports then show both homes or only mine?"))
    assert at is None
