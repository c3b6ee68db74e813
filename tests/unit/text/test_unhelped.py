"""The learnt "not helped" signal (``streams.text.unhelped``): a probability per customer
reply, the same alone or in a batch, read from the intent model's own features; a reply
saying the answer missed scores above one that accepts it, in each language."""

from __future__ import annotations

import pytest

from streams.text import unhelped
from streams.text.intent import INTENT_HASHING

#: written for this test (not in the training replies): (did not help, accepted) per language
PAIRS = {
    "en": ("That still doesn't answer what I asked about the voucher.",
           "Okay, I see the voucher in my account now, thanks."),
    "es": ("Eso no responde a lo que pregunté del vale.",
           "Vale, ya veo el vale en mi cuenta, gracias."),
    "fr": ("Ça ne répond toujours pas à ma question sur le bon d'achat.",
           "D'accord, je vois le bon d'achat sur mon compte, merci."),
    "de": ("Das beantwortet immer noch nicht meine Frage zum Gutschein.",
           "Okay, ich sehe den Gutschein jetzt im Konto, danke."),
    "pt": ("Isso ainda não responde o que perguntei sobre o cupom.",
           "Certo, já vejo o cupom na minha conta, obrigado."),
}


def test_the_model_is_the_two_label_one_on_the_intent_features() -> None:
    model = unhelped.default_model()
    assert model.labels == unhelped.LABELS
    assert model.hashing == INTENT_HASHING
    assert 0.5 <= model.temperature <= 2.0


def test_scores_are_probabilities_the_same_alone_or_in_a_batch() -> None:
    texts = [t for pair in PAIRS.values() for t in pair]
    batch = unhelped.scores(texts)
    assert all(0.0 <= s <= 1.0 for s in batch)
    assert [unhelped.scores([t])[0] for t in texts] == batch
    assert unhelped.scores(texts, INTENT_HASHING.feature_groups(texts)) == batch
    assert unhelped.scores([]) == []


@pytest.mark.parametrize("language", sorted(PAIRS))
def test_a_reply_that_says_it_missed_scores_above_one_that_accepts(language: str) -> None:
    missed, accepted = unhelped.scores(list(PAIRS[language]))
    assert missed >= 0.5 and missed - accepted >= 0.2
