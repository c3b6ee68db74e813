"""A grievance that persists (``streams.conversation.outburst.persisting``): a customer who
has complained in two of their messages and, after the bot's third answer, replies without
asking anything has stopped asking: a worsening mood read from the model's scores of their
own messages, not from their words, in five languages. A complaint the customer says is
settled, a question, a message before the fourth, or a reply that is not to the bot is none."""

from __future__ import annotations

from dataclasses import replace

import pytest

from streams.conversation.effects import Message
from streams.conversation.escalation import DEFAULT_POLICY
from streams.conversation.outburst import grieved, persisting
from tests.unit.conversation.helpers import escalated_at


def _m(role: str, text: str) -> Message:
    return Message(role=role, text=text, compound=None, at=0)


RECENT = [_m("customer", "It still happens."), _m("bot", "I have noted it."),
          _m("customer", "Right. I'll manage.")]


def test_a_reply_that_asks_nothing_after_two_grievances_persists() -> None:
    assert persisting(RECENT, 4, 2, 0, 0.0) == "sentiment_worsening"
    # the last grievance may be the message before this one
    assert persisting(RECENT, 4, 2, 1, 0.0) == "sentiment_worsening"


@pytest.mark.parametrize(("recent", "window", "grievances", "since", "satisfaction"), [
    (RECENT, 3, 2, 0, 0.0),  # before the fourth customer message of the window
    (RECENT, 4, 1, 0, 0.0),  # one grievance is a complaint, not a worsening mood
    (RECENT, 4, 2, 2, 0.0),  # the last grievance two messages back: it has passed
    (RECENT, 4, 2, 0, 0.8),  # a content customer
    ([*RECENT[:-1], _m("customer", "Right. Can you check again?")], 4, 2, 0, 0.0),  # asks
    ([_m("customer", "It still happens."), _m("customer", "Right.")], 4, 2, 0, 0.0),
    ([_m("customer", "Right.")], 4, 2, 0, 0.0),
])
def test_no_persisting_grievance_without_its_shape(recent: list[Message], window: int,
                                                   grievances: int, since: int,
                                                   satisfaction: float) -> None:
    assert persisting(recent, window, grievances, since, satisfaction) is None


def test_a_grievance_is_a_complaint_or_frustration_the_model_reads_clearly() -> None:
    at = DEFAULT_POLICY.grievance_score
    assert grieved({"technical_issue": 0.5, "complaint": at}, 0.0)
    assert grieved(None, at)
    # a complaint read faintly (the top intent at a low score) is not held
    assert not grieved({"complaint": at - 0.05, "billing": 0.3}, 0.0)
    assert not grieved({"billing": 0.9, "complaint": 0.05}, at - 0.05)


#: a fault stated, two calm replies to the bot that the model reads as complaints, then a
#: short resigned reply that asks nothing (no insult, no capitals, no lexicon word)
WORN = {
    "en": ("My broadband drops every evening around eight and has done for a fortnight.",
           # weary, as in the other languages: a calm fault report alone is technical_issue
           "Done that, several times. It still cuts out every evening, same as before, and "
           "I'm getting tired of it.",
           "It cut out twice yesterday as well, right in the middle of a work call.",
           "Right. I'll sort something out myself then."),
    "es": ("La fibra se me corta todas las tardes hacia las ocho desde hace dos semanas.",
           "Hecho, varias veces. Sigue fallando cada tarde y ya me estoy cansando.",
           "Ayer se cortó dos veces más, justo en medio de una llamada de trabajo.",
           "Ya. Me apañaré yo sola entonces."),
    "fr": ("Ma connexion fibre coupe tous les soirs vers huit heures depuis quinze jours.",
           "C'est fait, plusieurs fois. Ça coupe toujours tous les soirs, comme avant.",
           "Ça a encore coupé deux fois hier, en plein milieu d'un appel de travail.",
           "Bon. Je vais me débrouiller toute seule alors."),
    "de": ("Mein Internet bricht seit zwei Wochen jeden Abend gegen acht Uhr ab.",
           "Schon gemacht, mehrmals. Es bricht immer noch jeden Abend ab, genau wie vorher.",
           "Gestern ist es wieder zweimal abgebrochen, mitten in einem Arbeitsanruf.",
           "Na gut. Dann kümmere ich mich eben selbst darum."),
    "pt": ("A minha internet vai-se abaixo todas as noites por volta das oito há duas semanas.",
           "Já reiniciei, várias vezes. Todas as noites volta a acontecer, que chatice.",
           "Ontem caiu mais duas vezes, mesmo a meio de uma chamada de trabalho.",
           "Pois. Eu trato disso sozinha, então."),
}
BOT = ("b: Sorry about that. Please unplug the router for a minute and plug it back in.",
       "b: Thank you. Our records show no fault in your area.",
       "b: I have passed your comments on. Is there anything else?")


#: the rule alone: the learnt discontent (``outburst.sinking``) reads these weary turns too
#: and escalates some a message earlier (``test_escalation_sinking``)
ALONE = replace(DEFAULT_POLICY, discontent_level=2.0)


def _escalated_at(language: str, customer: tuple[str, ...]) -> tuple[int | None, object]:
    return escalated_at(language, customer, BOT, f"g-{language}", ALONE)


@pytest.mark.parametrize("language", sorted(WORN))
def test_a_resigned_reply_after_two_grievances_escalates(language: str) -> None:
    assert _escalated_at(language, WORN[language]) == (6, ["sentiment_worsening"])


@pytest.mark.parametrize("language", sorted(WORN))
def test_the_same_reply_with_a_question_does_not(language: str) -> None:
    asking = (*WORN[language][:-1], WORN[language][-1].rstrip(".") + "?")
    assert _escalated_at(language, asking) == (None, None)
