"""Labelled examples per emotion and language, including look-alikes that must stay low."""

from __future__ import annotations

import pytest

from streams.text.emotion import NONE, Emotions, detect, detect_many
from streams.text.sentiment import score_text

HIGH = 0.5
LOW = 0.2


def _detect(text: str) -> Emotions:
    return detect(text, score_text(text).compound)


def test_manager_now_is_angry_urgent_and_asks_for_a_human() -> None:
    text = "let me speak to a manager NOW"
    assert score_text(text).label == "neutral"  # what the lexicon misses
    got = _detect(text)
    assert got.anger >= HIGH and got.urgency >= HIGH and got.human_request


HUMAN_REQUESTS = [
    "I want a real person about order TS-1234567.", "I want to talk to a human, not a bot!!",
    "STOP sending me the same link. I need a supervisor.", "Can I speak to someone please?",
    "Quiero hablar con una persona.", "¡Quiero hablar con un responsable AHORA!",
    "Je veux parler à une vraie personne.", "Passez-moi un conseiller.",
    "Ich will mit einem Menschen sprechen.", "Ich will SOFORT einen Vorgesetzten sprechen!",
    "Quero falar com uma pessoa.", "Quero falar com um gerente AGORA!", "live agent",
]
NOT_HUMAN_REQUESTS = [
    "I'm transferring you to a human agent now.", "Te paso con un agente de nuestro equipo.",
    "Je vous transfère à un conseiller.", "Ich verbinde Sie mit einem Mitarbeiter.",
    "Vou transferir você para um atendente.", "My manager asked me to check the invoice.",
    "Thanks, that's all I needed.", "Personne ne m'aide.", "I want a refund. The agent was nice.",
]


@pytest.mark.parametrize("text", HUMAN_REQUESTS)
def test_human_request(text: str) -> None:
    assert _detect(text).human_request


@pytest.mark.parametrize("text", NOT_HUMAN_REQUESTS)
def test_not_human_request(text: str) -> None:
    assert not _detect(text).human_request


# (text, emotion that must be high)
LABELLED = [
    ("This is f*cking useless, you idiots", "anger"),
    ("This is fucking useless", "anger"),
    ("Absolutely ridiculous and unacceptable!!!", "anger"),
    ("Esto es una mierda, sois unos inútiles", "anger"),
    ("C'est scandaleux, vous êtes nuls !!", "anger"),
    ("Das ist eine Frechheit, total nutzlos!!", "anger"),
    ("Isso é uma palhaçada, inaceitável!!", "anger"),
    ("This is the third time I'm contacting you and it still doesn't work", "frustration"),
    ("I have been waiting for 5 days, again", "frustration"),
    ("Es la tercera vez que escribo y nadie me ayuda.", "frustration"),
    ("C'est la troisième fois que je vous contacte et personne ne m'aide.", "frustration"),
    ("Ich schreibe schon zum dritten Mal und niemand hilft mir.", "frustration"),
    ("É a terceira vez que escrevo e ninguém resolve.", "frustration"),
    ("Seriously? That's not helpful at all.", "frustration"),
    ("I don't understand, what do you mean?", "confusion"),
    ("I'm confused, this makes no sense", "confusion"),
    ("No entiendo, ¿qué quiere decir?", "confusion"),
    ("Je ne comprends pas, ça veut dire quoi ?", "confusion"),
    ("Das verstehe ich nicht, was meinen Sie?", "confusion"),
    ("Não entendi, como assim?", "confusion"),
    ("I need this fixed immediately, it's urgent", "urgency"),
    ("Please send it ASAP", "urgency"),
    ("Lo necesito urgente, cuanto antes", "urgency"),
    ("Il me le faut tout de suite, c'est urgent", "urgency"),
    ("Ich brauche das sofort, es ist dringend", "urgency"),
    ("Preciso disso imediatamente, é urgente", "urgency"),
    ("thanks, that solved it", "satisfaction"),
    ("Perfect, thank you so much!", "satisfaction"),
    ("¡Perfecto, muchas gracias!", "satisfaction"),
    ("Parfait, merci beaucoup !", "satisfaction"),
    ("Perfekt, vielen Dank!", "satisfaction"),
    ("Perfeito, muito obrigada!", "satisfaction"),
]


@pytest.mark.parametrize(("text", "emotion"), LABELLED)
def test_labelled(text: str, emotion: str) -> None:
    assert getattr(_detect(text), emotion) >= HIGH, _detect(text)


