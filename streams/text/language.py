"""Language of a message among en, es, fr, de and pt, or ``und`` when it cannot be told.

A multinomial naive Bayes over hashed character 2-4-grams (accents kept: they are the best
clue) and words, trained on the labelled message set plus short function-word lists of each
language, and stored in ``models/language-v1.npz``. Scoring shares the vectorised hashing of
:mod:`streams.text.hashing`, so a batch costs a few microseconds a message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

from streams.kernel.paths import MODELS_DIR
from streams.text.hashing import Hashing, segment_sums

LANGUAGES: Final = ("en", "es", "fr", "de", "pt")
UNDETERMINED: Final = "und"
MODEL_PATH: Final = MODELS_DIR / "language-v1.npz"
FORMAT_VERSION: Final = 1
HASHING: Final = Hashing(bits=16, word_ngrams=(1,), char_ngrams=(2, 3, 4), fold_accents=False)
#: Laplace smoothing of the per-language feature counts.
ALPHA: Final = 0.05
#: Below this many letters a text is ``und``.
MIN_LETTERS: Final = 3
#: Scores are divided by this before the softmax, so that confidence is not always 1.0.
TEMPERATURE: Final = 4.0

#: Frequent function words, added to the training texts.
FUNCTION_WORDS: Final[dict[str, str]] = {
    "en": "the and you my is it to of for with this that have not can your was are please "
          "thanks would could what when where why how there i'm don't it's",
    "es": "el la los las y de que en un una es por para con mi no me se lo del al muy pero "
          "qué cuándo dónde cómo está gracias hola también ya",
    "fr": "le la les et de des un une est pour avec mon ma mes ne pas je vous nous il elle "
          "qui que c'est merci bonjour où quand comment très aussi déjà",
    "de": "der die das und ist ich nicht ein eine mit für mein meine sie wir es auf zu den "
          "dem von wie wann warum wo bitte danke hallo auch schon noch",
    "pt": "o a os as e de que em um uma é por para com meu minha não me se do da no na "
          "você vocês obrigado obrigada olá também já está como quando onde",
}

F32 = npt.NDArray[np.float32]


@cache
def _by_class() -> F32:
    with np.load(MODEL_PATH, allow_pickle=False) as data:
        meta = json.loads(str(data["metadata"]))
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{MODEL_PATH}: unsupported format {meta.get('format_version')}")
        table = np.zeros((HASHING.buckets + 1, len(LANGUAGES)), dtype=np.float32)
        table[data["rows"]] = data["weights"].astype(np.float32)
    return np.ascontiguousarray(table.T)


def detect_many(texts: Sequence[str]) -> list[tuple[str, float]]:
    """(language, confidence) of each text; ``("und", 0.0)`` for texts with too few letters."""
    n = len(texts)
    if n == 0:
        return []
    by_class = _by_class()
    scores = np.zeros((len(LANGUAGES), n), dtype=np.float32)
    for buckets, text_ids in HASHING.feature_groups(texts):
        scores += segment_sums(np.take(by_class, buckets, axis=1), text_ids, n)
    scores /= TEMPERATURE
    scores -= scores.max(axis=0)
    p = np.exp(scores)
    p /= p.sum(axis=0)
    best = p.argmax(axis=0).tolist()
    conf = p.max(axis=0).astype(np.float64).round(4).tolist()
    out: list[tuple[str, float]] = []
    for text, b, c in zip(texts, best, conf, strict=True):
        letters = 0
        for ch in text:
            if ch.isalpha():
                letters += 1
                if letters >= MIN_LETTERS:
                    break
        out.append((LANGUAGES[b], c) if letters >= MIN_LETTERS else (UNDETERMINED, 0.0))
    return out


def detect_language(text: str) -> tuple[str, float]:
    return detect_many([text])[0]


__all__ = ["LANGUAGES", "UNDETERMINED", "detect_language", "detect_many"]
