"""Training the "not helped" model (``streams.text.unhelped``) from the hand-written replies
of ``schemas/models/unhelped_turns.yaml``, choosing its settings by grouped cross-validation.

Invariants: the training, folds, weights, calibration and figures are the discontent
model's (``streams.training.discontent``: a turn's group is its language, label, register and
block of four consecutive lines, folds are made of whole groups, labels weigh the same within
each language, the temperature is fitted out of fold and never changes which label wins);
only the turns, the two labels and the saved file differ. No evaluation set is read here.

``python -m streams.training.unhelped`` prints the cross-validation of every candidate;
``--train`` saves the chosen one to ``models/unhelped-v1.npz``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from streams.kernel.paths import MODEL_DATA_DIR
from streams.text.intent import IntentDef, Taxonomy
from streams.text.unhelped import MODEL_PATH
from streams.training import discontent
from streams.training.discontent import Settings

TURNS_PATH: Final = MODEL_DATA_DIR / "unhelped_turns.yaml"
TAXONOMY: Final = Taxonomy(1, "accepted", (
    IntentDef("accepted", "general", "accepts, thanks, asks a new question, gives details"),
    IntentDef("not_helped", "general", "the answer did not help or was not what was asked: "
                                       "said, pushed back, question restated, irony")))
CANDIDATES: Final = (
    Settings("words 1-2, chars 3-5 in words, wd 1e-4, 10 epochs"),
    Settings("wd 1e-2", weight_decay=1e-2),
    Settings("wd 1e-3", weight_decay=1e-3),
    Settings("20 epochs", epochs=20),
    Settings("5 epochs", epochs=5),
    Settings("lr 0.05", learning_rate=0.05),
)
#: chosen by grouped cross-validation (``main``): the best mean AUC over seeds 0-2
CHOSEN: Final = CANDIDATES[4]


def train_and_save(out: Path = MODEL_PATH, settings: Settings = CHOSEN, seed: int = 0,
                   path: Path = TURNS_PATH) -> dict[str, Any]:
    """Fits the temperature out of fold, trains on every reply and saves the model with its
    cross-validation figures in its metadata (the discontent model's procedure)."""
    return discontent.train_and_save(out, settings, seed, path, TAXONOMY)


def main(argv: Sequence[str] | None = None) -> None:
    discontent.cli(argv, 'Cross-validate or train the "not helped" model.', CANDIDATES,
                   MODEL_PATH, TURNS_PATH, TAXONOMY, CHOSEN)


if __name__ == "__main__":
    main()
