from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from streams.evaluation.quality import evaluate_intent_test_split, scenario_of, team_routing_test_split
from streams.text.hashing import Hashing
from streams.text.intent import (
    INTENT_HASHING,
    LABELLED_PATH,
    MODEL_PATH,
    IntentModel,
    IntentPrediction,
    conversation_intent,
    default_model,
    load_taxonomy,
)
from streams.training.data import (
    BITEXT_INTENTS,
    BITEXT_PATH,
    GUIDE_PATH,
    GUIDE_RELABELS,
    MORE_PATH,
    PAIRS_PATH,
    SEAMS_PATH,
    STYLES_PATH,
    TRAINING_PATHS,
    VARIED_PATH,
    VOICES_PATH,
    WIDE_PATH,
    LabelledMessage,
    build,
    build_guide,
    build_more,
    build_pairs,
    build_seams,
    build_styles,
    build_varied,
    build_voices,
    build_wide,
    content_words,
    import_bitext,
    near_duplicate,
    read,
)
from streams.training.intent import train_from_file

#: Measured test-split figures of models/intent-v2.npz (first hand-written set 0.832 / 0.836
#: after relabelling it by the label guide; Bitext 0.997), less a margin for retraining noise.
MIN_TEST_ACCURACY = 0.81
MIN_TEST_MACRO_F1 = 0.81
MIN_BITEXT_TEST_ACCURACY = 0.97

SMALL = [
    ("I was charged twice this month", "billing"), ("my app crashes all the time", "technical_issue"),
    ("please cancel my subscription", "cancellation"), ("I want my money back", "refund"),
    ("how much is the premium plan", "pricing"), ("talk to a human please", "human_request"),
    ("thanks, bye", "other"), ("I forgot my password", "account"),
]


def test_taxonomy_loads_with_team_hints() -> None:
    tax = load_taxonomy()
    assert len(tax.names) == 10 and tax.fallback == "other"
    assert tax.team_for("cancellation") == "retention"
    assert tax.team_for("purchase_inquiry") == "sales"
    assert tax.team_for("no-such-intent") == "general"


def test_labelled_set_is_reproducible_and_balanced() -> None:
    rows = read(LABELLED_PATH)
    assert [(r.text, r.intent, r.language, r.split) for r in build()] == [
        (r.text, r.intent, r.language, r.split) for r in rows]
    assert len(rows) >= 1500
    tax = load_taxonomy()
    for lang in ("en", "es", "fr", "de", "pt"):
        for split in ("train", "test"):
            assert {r.intent for r in rows if r.language == lang and r.split == split} == set(
                tax.names)


def test_second_labelled_set_is_reproducible_and_apart_from_the_first() -> None:
    rows = read(MORE_PATH)
    assert [(r.text, r.intent, r.language, r.split, r.group) for r in build_more()] == [
        (r.text, r.intent, r.language, r.split, r.group) for r in rows]
    assert {r.language for r in rows} == {"en", "es", "fr", "de", "pt"}
    assert {r.split for r in rows} == {"train", "test"}
    assert all(r.group.startswith("more/") for r in rows)
    first = read(LABELLED_PATH)
    assert not {r.text for r in rows} & {r.text for r in first}
    assert not {r.group for r in rows} & {r.group for r in first}


def test_guide_set_is_reproducible_and_apart_from_the_others() -> None:
    rows = read(GUIDE_PATH)
    assert [(r.text, r.intent, r.language, r.split, r.group) for r in build_guide()] == [
        (r.text, r.intent, r.language, r.split, r.group) for r in rows]
    assert {r.language for r in rows} == {"en", "es", "fr", "de", "pt"}
    assert all(r.group.startswith("guide/") for r in rows)
    others = read(LABELLED_PATH) + read(MORE_PATH)
    assert not {r.text for r in rows} & {r.text for r in others}


