from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from streams.intent import (
    LABELLED_PATH,
    MODEL_PATH,
    Hashing,
    IntentModel,
    IntentPrediction,
    conversation_intent,
    default_model,
    load_taxonomy,
)
from streams.quality import evaluate_intent_test_split, scenario_of
from streams.training_data import build, read

#: Measured test-split accuracy of models/intent-v1.npz, less a margin for retraining noise.
MIN_TEST_ACCURACY = 0.50

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


def test_labelled_set_does_not_copy_simulator_openings() -> None:
    hits = [r.text for r in read(LABELLED_PATH) if scenario_of(r.text, r.language)]
    assert hits == []


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


def test_committed_model_test_split_accuracy() -> None:
    metrics = evaluate_intent_test_split(default_model())
    assert metrics.accuracy >= MIN_TEST_ACCURACY, json.dumps(metrics.per_label_f1)


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