# (text, emotions that must stay low)
NEGATIVES = [
    ("thanks, that solved it", ("anger", "frustration", "confusion", "urgency")),
    ("Perfect, thank you!", ("anger", "frustration", "confusion")),
    ("Muchas gracias, eso es todo.", ("anger", "frustration")),
    ("Where is my order TS-1234567?", ("anger", "frustration", "confusion", "satisfaction")),
    ("Can you resend the invoice? My VAT ID is on the PDF.", ("anger", "urgency")),
    ("Thank you so much for your help, really appreciated!!", ("anger", "frustration")),
    ("That's not helpful at all.", ("satisfaction",)),
    ("Thanks for nothing.", ("satisfaction",)),
    ("It still isn't fixed", ("satisfaction",)),
    ("How much does the Business plan cost?", ("anger", "frustration", "urgency")),
]


@pytest.mark.parametrize(("text", "emotions"), NEGATIVES)
def test_stays_low(text: str, emotions: tuple[str, ...]) -> None:
    got = _detect(text)
    for emotion in emotions:
        assert getattr(got, emotion) <= LOW, (emotion, got)


def test_caps_and_punctuation_raise_anger() -> None:
    calm = _detect("please fix my account")
    loud = _detect("PLEASE FIX MY ACCOUNT!!!")
    assert loud.anger > calm.anger and loud.anger >= HIGH
    assert _detect("what?? where is it???").confusion >= 0.3


def test_all_scores_in_unit_interval() -> None:
    texts = [t for t, _ in LABELLED] + HUMAN_REQUESTS + ["NO NO NO!!!!! " * 20, "?????"]
    for text in texts:
        for compound in (-1.0, 0.0, 1.0):
            got = detect(text, compound)
            assert all(0.0 <= v <= 1.0 for v in got[:5])


def test_blank_and_batch() -> None:
    assert detect("", 0.0) == NONE and detect("  \n", 0.0) == NONE
    texts = ["thanks", "let me speak to a manager NOW", ""]
    compounds = [0.4, 0.0, 0.0]
    assert detect_many(texts, compounds) == [detect(t, c) for t, c in zip(texts, compounds, strict=True)]
    with pytest.raises(ValueError, match="compound"):
        detect_many(texts, compounds[:2])


# Where cues of several kinds start at one word the earliest kind wins, then the longest
# phrase, and its words are consumed (each text below holds exactly one cue).
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("solved it worked", Emotions(0.0, 0.0, 0.0, 0.0, 0.65, False)),  # not also "it worked"
        ("still not fixed", Emotions(0.55, 0.1, 0.0, 0.1, 0.0, False)),  # "still not *" takes "fixed"
        ("still not", Emotions(0.55, 0.1, 0.0, 0.1, 0.0, False)),
        ("thank you", Emotions(0.0, 0.0, 0.0, 0.0, 0.35, False)),
        ("not helpful.", Emotions(0.45, 0.1, 0.0, 0.0, 0.0, False)),
        ("still. not fixed", Emotions(0.45, 0.1, 0.0, 0.0, 0.0, False)),  # no cue runs past a "."
    ],
)
def test_cue_priority_and_consumption(text: str, expected: Emotions) -> None:
    assert detect(text, 0.0) == expected


@pytest.mark.parametrize(
    ("text", "anger"),
    [
        ("ÜBERALL", 0.15),  # shouting in non-ASCII capitals
        ("Ich bin WÜTEND", 0.75),
        ("été à Málaga, José", 0.0),  # accents are not shouting
        ("I am OK, order TS-1234567 and the PDF", 0.0),
    ],
)
def test_shouting(text: str, anger: float) -> None:
    assert detect(text, 0.0).anger == pytest.approx(anger)


def test_unicode_blank_and_lone_surrogate() -> None:
    assert detect("\u3000\u2003", 0.0) == NONE
    assert detect("ab\ud800 NOW", 0.0).urgency >= HIGH


def test_a_person_the_message_is_about_is_not_asked_for() -> None:
    from streams.text.emotion import detect

    for text in ("I want to complain about the agent I spoke to",
                 "Quero fazer uma reclamação sobre o atendente",
                 "Ich möchte mich über den Mitarbeiter beschweren"):
        assert not detect(text, 0.0).human_request, text
    assert detect("I want to talk to an agent about my bill", 0.0).human_request
