"""A request for a person is the message's intent whichever way it is asked (LABELS.md,
labelling rule 1): the cues the escalation rules read for it (someone asked to get in touch,
a call back) set the intent as the emotion detector's reading does, in five languages; a
person the message is about is no request for one."""

from __future__ import annotations

import pytest

from streams.conversation.intelligence import signals_for
from streams.evaluation.guide_sets import GuideMessage, message_report
from streams.text.cues import found
from streams.text.sentiment import score_texts


def _intent(text: str) -> str:
    event = {"event_type": "MESSAGE", "sender_role": "CUSTOMER", "text": text}
    signal = signals_for([event], score_texts([text]))[0]
    assert signal is not None and signal.intent is not None and signal.cues is not None
    return signal.intent.intent


ASKED = [
    ("en", "We are renewing our fleet contract next year, I would like someone to get in "
           "touch with me about the options."),
    ("es", "Vamos a renovar el contrato de la flota y quisiera que alguien de su empresa se "
           "pusiera en contacto conmigo."),
    ("fr", "Nous renouvelons le contrat de la flotte l'an prochain, merci de prendre "
           "contact avec moi pour en parler."),
    ("de", "Wir verlängern nächstes Jahr den Flottenvertrag, bitte kontaktieren Sie mich "
           "dazu, am besten jemand, der sich bei mir meldet."),
    ("pt", "Vamos renovar o contrato da frota no próximo ano e gostaria que alguém entrasse "
           "em contacto comigo."),
]


@pytest.mark.parametrize(("language", "text"), ASKED, ids=[a[0] for a in ASKED])
def test_someone_asked_to_get_in_touch_is_a_request_for_a_person(language: str,
                                                                 text: str) -> None:
    assert _intent(text) == "human_request"
    report = message_report([GuideMessage(text, language, "human_request", "general", True,
                                          "formal")])
    assert report["escalation"]["recall"] == 1.0


@pytest.mark.parametrize("text", [
    "The adviser I spoke to on the phone was rude and hung up on me.",
    "El asesor con el que hablé fue muy borde y me colgó.",
    "Le conseiller que j'ai eu au téléphone a été impoli.",
    "Der Berater am Telefon war unhöflich und hat aufgelegt.",
])
def test_a_person_the_message_is_about_is_no_request(text: str) -> None:
    assert _intent(text) != "human_request"


@pytest.mark.parametrize("text", [
    "Please don't contact me again about offers.", "No me contacten más con ofertas.",
    "Merci de ne plus me contacter.", "Kontaktieren Sie mich nicht mehr.",
    "Não me contactem mais com promoções.",
])
def test_asking_not_to_be_contacted_is_no_request_for_a_person(text: str) -> None:
    assert "person" not in found(text)


@pytest.mark.parametrize(("text", "asked"), [
    ("I would appreciate a call from your sales team about the renewal.", True),
    ("Solicito que me contacten para ampliar el contrato.", True),
    ("Je souhaiterais être contacté par votre service commercial.", True),
    ("Ich bitte um einen Anruf Ihrer Vertriebsabteilung.", True),
    ("Solicito que me contactem para alargar o contrato.", True),
    ("Can you send an engineer? The boiler is dead.", True),
    ("The technician was very kind, thanks.", False),
    ("El técnico fue muy amable.", False),
    ("Le technicien a été très gentil.", False),
    ("Der Techniker war sehr freundlich.", False),
    ("O técnico foi muito atencioso.", False),
])
def test_a_call_or_a_technician_asked_for_is_a_request_for_a_person(text: str,
                                                                    asked: bool) -> None:
    assert ("person" in found(text)) is asked
