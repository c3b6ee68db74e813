"""A learnt "not helped" signal: how likely a customer's reply says the bot's answer did not
help or was not what was asked (explicitly, by pushing back, by restating the question, by
irony; LABELS.md ``bot_loop``), read by a two-class softmax on the intent model's own hashed
word and character n-grams.

Invariants: the model is an ``IntentModel`` whose two labels are ``accepted`` and
``not_helped`` (trained by ``streams.training.unhelped`` on
``schemas/models/unhelped_turns.yaml``); its hashing equals the intent model's, so the
features the intent model computed for a batch are reused and the signal costs a gather of
two weight rows a message; scores are in [0, 1], deterministic, and the same for a text alone
or in a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Final

from streams.kernel.paths import MODELS_DIR
from streams.text import discontent
from streams.text.hashing import I64
from streams.text.intent import IntentModel

MODEL_PATH: Final = MODELS_DIR / "unhelped-v1.npz"
LABELS: Final = ("accepted", "not_helped")
NOT_HELPED: Final = 1


@cache
def default_model() -> IntentModel:
    """The committed "not helped" model, loaded once."""
    return discontent.load_two_class(MODEL_PATH, LABELS)


def scores(texts: Sequence[str], groups: list[tuple[I64, I64]] | None = None,
           model: IntentModel | None = None) -> list[float]:
    """The probability that each text says the answer did not help; ``groups`` are the
    texts' ``INTENT_HASHING.feature_groups`` when the caller computed them."""
    # the second label's probability, as the discontent model's: the same arithmetic
    return discontent.scores(texts, groups, model or default_model())


__all__ = ["LABELS", "MODEL_PATH", "default_model", "scores"]
