"""Training the discontent model (``streams.text.discontent``) from the hand-written turns of
``schemas/models/discontent_turns.yaml``, choosing its settings by grouped cross-validation.

Invariants: a turn's group is its language, label, register and block of ``BLOCK``
consecutive lines (lines written one after the other share their wording), and folds are
made of whole groups (``selection.fold_of``), so a held-out turn's neighbours were never
trained on; the features are the intent model's (``INTENT_HASHING``), so inference reuses the
features the intent model computed; sample weights balance label within each language; the
softmax temperature is fitted on out-of-fold predictions (``calibration.fit_temperature``)
and never changes which label wins. No evaluation set is read here.

``python -m streams.training.discontent`` prints the cross-validation of every candidate
(AUC, accuracy, per language and register, reliability table); ``--train`` saves the chosen
one to ``models/discontent-v1.npz``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import yaml

from streams.kernel.paths import MODEL_DATA_DIR
from streams.text.discontent import LABELS, MODEL_PATH, WORSENING
from streams.text.intent import INTENT_HASHING, IntentDef, IntentModel, Taxonomy
from streams.training.calibration import fit_temperature, tempered
from streams.training.data import read_all
from streams.training.selection import fold_of

TURNS_PATH: Final = MODEL_DATA_DIR / "discontent_turns.yaml"
COURTESY: Final = "courtesy"
BLOCK: Final = 4
FOLDS: Final = 5
F64 = npt.NDArray[np.float64]
TAXONOMY: Final = Taxonomy(1, "steady", (
    IntentDef("steady", "general", "neutral, satisfied, mildly negative but stable, terse"),
    IntentDef("worsening", "general", "a mood that has sunk: resignation, irony, "
                                      "disappointment, curtness, weariness, fobbed off")))


@dataclass(frozen=True)
class Turn:
    text: str
    language: str
    label: str  # steady | worsening
    register: str
    group: str


@dataclass(frozen=True)
class Settings:
    name: str
    epochs: int = 10
    weight_decay: float = 1e-4
    learning_rate: float = 0.02
    #: weight of the intent sets' ``other`` messages (greetings, thanks, courtesies, small
    #: talk: none a sunk mood) as steady turns, against the hand-written steady turns of
    #: their language
    courtesy_share: float = 0.0


def read_turns(path: Path = TURNS_PATH, known: Sequence[str] = LABELS) -> list[Turn]:
    """The turns of ``path`` (language, then label of ``known``, then register)."""
    raw = yaml.safe_load(path.read_text("utf-8"))
    out: list[Turn] = []
    for lang, labels in raw.items():
        for label, registers in labels.items():
            if label not in known:
                raise ValueError(f"{path}: unknown label {label!r}")
            for register, texts in registers.items():
                for i, text in enumerate(texts):
                    out.append(Turn(str(text), str(lang), str(label), str(register),
                                    f"{lang}/{label}/{register}/{i // BLOCK}"))
    return out


def courtesies() -> list[Turn]:
    """The ``other`` messages of the intent sets' train split (hand-written, not Bitext), as
    steady turns of the register ``courtesy``."""
    return [Turn(r.text, r.language, "steady", COURTESY, f"courtesy/{r.group}")
            for r in read_all() if r.split == "train" and r.intent == "other"
            and not r.group.startswith("bitext/")]


def weights(turns: Sequence[Turn], courtesy_share: float = 0.0) -> list[float]:
    """Each label weighs the same within each language; the courtesies of a language weigh
    ``courtesy_share`` of its steady turns."""
    count: dict[tuple[str, str], int] = {}
    for t in turns:
        key = (t.language, COURTESY if t.register == COURTESY else t.label)
        count[key] = count.get(key, 0) + 1
    return [courtesy_share / count[t.language, COURTESY] if t.register == COURTESY
            else 1.0 / count[t.language, t.label] for t in turns]


def train(turns: Sequence[Turn], settings: Settings, seed: int = 0,
          taxonomy: Taxonomy = TAXONOMY) -> IntentModel:
    """A two-class model of ``taxonomy`` (its second label the positive one)."""
    if settings.courtesy_share > 0:
        turns = [*turns, *courtesies()]
    return IntentModel.train([t.text for t in turns], [t.label for t in turns],
                             taxonomy=taxonomy,
                             sample_weight=weights(turns, settings.courtesy_share),
                             epochs=settings.epochs, seed=seed,
                             learning_rate=settings.learning_rate,
                             weight_decay=settings.weight_decay, hashing=INTENT_HASHING)


def out_of_fold(turns: Sequence[Turn], settings: Settings, folds: int = FOLDS,
                seed: int = 0, taxonomy: Taxonomy = TAXONOMY) -> F64:
    """Probabilities (temperature 1) of both labels for every turn, from the model trained
    without its fold."""
    out = np.zeros((len(turns), len(LABELS)), dtype=np.float64)
    for k in range(folds):
        held = [i for i, t in enumerate(turns) if fold_of(t.group, folds) == k]
        model = train([t for t in turns if fold_of(t.group, folds) != k], settings, seed,
                      taxonomy)
        out[held] = model.probabilities([turns[i].text for i in held])
    return out


def auc(p: F64, y: npt.NDArray[np.bool_]) -> float:
    """Area under the ROC curve: the chance a worsening turn scores above a steady one."""
    pos, neg = p[y], p[~y]
    if not len(pos) or not len(neg):
        return 0.0
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def reliability(p: F64, y: npt.NDArray[np.bool_], bins: int = 5) -> dict[str, Any]:
    """The worsening probability in equal-width bins against the share of worsening turns in
    each, and the expected calibration error."""
    rows: list[dict[str, Any]] = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        mask = (p > lo) & (p <= hi) if b else (p <= hi)
        n = int(mask.sum())
        if not n:
            continue
        mean, share = float(p[mask].mean()), float(y[mask].mean())
        ece += n / len(p) * abs(mean - share)
        rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "turns": n, "mean_score": round(mean, 3),
                     "share_worsening": round(share, 3)})
    return {"ece": round(ece, 4), "bins": rows}


def evaluate(turns: Sequence[Turn], probs: F64, temperature: float = 1.0,
             positive: str = "worsening") -> dict[str, Any]:
    """AUC, accuracy at 0.5, per language and per register, and the reliability table of
    out-of-fold ``probs`` (column 1: the ``positive`` label's)."""
    p = tempered(probs, temperature)[:, WORSENING]
    y = np.array([t.label == positive for t in turns])
    right = (p >= 0.5) == y

    def part(idx: list[int]) -> dict[str, float]:
        ix = np.array(idx, dtype=np.int64)
        return {"auc": round(auc(p[ix], y[ix]), 4), "accuracy": round(float(right[ix].mean()), 4)}

    languages = sorted({t.language for t in turns})
    registers = sorted({(t.label, t.register) for t in turns})
    return {
        "turns": len(turns), "auc": round(auc(p, y), 4),
        "accuracy": round(float(right.mean()), 4),
        "by_language": {lang: part([i for i, t in enumerate(turns) if t.language == lang])
                        for lang in languages},
        # share read as worsening (>= 0.5) per register: recall on worsening registers, the
        # false-alarm rate on steady ones
        "read_worsening_by_register": {
            f"{label}/{reg}": round(float((p[[i for i, t in enumerate(turns)
                                              if (t.label, t.register) == (label, reg)]]
                                            >= 0.5).mean()), 3)
            for label, reg in registers},
        "reliability": reliability(p, y),
    }


CANDIDATES: Final = (
    Settings("words 1-2, chars 3-5 in words, wd 1e-4, 10 epochs"),
    Settings("wd 1e-2", weight_decay=1e-2),
    Settings("wd 1e-1", weight_decay=1e-1),
    Settings("20 epochs", epochs=20),
    Settings("5 epochs", epochs=5),
    Settings("lr 0.05", learning_rate=0.05),
    Settings("courtesies 0.25", courtesy_share=0.25),
    Settings("courtesies 0.5", courtesy_share=0.5),
    Settings("courtesies 1", courtesy_share=1.0),
)
#: chosen by grouped cross-validation (``main``): the best mean AUC over seeds 0-2
CHOSEN: Final = CANDIDATES[0]


def train_and_save(out: Path = MODEL_PATH, settings: Settings = CHOSEN, seed: int = 0,
                   path: Path = TURNS_PATH, taxonomy: Taxonomy = TAXONOMY) -> dict[str, Any]:
    """Fits the temperature out of fold, trains on every turn and saves the model with its
    cross-validation figures in its metadata (any two-class ``taxonomy`` whose second label is
    the positive one: this model's, or another signal's turns and labels)."""
    labels = taxonomy.names
    turns = read_turns(path, labels)
    probs = out_of_fold(turns, settings, seed=seed, taxonomy=taxonomy)
    truth = np.array([labels.index(t.label) for t in turns], dtype=np.int64)
    temperature = fit_temperature(probs, truth)
    report = evaluate(turns, probs, temperature, positive=labels[1])
    model = train(turns, settings, seed, taxonomy)
    model.metadata = {
        "model_version": out.stem, "seed": seed, "settings": asdict(settings),
        "training_file": path.name,
        "training_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "train_size": len(turns), "temperature": temperature,
        "cv_auc": report["auc"], "cv_accuracy": report["accuracy"],
        "cv_ece": report["reliability"]["ece"]}
    model.save(out)
    return {"temperature": temperature, **report}


def cli(argv: Sequence[str] | None, description: str, candidates: Sequence[Settings],
        out: Path = MODEL_PATH, path: Path = TURNS_PATH, taxonomy: Taxonomy = TAXONOMY,
        chosen: Settings = CHOSEN) -> None:
    """A two-class signal's command: the cross-validation of every candidate on the turns of
    ``path``, or with ``--train`` the ``chosen`` one trained and saved to ``out``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", action="store_true", help=f"save the chosen model to {out}")
    args = parser.parse_args(argv)
    if args.train:
        print(json.dumps(train_and_save(out, chosen, args.seed, path, taxonomy), indent=1))
        return
    turns = read_turns(path, taxonomy.names)
    for settings in candidates:
        report = evaluate(turns, out_of_fold(turns, settings, seed=args.seed, taxonomy=taxonomy),
                          positive=taxonomy.names[1])
        print(json.dumps({"candidate": settings.name, "auc": report["auc"],
                          "accuracy": report["accuracy"],
                          "by_language": report["by_language"],
                          "ece": report["reliability"]["ece"]}), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    cli(argv, "Cross-validate or train the discontent model.", CANDIDATES)


if __name__ == "__main__":
    main()
