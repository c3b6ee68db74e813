"""The request sentences of long messages (``streams.text.request``) and the intent model
reading them when the whole message reads as a complaint, in five languages."""

from __future__ import annotations

import pytest

from streams.text.intent import default_model
from streams.text.request import request_part


@pytest.mark.parametrize(("text", "part"), [
    ("We moved offices last month. Everything is slow. Could you check my line?",
     "Could you check my line?"),
    ("Nos mudamos el mes pasado. Todo va lento. ¿Podéis revisar mi línea?",
     "¿Podéis revisar mi línea?"),
    ("Nous avons déménagé. Tout est lent. Je souhaiterais une vérification de ma ligne.",
     "Je souhaiterais une vérification de ma ligne."),
    ("Wir sind umgezogen. Alles ist langsam. Bitte prüfen Sie meine Leitung.",
     "Bitte prüfen Sie meine Leitung."),
    ("Mudámos de casa. Está tudo lento. Gostaria que verificassem a minha linha.",
     "Gostaria que verificassem a minha linha."),
])
def test_the_sentences_that_ask(text: str, part: str) -> None:
    assert request_part(text) == part


@pytest.mark.parametrize("text", [
    "Could you check my line?",  # one sentence: the whole message asks
    "The courier was rude. He threw the parcel over the fence.",  # nothing asked
    "Can you help? Is anyone there?",  # every sentence asks
])
def test_no_separate_request_part(text: str) -> None:
    assert request_part(text) is None


#: a story of disappointment, then a request for money back: refund (LABELS.md: a refund
#: demand keeps its task intent), though the whole message reads as a complaint
STORY_THEN_REFUND = [
    ("en", "I have been a customer for years and honestly the last few months have been "
           "disappointing, the quality dropped and the staff seem stressed. The blender I "
           "bought arrived with a cracked jug. I would like my money back for it, please."),
    ("es", "Llevo años comprando con vosotros y la verdad es que últimamente todo va a peor, "
           "los pedidos tardan y nadie contesta. La batidora llegó con la jarra rota. Quiero "
           "que me devolváis el dinero, por favor."),
    ("fr", "Je suis cliente depuis des années et franchement ces derniers mois ont été "
           "décevants, la qualité a baissé et personne ne répond. Le mixeur est arrivé avec "
           "le bol fissuré. Je voudrais être remboursée, s'il vous plaît."),
    ("de", "Ich bin seit Jahren Kunde und ehrlich gesagt waren die letzten Monate "
           "enttäuschend, die Qualität ist schlechter geworden und niemand antwortet. Der "
           "Mixer kam mit einem gesprungenen Behälter an. Ich möchte bitte mein Geld zurück."),
    ("pt", "Sou cliente há anos e sinceramente os últimos meses foram uma desilusão, a "
           "qualidade piorou e ninguém responde. A liquidificadora chegou com o copo rachado. "
           "Gostaria de receber o meu dinheiro de volta, por favor."),
]


@pytest.mark.parametrize(("language", "text"), STORY_THEN_REFUND,
                         ids=[s[0] for s in STORY_THEN_REFUND])
def test_a_story_then_a_request_has_the_task_of_the_request(language: str, text: str) -> None:
    model = default_model()
    whole = model.probabilities([text])[0]
    assert model.labels[int(whole.argmax())] == "complaint"  # what the rule corrects
    assert model.predict(text).intent == "refund"


def test_a_complaint_that_asks_for_nothing_stays_a_complaint() -> None:
    text = ("The courier was rude and threw my parcel over the fence. I am really unhappy "
            "with how I was treated.")
    assert default_model().predict(text).intent == "complaint"


@pytest.mark.parametrize("text", [
    "The parcel was due on Monday and still is not here. Please advise.",
    "Le colis devait arriver lundi et il n'est toujours pas là. Merci de votre aide.",
])
def test_a_courtesy_after_a_complaint_is_no_task(text: str) -> None:
    # "please advise" reads as no task: the complaint stays (late delivery, LABELS.md)
    model = default_model()
    assert model.labels[int(model.probabilities([text])[0].argmax())] == "complaint"
    assert model.predict(text).intent == "complaint"
