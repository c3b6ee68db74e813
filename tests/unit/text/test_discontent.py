"""The learnt discontent signal (``streams.text.discontent``): a probability per customer
turn, the same alone or in a batch, read from the intent model's own features; a sunk mood
in each language scores well above a neutral turn of the same language."""

from __future__ import annotations

import pytest

from streams.text import discontent
from streams.text.intent import INTENT_HASHING

#: written for this test (not in the training turns): (sunk, neutral) per language
PAIRS = {
    "en": ("Honestly, I've stopped expecting anything from you people.",
           "Which plan did I sign up for in March?"),
    "es": ("Ya me da lo mismo, total, nunca arregláis nada.",
           "¿En qué tarifa me di de alta en marzo?"),
    "fr": ("Franchement, je n'attends plus rien de votre part, c'est usant.",
           "Quelle formule avais-je choisie en mars ?"),
    "de": ("Ehrlich, ich erwarte von Ihnen gar nichts mehr, das zermürbt nur.",
           "Welchen Tarif habe ich im März abgeschlossen?"),
    "pt": ("Sinceramente já não espero nada de vocês, cansa demais.",
           "Qual plano eu contratei em março?"),
}


def test_the_model_is_the_two_label_one_on_the_intent_features() -> None:
    model = discontent.default_model()
    assert model.labels == discontent.LABELS
    assert model.hashing == INTENT_HASHING
    assert 0.5 <= model.temperature <= 2.0


def test_scores_are_probabilities_the_same_alone_or_in_a_batch() -> None:
    texts = [t for pair in PAIRS.values() for t in pair]
    batch = discontent.scores(texts)
    assert all(0.0 <= s <= 1.0 for s in batch)
    assert [discontent.scores([t])[0] for t in texts] == batch
    assert discontent.scores([]) == []


def test_the_intent_features_computed_once_give_the_same_scores() -> None:
    texts = [t for pair in PAIRS.values() for t in pair]
    assert discontent.scores(texts, INTENT_HASHING.feature_groups(texts)) == (
        discontent.scores(texts))


@pytest.mark.parametrize("language", sorted(PAIRS))
def test_a_sunk_mood_scores_above_a_neutral_turn(language: str) -> None:
    sunk, neutral = discontent.scores(list(PAIRS[language]))
    # an ordering, not a verdict: a plain French question still reads 0.67 (the rule reads a
    # rise over the customer's own turns, never one score alone)
    assert sunk >= 0.5 and sunk - neutral >= 0.25
