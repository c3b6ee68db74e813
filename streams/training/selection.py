"""Choosing the intent model's features and regularisation by grouped cross-validation.

Invariants: folds are made of whole groups (a phrasing and all its variants, a Bitext
near-duplicate group), assigned by a hash of the group name, so a fold's messages are
wordings the model trained on the other folds has not seen in any form; only the ``train``
split of the labelled files is used (their ``test`` split and the guide's evaluation sets
stay out of every choice). The figure is the macro-F1 over the hand-written messages of the
held-out folds (Bitext, English-only and narrow, is trained on but not scored), with its
per-language values.

``python -m streams.training.selection [--seed N]`` prints the table of candidates (two
trainings of one candidate with different seeds differ by up to 0.003: compare candidates on
the same seed, and on more than one).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from streams.text.hashing import Hashing
from streams.text.intent import IntentModel, load_taxonomy
from streams.training.data import LANGUAGES, LabelledMessage, read_all
from streams.training.intent import BITEXT_SHARE, sample_weights
from streams.training.metrics import classification_metrics


@dataclass(frozen=True)
class Candidate:
    name: str
    hashing: Hashing = field(default_factory=lambda: Hashing(char_in_words=True))
    epochs: int = 10
    weight_decay: float = 1e-4
    learning_rate: float = 0.02
    bitext_share: float = BITEXT_SHARE


def fold_of(group: str, folds: int) -> int:
    return int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) % folds


def cross_validate(candidate: Candidate, rows: Sequence[LabelledMessage], folds: int = 4,
                   seed: int = 0) -> dict[str, object]:
    """Macro-F1 (all, per language) of ``candidate`` over ``folds`` grouped folds."""
    taxonomy = load_taxonomy()
    truth: list[str] = []
    predicted: list[str] = []
    languages: list[str] = []
    start = time.perf_counter()
    for k in range(folds):
        train = [r for r in rows if fold_of(r.group, folds) != k]
        held = [r for r in rows if fold_of(r.group, folds) == k
                and not r.group.startswith("bitext/")]
        model = IntentModel.train(
            [r.text for r in train], [r.intent for r in train], taxonomy=taxonomy,
            sample_weight=sample_weights(train, candidate.bitext_share),
            epochs=candidate.epochs, seed=seed,
            learning_rate=candidate.learning_rate, weight_decay=candidate.weight_decay,
            hashing=candidate.hashing)
        truth.extend(r.intent for r in held)
        predicted.extend(p.intent for p in model.predict_many([r.text for r in held]))
        languages.extend(r.language for r in held)
    overall = classification_metrics(truth, predicted, taxonomy.names)
    per_language = {}
    for lang in LANGUAGES:
        idx = [i for i, x in enumerate(languages) if x == lang]
        m = classification_metrics([truth[i] for i in idx], [predicted[i] for i in idx],
                                   taxonomy.names)
        per_language[lang] = round(m.macro_f1, 4)
    return {"candidate": candidate.name, "macro_f1": round(overall.macro_f1, 4),
            "accuracy": round(overall.accuracy, 4), "by_language": per_language,
            "messages": len(truth), "seconds": round(time.perf_counter() - start, 1),
            "settings": {**asdict(candidate), "hashing": asdict(candidate.hashing)}}


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("v2: words 1-2, chars 3-5 in words, wd 1e-4, 10 epochs, Bitext 0.05"),
    Candidate("Bitext 0.25", bitext_share=0.25),
    Candidate("Bitext 0.1", bitext_share=0.1),
    Candidate("no Bitext", bitext_share=0.0),
    Candidate("wd 1e-3", weight_decay=1e-3),
    Candidate("wd 1e-2", weight_decay=1e-2),
    Candidate("20 epochs", epochs=20),
    Candidate("6 epochs", epochs=6),
    Candidate("lr 0.05", learning_rate=0.05),
    Candidate("chars 2-5", hashing=Hashing(char_ngrams=(2, 3, 4, 5), char_in_words=True)),
    Candidate("chars 3-5 across words", hashing=Hashing(char_in_words=False)),
    Candidate("chars 3-6", hashing=Hashing(char_ngrams=(3, 4, 5, 6), char_in_words=True)),
    Candidate("2^19 buckets", hashing=Hashing(bits=19, char_in_words=True)),
)


def set_effect(extra: Sequence[LabelledMessage], rows: Sequence[LabelledMessage],
               folds: int = 4, seed: int = 0) -> dict[str, object]:
    """What adding the ``train`` messages ``extra`` (a hand-written set not in ``rows``) does:
    macro-F1 of the held-out groups of ``rows`` (all, per language) and of ``extra``'s own
    held-out groups, with ``extra`` left out and put in, on the same grouped folds."""
    taxonomy = load_taxonomy()
    mine = {r.group for r in extra}
    out: dict[str, object] = {"seed": seed}
    for label, train_rows in (("without", list(rows)), ("with", [*rows, *extra])):
        got: list[tuple[LabelledMessage, str]] = []
        for k in range(folds):
            model = IntentModel.train(
                [r.text for r in train_rows if fold_of(r.group, folds) != k],
                [r.intent for r in train_rows if fold_of(r.group, folds) != k],
                taxonomy=taxonomy, seed=seed, sample_weight=sample_weights(
                    [r for r in train_rows if fold_of(r.group, folds) != k]))
            held = [r for r in [*rows, *extra] if fold_of(r.group, folds) == k
                    and not r.group.startswith("bitext/")]
            got.extend(zip(held, (p.intent for p in model.predict_many(
                [r.text for r in held])), strict=True))

        def f1(pairs: Sequence[tuple[LabelledMessage, str]]) -> float:
            m = classification_metrics([r.intent for r, _ in pairs], [x for _, x in pairs],
                                       taxonomy.names)
            return round(m.macro_f1, 4)

        others = [g for g in got if g[0].group not in mine]
        out[label] = {"others": f1(others), "own": f1([g for g in got if g[0].group in mine]),
                      "others_by_language": {
                          lang: f1([g for g in others if g[0].language == lang])
                          for lang in LANGUAGES}}
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Grouped cross-validation of model settings.")
    parser.add_argument("--seed", type=int, default=0, help="training seed of every candidate")
    parser.add_argument("--set", default=None, metavar="PATH",
                        help="instead, a labelled file not trained on: the other sets' and its "
                             "own held-out groups with it left out and put in")
    args = parser.parse_args(argv)
    rows = [r for r in read_all() if r.split == "train"]
    if args.set is not None:
        extra = [r for r in read_all([Path(args.set)]) if r.split == "train"]
        print(json.dumps(set_effect(extra, rows, seed=args.seed)))
        return
    for candidate in CANDIDATES:
        print(json.dumps(cross_validate(candidate, rows, seed=args.seed)), flush=True)


if __name__ == "__main__":
    main()
