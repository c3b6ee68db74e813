"""The tenth hand-written set (``intent_phrasings_gaps.yaml``, English and French): built
reproducibly, apart from every earlier set, every intent in both languages and splits; kept
out of the intent model's training files, because grouped cross-validation found no gain on
the other sets (schemas/models/README.md). ``selection.set_effect`` scores a set left out and
put in on the same folds."""

from __future__ import annotations

from streams.text.intent import load_taxonomy
from streams.training.data import (
    EXTRA_SETS,
    GAPS_PATH,
    TRAINING_PATHS,
    LabelledMessage,
    build_gaps,
    read,
)
from streams.training.selection import set_effect


def test_the_gaps_set_is_reproducible_apart_and_not_trained_on() -> None:
    rows = read(GAPS_PATH)
    assert [(r.text, r.intent, r.language, r.split, r.group) for r in build_gaps()] == [
        (r.text, r.intent, r.language, r.split, r.group) for r in rows]
    assert all(r.group.startswith("gaps/") for r in rows)
    others = {r.text for p in TRAINING_PATHS for r in read(p)}
    assert not {r.text for r in rows} & others
    names = set(load_taxonomy().names)
    for lang in ("en", "fr"):
        for split in ("train", "test"):
            assert {r.intent for r in rows if r.language == lang and r.split == split} == names
    assert {r.language for r in rows} == {"en", "fr"}
    assert EXTRA_SETS[-1] == "gaps" and GAPS_PATH not in TRAINING_PATHS


def _rows(prefix: str, texts: dict[str, list[str]]) -> list[LabelledMessage]:
    return [LabelledMessage(t, intent, "en", "train", f"{prefix}/{intent}/{i}")
            for intent, ts in texts.items() for i, t in enumerate(ts)]


def test_set_effect_scores_the_other_groups_and_its_own_with_and_without() -> None:
    rows = _rows("base", {
        "billing": [f"my invoice number {i} shows a wrong charge" for i in range(8)],
        "other": [f"hello there, good morning number {i}" for i in range(8)]})
    extra = _rows("extra", {"billing": ["the bill for march has an extra fee"],
                            "other": ["good evening, have a nice day"]})
    out = set_effect(extra, rows, folds=2)
    assert set(out) == {"seed", "without", "with"}
    for label in ("without", "with"):
        block = out[label]
        assert isinstance(block, dict)
        assert 0.0 <= block["others"] <= 1.0 and 0.0 <= block["own"] <= 1.0
        assert set(block["others_by_language"]) == {"en", "es", "fr", "de", "pt"}
