"""A learnt discontent signal: how likely a customer turn is one of a mood that has sunk
(resignation, irony, quiet disappointment, curt replies, a customer who stops explaining,
weariness, feeling fobbed off; LABELS.md ``negative_trend``), read by a two-class softmax on
the intent model's own hashed word and character n-grams.

Invariants: the model is an ``IntentModel`` whose two labels are ``steady`` and
``worsening`` (trained by ``streams.training.discontent`` on
``schemas/models/discontent_turns.yaml``); its hashing equals the intent model's, so the
features the intent model computed for a batch are reused (``feature_groups``) and the signal
costs a gather of two weight rows a message; scores are in [0, 1], deterministic, and the
same for a text alone or in a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Final

from streams.kernel.paths import MODELS_DIR
from streams.text.hashing import I64
from streams.text.intent import INTENT_HASHING, IntentModel

MODEL_PATH: Final = MODELS_DIR / "discontent-v1.npz"
LABELS: Final = ("steady", "worsening")
WORSENING: Final = 1


def load_two_class(path: Path, labels: tuple[str, str]) -> IntentModel:
    """A two-class signal's model from ``path``, refused unless its labels are ``labels``."""
    model = IntentModel.load(path)
    if model.labels != labels:
        raise ValueError(f"{path}: labels {model.labels}, expected {labels}")
    return model


@cache
def default_model() -> IntentModel:
    """The committed discontent model, loaded once."""
    return load_two_class(MODEL_PATH, LABELS)


def scores(texts: Sequence[str], groups: list[tuple[I64, I64]] | None = None,
           model: IntentModel | None = None) -> list[float]:
    """The probability that each text is a worsening mood; ``groups`` are the texts'
    ``INTENT_HASHING.feature_groups`` when the caller computed them (ignored by a model
    with other hashing)."""
    model = model or default_model()
    if not texts:
        return []
    if model.hashing != INTENT_HASHING:
        groups = None
    p = model.probabilities(texts, groups)
    return [round(float(x), 4) for x in p[:, WORSENING]]


__all__ = ["LABELS", "MODEL_PATH", "default_model", "load_two_class", "scores"]