def test_varied_set_is_reproducible_and_apart_from_the_others() -> None:
    rows = read(VARIED_PATH)
    assert [(r.text, r.intent, r.language, r.split, r.group) for r in build_varied()] == [
        (r.text, r.intent, r.language, r.split, r.group) for r in rows]
    assert all(r.group.startswith("varied/") for r in rows)
    others = read(LABELLED_PATH) + read(MORE_PATH) + read(GUIDE_PATH)
    assert not {r.text for r in rows} & {r.text for r in others}
    # every intent in every language, in both splits, several hundred messages a language
    tax = load_taxonomy()
    for lang in ("en", "es", "fr", "de", "pt"):
        assert len([r for r in rows if r.language == lang]) >= 500, lang
        for split in ("train", "test"):
            assert {r.intent for r in rows if r.language == lang and r.split == split} == set(
                tax.names), (lang, split)


def test_wide_set_is_reproducible_and_apart_from_the_others() -> None:
    rows = read(WIDE_PATH)
    assert [(r.text, r.intent, r.language, r.split, r.group) for r in build_wide()] == [
        (r.text, r.intent, r.language, r.split, r.group) for r in rows]
    assert all(r.group.startswith("wide/") for r in rows)
    others = read(LABELLED_PATH) + read(MORE_PATH) + read(GUIDE_PATH) + read(VARIED_PATH)
    assert not {r.text for r in rows} & {r.text for r in others}
    assert {r.language for r in rows} == {"en", "es", "fr", "de", "pt"}
    assert {r.split for r in rows} == {"train", "test"}
    assert WIDE_PATH in TRAINING_PATHS


@pytest.mark.parametrize(("path", "build", "earlier"), [
    (STYLES_PATH, build_styles, (LABELLED_PATH, MORE_PATH, GUIDE_PATH, VARIED_PATH, WIDE_PATH)),
    (VOICES_PATH, build_voices,
     (LABELLED_PATH, MORE_PATH, GUIDE_PATH, VARIED_PATH, WIDE_PATH, STYLES_PATH)),
    (SEAMS_PATH, build_seams,
     (LABELLED_PATH, MORE_PATH, GUIDE_PATH, VARIED_PATH, WIDE_PATH, STYLES_PATH, VOICES_PATH)),
    (PAIRS_PATH, build_pairs,
     (LABELLED_PATH, MORE_PATH, GUIDE_PATH, VARIED_PATH, WIDE_PATH, STYLES_PATH, VOICES_PATH,
      SEAMS_PATH)),
], ids=["styles", "voices", "seams", "pairs"])
def test_a_later_set_is_reproducible_and_apart_from_the_others(
        path: Path, build: Callable[[], list[LabelledMessage]],
        earlier: tuple[Path, ...]) -> None:
    rows = read(path)
    assert [(r.text, r.intent, r.language, r.split, r.group) for r in build()] == [
        (r.text, r.intent, r.language, r.split, r.group) for r in rows]
    assert all(r.group.startswith(f"{path.stem.removeprefix('intent_labelled_')}/")
               for r in rows)
    others = [r for p in earlier for r in read(p)]
    assert not {r.text for r in rows} & {r.text for r in others}
    # every intent in every language, in both splits: the framings carry no intent
    tax = load_taxonomy()
    for lang in ("en", "es", "fr", "de", "pt"):
        for split in ("train", "test"):
            assert {r.intent for r in rows if r.language == lang and r.split == split} == set(
                tax.names), (lang, split)
    assert path in TRAINING_PATHS


def test_relabelled_phrasings_follow_the_label_guide() -> None:
    # LABELS.md: the payment method on file is account, quotes are pricing, trials are
    # purchase_inquiry; the table changes the label of a phrasing, never its group or split
    rows = {r.group: r for r in read(LABELLED_PATH) + read(MORE_PATH)}
    assert rows["en/billing/2"].intent == "account"  # "change the credit card you bill"
    assert rows["en/purchase_inquiry/6"].intent == "pricing"  # "send us a quote"
    assert rows["en/pricing/3"].intent == "purchase_inquiry"  # "Do you have a free trial?"
    assert rows["more/en/billing/17"].intent == "billing"  # which cards they take
    assert all(rows[group].intent == intent for group, intent in GUIDE_RELABELS.items())


