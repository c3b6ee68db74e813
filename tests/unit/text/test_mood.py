from __future__ import annotations

import pytest

from streams.text import mood


@pytest.mark.parametrize(("language", "negative", "positive"), [
    ("es", "Es pésimo, estoy muy decepcionado", "Perfecto, muchas gracias"),
    ("fr", "C'est lamentable, je suis déçu", "Parfait, merci beaucoup"),
    ("de", "Das ist furchtbar, ich bin enttäuscht", "Super, danke schön"),
    ("pt", "Isso é péssimo, estou decepcionado", "Ótimo, muito obrigado"),
])
def test_negative_and_positive_messages_in_each_language(language: str, negative: str,
                                                         positive: str) -> None:
    assert mood.score(negative, language) <= -0.5
    assert mood.score(positive, language) >= 0.5


def test_negation_flips_and_damps() -> None:
    assert mood.score("Das ist gut", "de") > 0 > mood.score("Das ist nicht gut", "de")
    assert abs(mood.score("Das ist nicht gut", "de")) < mood.score("Das ist gut", "de")
    assert mood.score("não está bom", "pt") < 0


def test_intensity_exclamations_and_capitals_make_it_stronger() -> None:
    plain = mood.score("c'est décevant", "fr")
    assert mood.score("c'est très décevant", "fr") < plain
    assert mood.score("c'est décevant !!!", "fr") < plain
    assert mood.score("C'EST VRAIMENT DÉCEVANT CE SERVICE", "fr") < plain


def test_neutral_text_unknown_language_and_english_keep_their_scores() -> None:
    assert mood.score("Quiero cambiar la dirección de envío", "es") == 0.0
    assert mood.score("terrible", "en") == 0.0
    assert mood.compounds(["terrible", "terrible"], ["en", "und"], [-0.48, -0.48]) == [
        -0.48, -0.48]
    assert mood.compounds(["horrible"], ["es"], [0.0])[0] < -0.5
    # "no" is not a negative word in Spanish: VADER reads it as one
    assert mood.score("no, gracias, todo bien", "es") > 0


@pytest.mark.parametrize(("language", "text"), [
    ("es", "Estoy desesperada, me siento ignorada"),
    ("fr", "Je suis à bout, complètement excédé"),
    ("de", "Ich bin verzweifelt und erschöpft"),
    ("pt", "Estou farto, completamente desesperado"),
])
def test_despair_and_exhaustion_are_strongly_negative(language: str, text: str) -> None:
    assert mood.score(text, language) <= -0.5


def test_helplessness_alone_is_only_mildly_negative() -> None:
    # "I don't know what else to try" after a list of attempts is no outburst
    assert -0.35 < mood.score("Não sei mais o que testar.", "pt") < 0
    assert mood.score("Das ist am Ende der Straße", "de") == 0.0  # "am Ende" is no despair
