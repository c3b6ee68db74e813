"""Bot loops read with the learnt "not helped" signal (``streams.text.unhelped``), through the
replay: a reply that pushes back and that the signal reads as "it did not help", with no word
of the ``not_helped`` cue, then a bot answer about another subject, is a bot loop at that
answer; with the signal off (``unhelped_level`` above 1) it is none, nor after a curt reply
that names no subject ("nope, nothing"), and a pushback the signal does not read so ("no
thanks, that's all") followed by a closing answer stays with the bot. The texts were written
for this test."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from streams.conversation.escalation import DEFAULT_POLICY
from streams.evaluation.guide_sets import conversation_report, plain_conversation
from streams.text import cues, unhelped

OFF = replace(DEFAULT_POLICY, unhelped_level=2.0)

#: (language, question, answer, a reply that says it missed without the cue's words, an
#: answer about something else)
STRAYED = [
    ("en", "c: Can I add a second driver to my rental RX-4410 for the weekend?",
     "b: Extra drivers can be added in Manage booking > Drivers.",
     "c: No, I asked about a second driver, not about the booking page.",
     "b: Our premium cover protects you from scratches and dents, get it today."),
    ("es", "c: ¿Puedo añadir un segundo conductor al alquiler RX-4410 este fin de semana?",
     "b: Puedes gestionar la reserva desde la web.",
     "c: No, te pregunto por un segundo conductor, no por la reserva.",
     "b: Nuestro seguro premium cubre arañazos y golpes, pídelo ya."),
    ("fr", "c: Je peux ajouter un deuxième conducteur à ma location RX-4410 ce week-end ?",
     "b: Vous pouvez gérer votre réservation depuis le site.",
     "c: Non, je demandais un deuxième conducteur, pas la réservation.",
     "b: Notre assurance premium couvre rayures et bosses, profitez-en maintenant."),
    ("de", "c: Kann ich zu meiner Miete RX-4410 am Wochenende einen zweiten Fahrer eintragen?",
     "b: Ihre Buchung verwalten Sie auf der Webseite.",
     "c: Nein, ich habe nach einem zweiten Fahrer gefragt, nicht nach der Buchung.",
     "b: Unser Premiumschutz deckt Kratzer und Dellen ab, jetzt abschließen."),
    ("pt", "c: Posso incluir um segundo motorista no aluguel RX-4410 neste fim de semana?",
     "b: Você pode gerenciar a reserva pelo site.",
     "c: Não, perguntei sobre um segundo motorista, não sobre a reserva.",
     "b: Nosso seguro premium cobre arranhões e amassados, contrate agora."),
]


def _detail(language: str, turns: list[str], policy: Any = DEFAULT_POLICY) -> dict[str, Any]:
    detail: dict[str, Any] = conversation_report([plain_conversation(language, turns)],
                                                 policy=policy)["details"][0]
    return detail


@pytest.mark.parametrize(("language", "question", "answer", "reply", "strayed"), STRAYED)
def test_an_answer_about_something_else_after_a_learnt_not_helped_is_a_loop(
        language: str, question: str, answer: str, reply: str, strayed: str) -> None:
    text = reply[3:]
    # the reply holds none of the cue's words: the signal alone reads it
    assert "not_helped" not in cues.found(text)
    assert unhelped.scores([text])[0] >= DEFAULT_POLICY.unhelped_level
    turns = [question, answer, reply, strayed]
    on = _detail(language, turns)
    assert on["escalated_at_turn"] == 3 and "bot_failure_loop" in on["reasons"]
    off = _detail(language, turns, OFF)
    assert "bot_failure_loop" not in (off["reasons"] or [])


def test_a_polite_no_then_a_closing_answer_stays_with_the_bot() -> None:
    turns = ["c: Can I add a second driver to my rental RX-4410 for the weekend?",
             "b: Yes, extra drivers can be added in Manage booking > Drivers.",
             "c: No thanks, that's all I needed, it worked.",
             "b: Enjoy your weekend trip and drive safely!"]
    assert unhelped.scores([turns[2][3:]])[0] < DEFAULT_POLICY.unhelped_level
    assert _detail("en", turns)["escalated_at_turn"] is None


def test_a_curt_reply_leaves_no_subject_and_a_follow_up_after_it_is_no_loop() -> None:
    # read as "not helped", but a reply of fewer than three content words says nothing to
    # tell the bot's next suggestion from another subject
    turns = ["c: My smart plug switches itself off every night at midnight.",
             "b: Please restart the plug from the app settings.",
             "c: Nope, nothing.",
             "b: Then check that no timer is set in the schedule tab."]
    assert unhelped.scores([turns[2][3:]])[0] >= DEFAULT_POLICY.unhelped_level
    assert "bot_failure_loop" not in (_detail("en", turns)["reasons"] or [])
