"""Training the intent model from the labelled sets in ``schemas/models/`` (``touchstream
train intent``): balanced sample weights, the train/test split of each file, the test figures
kept in the model's metadata."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from streams.text.intent import MODEL_PATH, TAXONOMY_PATH, IntentModel, TrainReport, load_taxonomy
from streams.training.data import TRAINING_PATHS, LabelledMessage, read_all
from streams.training.metrics import classification_metrics

#: Weight of the Bitext subset against the hand-written set: English-only and narrower in
#: style, it should help, not outvote, the five languages. Chosen by grouped cross-validation
#: (``streams.training.selection``): with nine hand-written sets, 0.05 beats 0.25 on every
#: seed tried (+0.003 macro-F1, English +0.01), 0.1 and none lie between.
BITEXT_SHARE: Final = 0.05
#: Softmax temperature of the committed model, fitted on out-of-fold predictions of the
#: train split by ``python -m streams.training.calibration``.
TEMPERATURE: Final = 0.9


def sample_weights(rows: Sequence[LabelledMessage],
                   bitext_share: float = BITEXT_SHARE) -> list[float]:
    """Balanced by intent within each source (hand-written, Bitext), the Bitext source scaled
    by ``bitext_share``: every intent counts the same whatever its number of messages."""
    def source(r: LabelledMessage) -> bool:
        return r.group.startswith("bitext/")

    count: dict[tuple[bool, str], int] = {}
    for r in rows:
        count[source(r), r.intent] = count.get((source(r), r.intent), 0) + 1
    return [(bitext_share if source(r) else 1.0) / count[source(r), r.intent] for r in rows]


def train_from_file(labelled: Sequence[Path] = TRAINING_PATHS,
                    out: Path = MODEL_PATH, *, taxonomy_path: Path = TAXONOMY_PATH,
                    seed: int = 0) -> TrainReport:
    """Trains on the train split of the ``labelled`` files, evaluates on their test split, saves
    to ``out`` (with the test figures of each file in its metadata)."""
    digest = hashlib.sha256()
    for path in labelled:
        digest.update(path.read_bytes())
    sha = digest.hexdigest()
    rows = read_all(labelled)
    train = [r for r in rows if r.split == "train"]
    test = [r for r in rows if r.split == "test"]
    taxonomy = load_taxonomy(taxonomy_path)
    model = IntentModel.train([r.text for r in train], [r.intent for r in train],
                              taxonomy=taxonomy, sample_weight=sample_weights(train), seed=seed)
    predicted = [p.intent for p in model.predict_many([r.text for r in test])]
    metrics = classification_metrics([r.intent for r in test], predicted, taxonomy.names)
    report = TrainReport(metrics.accuracy, metrics.macro_f1, metrics.per_label_f1,
                         taxonomy.names, metrics.confusion, len(train), len(test), sha)
    by_file: dict[str, dict[str, float]] = {}
    for path in labelled:
        names = {r.text for r in read_all([path]) if r.split == "test"}
        pairs = [(r.intent, p) for r, p in zip(test, predicted, strict=True) if r.text in names]
        m = classification_metrics([t for t, _ in pairs], [p for _, p in pairs], taxonomy.names)
        by_file[path.name] = {"accuracy": round(m.accuracy, 4), "macro_f1": round(m.macro_f1, 4),
                              "size": len(pairs)}
    model.metadata = {"model_version": out.stem, "training_sha256": sha, "seed": seed,
                      "training_files": [p.name for p in labelled],
                      "train_size": len(train), "test_size": len(test),
                      "test_accuracy": round(report.accuracy, 4),
                      "test_macro_f1": round(report.macro_f1, 4), "test_by_file": by_file,
                      "temperature": TEMPERATURE}
    model.save(out)
    return report


def main_train_intent(labelled: Path, out: Path) -> TrainReport:
    """Entry point of ``touchstream train intent``: ``labelled`` in place of the first
    hand-written set, with the later ones and the Bitext subset."""
    return train_from_file((labelled, *TRAINING_PATHS[1:]), out)


