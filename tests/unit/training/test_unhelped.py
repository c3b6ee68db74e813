"""Training the "not helped" model: the hand-written replies (both labels in every language,
as many accepted as not helped), grouped folds that keep a block of replies on one side, no
reply shared with the discontent turns, and a reproducible committed model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from streams.text import unhelped
from streams.text.intent import IntentModel
from streams.training import discontent as base
from streams.training import unhelped as training
from streams.training.selection import fold_of


def test_every_language_has_as_many_accepted_replies_as_unhelped_ones() -> None:
    turns = base.read_turns(training.TURNS_PATH, unhelped.LABELS)
    count = Counter((t.language, t.label) for t in turns)
    for lang in ("en", "es", "fr", "de", "pt"):
        assert count[lang, "not_helped"] >= 40
        assert count[lang, "accepted"] == count[lang, "not_helped"]
    registers = {(t.label, t.register) for t in turns}
    assert {"explicit", "pushback", "restated", "irony"} <= {r for lb, r in registers
                                                            if lb == "not_helped"}
    assert len({t.text.casefold() for t in turns}) == len(turns)


def test_no_reply_is_a_discontent_turn_and_groups_stay_in_one_fold() -> None:
    turns = base.read_turns(training.TURNS_PATH, unhelped.LABELS)
    others = {t.text.casefold() for t in base.read_turns()}
    assert not {t.text.casefold() for t in turns} & others
    by_group: dict[str, set[tuple[str, str, str]]] = {}
    for t in turns:
        by_group.setdefault(t.group, set()).add((t.language, t.label, t.register))
    assert all(len(v) == 1 for v in by_group.values())
    assert len(Counter(fold_of(g, base.FOLDS) for g in by_group)) == base.FOLDS


def test_an_unknown_label_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("en:\n  helped:\n    x:\n      - Thanks.\n", "utf-8")
    try:
        base.read_turns(bad, unhelped.LABELS)
    except ValueError as e:
        assert "helped" in str(e)
    else:
        raise AssertionError("an unknown label was read")


def test_the_committed_model_is_what_training_gives(tmp_path: Path) -> None:
    out = tmp_path / unhelped.MODEL_PATH.name
    report = training.train_and_save(out)
    committed = IntentModel.load(unhelped.MODEL_PATH)
    again = IntentModel.load(out)
    assert committed.labels == unhelped.LABELS
    assert np.array_equal(again.weights, committed.weights)
    assert again.metadata == committed.metadata
    assert committed.metadata["cv_auc"] == report["auc"] >= 0.75
    assert committed.metadata["training_file"] == training.TURNS_PATH.name
