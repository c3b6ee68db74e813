"""Training the discontent model: the hand-written turns (both labels in every language, as
many steady as worsening), grouped folds that keep a block of turns on one side, the AUC and
reliability helpers, and a reproducible committed model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from streams.text import discontent
from streams.text.intent import IntentModel
from streams.training import discontent as training
from streams.training.selection import fold_of


def test_every_language_has_as_many_steady_turns_as_worsening_ones() -> None:
    turns = training.read_turns()
    count = Counter((t.language, t.label) for t in turns)
    for lang in ("en", "es", "fr", "de", "pt"):
        assert count[lang, "worsening"] >= 50
        assert count[lang, "steady"] == count[lang, "worsening"]
    # short turns on both sides: short is not upset
    short = Counter(t.label for t in turns if len(t.text.split()) <= 3)
    assert short["steady"] >= 30 and short["worsening"] >= 30
    assert len({t.text.casefold() for t in turns}) == len(turns)


def test_a_group_is_one_block_of_one_register_and_stays_in_one_fold() -> None:
    turns = training.read_turns()
    by_group: dict[str, set[tuple[str, str, str]]] = {}
    for t in turns:
        by_group.setdefault(t.group, set()).add((t.language, t.label, t.register))
    assert all(len(v) == 1 for v in by_group.values())
    assert max(Counter(t.group for t in turns).values()) == training.BLOCK
    folds = Counter(fold_of(g, training.FOLDS) for g in by_group)
    assert len(folds) == training.FOLDS


def test_weights_balance_labels_within_a_language() -> None:
    turns = training.read_turns()
    w = training.weights(turns)
    total: dict[tuple[str, str], float] = {}
    for t, x in zip(turns, w, strict=True):
        total[t.language, t.label] = total.get((t.language, t.label), 0.0) + x
    assert all(abs(v - 1.0) < 1e-9 for v in total.values())


def test_auc_and_reliability() -> None:
    p = np.array([0.9, 0.8, 0.3, 0.1])
    y = np.array([True, False, True, False])
    assert training.auc(p, y) == 0.75
    assert training.auc(np.array([0.9, 0.1]), np.array([True, False])) == 1.0
    table = training.reliability(np.array([0.1, 0.1, 0.9, 0.9]),
                                 np.array([False, False, True, False]))
    assert [b["turns"] for b in table["bins"]] == [2, 2]
    assert table["ece"] == 0.5 * 0.1 + 0.5 * 0.4


def test_the_committed_model_is_what_training_gives(tmp_path: Path) -> None:
    out = tmp_path / discontent.MODEL_PATH.name
    report = training.train_and_save(out)
    committed = IntentModel.load(discontent.MODEL_PATH)
    again = IntentModel.load(out)
    assert np.array_equal(again.weights, committed.weights)
    assert again.metadata == committed.metadata
    assert committed.metadata["cv_auc"] == report["auc"] >= 0.8
