from __future__ import annotations

import pytest

from streams.evaluation.quality import evaluate_language
from streams.text.intent import LABELLED_PATH
from streams.text.language import MODEL_PATH, detect_language, detect_many
from streams.training.data import read
from streams.training.language import train


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Where is my parcel? It should have arrived yesterday.", "en"),
        ("¿Dónde está mi paquete? Debía llegar ayer.", "es"),
        ("Où est mon colis ? Il devait arriver hier.", "fr"),
        ("Wo ist mein Paket? Es sollte gestern ankommen.", "de"),
        ("Cadê meu pacote? Era para chegar ontem.", "pt"),
        ("i cant login to my account", "en"),
        ("no puedo entrar en mi cuenta", "es"),
        ("je ne peux pas me connecter", "fr"),
        ("ich kann mich nicht anmelden", "de"),
        ("não consigo entrar na minha conta", "pt"),
    ],
)
def test_detects_common_sentences(text: str, language: str) -> None:
    got, confidence = detect_language(text)
    assert got == language
    assert 0.0 < confidence <= 1.0


@pytest.mark.parametrize("text", ["", "  ", "ok", "123456", "!!", "👍"])
def test_too_short_is_undetermined(text: str) -> None:
    assert detect_language(text) == ("und", 0.0)


def test_batch_equals_single() -> None:
    texts = ["Hola, gracias", "Thanks a lot", "", "Merci beaucoup", "Vielen Dank", "Obrigado"]
    assert detect_many(texts) == [detect_language(t) for t in texts]
    assert detect_many([]) == []


def test_labelled_test_split_accuracy() -> None:
    rows = [r for r in read(LABELLED_PATH) if r.split == "test"]
    assert evaluate_language([(r.text, r.language) for r in rows]).accuracy >= 0.95


def test_committed_model_matches_training() -> None:
    import numpy as np

    rows = [r for r in read(LABELLED_PATH) if r.split == "train"]
    table = train([r.text for r in rows], [r.language for r in rows])
    with np.load(MODEL_PATH) as data:
        stored = np.zeros_like(table)
        stored[data["rows"]] = data["weights"].astype(np.float32)
    assert np.array_equal(stored, table)