def test_labelled_set_does_not_copy_simulator_openings() -> None:
    hits = [r.text for path in TRAINING_PATHS for r in read(path)
            if scenario_of(r.text, r.language)]
    assert hits == []


@pytest.mark.parametrize("path", TRAINING_PATHS)
def test_no_group_is_in_both_splits(path: Path) -> None:
    rows = read(path)
    assert all(r.group for r in rows)
    split_of: dict[str, set[str]] = {}
    for r in rows:
        split_of.setdefault(r.group, set()).add(r.split)
    assert [g for g, splits in split_of.items() if len(splits) > 1] == []
    assert {r.split for r in rows} == {"train", "test"}


def test_bitext_subset_has_no_near_duplicates_across_splits() -> None:
    rows = read(BITEXT_PATH)
    assert {r.intent for r in rows} == set(BITEXT_INTENTS.values())
    assert {r.language for r in rows} == {"en"}
    assert len({r.text.lower() for r in rows}) == len(rows)
    for intent in set(BITEXT_INTENTS.values()):
        train = [content_words(r.text) for r in rows if r.intent == intent and r.split == "train"]
        test = [content_words(r.text) for r in rows if r.intent == intent and r.split == "test"]
        assert test and train
        assert not any(near_duplicate(a, b) for a in test for b in train), intent


def test_bitext_import_maps_drops_and_keeps_paraphrases_together() -> None:
    rows = [{"instruction": t, "intent": i} for t, i in [
        ("I want to get a refund for order 12345", "get_refund"),
        ("i want to get a refund for order 99", "get_refund"),  # same words: one group
        ("need a refund for my order 12345", "get_refund"),
        ("how long do reimbursements take", "check_refund_policy"),
        ("I  WANT to get a refund for order 12345", "get_refund"),  # duplicate
        ("leave a review", "review"),  # not mapped
        ("talk to a live agent", "contact_human_agent"),
    ]]
    out = import_bitext(rows)
    assert import_bitext(rows) == out
    assert [(m.intent, m.language) for m in out].count(("refund", "en")) == 4
    assert {m.intent for m in out} == {"refund", "human_request"}
    group = {m.text: m.group for m in out}
    assert group["I want to get a refund for order 12345"] == group[
        "i want to get a refund for order 99"] == group["need a refund for my order 12345"]
    split = {m.text: m.split for m in out}
    assert split["I want to get a refund for order 12345"] == split["need a refund for my order 12345"]


def test_hash_features_are_stable_and_batch_independent() -> None:
    h = Hashing()
    texts = ["Hello, World!!  I'm here", "", "Où est ma commande 123?", "a"]
    buckets, ids = h.features(texts)
    for i, text in enumerate(texts):
        alone, _ = h.features([text])
        assert sorted(alone.tolist()) == sorted(buckets[ids == i].tolist())
    # " hello world i m here ": 20 + 19 + 18 char n-grams, 5 words, 4 bigrams, 1 bias
    assert (ids == 0).sum() == 67
    assert buckets[ids == 1].tolist() == [h.buckets]
    # character 3-5-grams within words, with the spaces around each: 12 + 12 + 1 + 1 + 9 of
    # " hello ", " world ", " i ", " m ", " here "; 5 words, 4 bigrams, 1 bias
    within, ids_within = INTENT_HASHING.features(texts[:1])
    assert len(within) == 35 + 5 + 4 + 1 and set(ids_within.tolist()) == {0}
    # accent folding and case: the same features
    a, _ = h.features(["OÙ EST"])
    b, _ = h.features(["ou est"])
    assert sorted(a.tolist()) == sorted(b.tolist())
    assert int(buckets.max()) <= h.buckets


def _tiny() -> tuple[list[str], list[str]]:
    rows = [r for r in read(LABELLED_PATH) if r.split == "train"][::4]
    return [r.text for r in rows], [r.intent for r in rows]


def test_training_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    texts, labels = _tiny()
    tax = load_taxonomy()
    a = IntentModel.train(texts, labels, taxonomy=tax, epochs=3, seed=1)
    b = IntentModel.train(texts, labels, taxonomy=tax, epochs=3, seed=1)
    assert np.array_equal(a.weights, b.weights)
    path = tmp_path / "m.npz"
    a.save(path)
    loaded = IntentModel.load(path)
    probe = [t for t, _ in SMALL] + texts[:50]
    assert loaded.predict_many(probe) == a.predict_many(probe)
    assert np.array_equal(loaded.probabilities(probe), a.probabilities(probe))


def test_committed_model_file_is_small_and_described() -> None:
    assert MODEL_PATH.stat().st_size < 5_000_000
    meta = default_model().metadata
    assert re.fullmatch(r"[0-9a-f]{64}", meta["training_sha256"])
    assert meta["test_size"] > 0
    # trained on the committed labelled files, as they are now
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in TRAINING_PATHS)).hexdigest()
    assert meta["training_sha256"] == digest
    assert default_model().hashing == INTENT_HASHING


def test_committed_model_test_split_accuracy() -> None:
    metrics = evaluate_intent_test_split(default_model())
    assert metrics.accuracy >= MIN_TEST_ACCURACY, json.dumps(metrics.per_label_f1)
    assert metrics.macro_f1 >= MIN_TEST_MACRO_F1, json.dumps(metrics.per_label_f1)
    bitext = evaluate_intent_test_split(default_model(), BITEXT_PATH)
    assert bitext.accuracy >= MIN_BITEXT_TEST_ACCURACY, json.dumps(bitext.per_label_f1)


def test_team_routing_on_the_test_split_counts_intents_of_one_team_as_right() -> None:
    model = default_model()
    teams = team_routing_test_split(model)
    intent = evaluate_intent_test_split(model).accuracy
    assert set(teams) == {"low", "medium", "high"}
    # billing and refund, purchase and pricing, ... share a team: routing is at least as
    # right as the intent, and the value tiers move it only a little
    assert all(intent <= v <= 1.0 for v in teams.values())
    assert max(teams.values()) - min(teams.values()) < 0.05


def test_committed_model_is_what_training_produces(tmp_path: Path) -> None:
    out = tmp_path / "intent.npz"
    report = train_from_file(out=out)
    retrained = IntentModel.load(out)
    assert retrained.metadata["training_sha256"] == default_model().metadata["training_sha256"]
    assert report.accuracy == pytest.approx(default_model().metadata["test_accuracy"], abs=0.01)
    texts = [r.text for r in read(LABELLED_PATH) if r.split == "test"]
    same = sum(a.intent == b.intent for a, b in zip(
        retrained.predict_many(texts), default_model().predict_many(texts), strict=True))
    assert same / len(texts) >= 0.99


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        *SMALL,
        ("cancel my order and refund me", "refund"),
        ("Quiero darme de baja, es demasiado caro", "cancellation"),
        ("¿Cuánto cuesta el plan Pro?", "pricing"),
        ("Je voudrais être remboursé", "refund"),
        ("Je n'arrive pas à me connecter à mon compte", "account"),
        ("Ich möchte mit einem Menschen sprechen", "human_request"),
        ("Die App stürzt ständig ab", "technical_issue"),
        ("Quero cancelar minha assinatura", "cancellation"),
        ("Vocês me cobraram duas vezes", "billing"),
    ],
)
def test_obvious_cases(text: str, intent: str) -> None:
    assert default_model().predict(text).intent == intent


def test_prediction_shape() -> None:
    preds = default_model().predict_many(["hello", "", "I want a refund"])
    assert len(preds) == 3
    for p in preds:
        assert len(p.scores) == 3 and p.intent == next(iter(p.scores))
        assert 0.0 <= p.confidence <= 1.0
    assert default_model().predict_many([]) == []


def test_conversation_intent_prefers_first_confident_specific_message() -> None:
    hi = IntentPrediction("other", 0.9, {"other": 0.9})
    weak = IntentPrediction("billing", 0.4, {"billing": 0.4})
    strong = IntentPrediction("refund", 0.8, {"refund": 0.8})
    assert conversation_intent([hi, weak, strong]) == strong
    assert conversation_intent([hi, weak]) == weak
    assert conversation_intent([hi]) == hi
    assert conversation_intent([]) is None
