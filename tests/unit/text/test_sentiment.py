from __future__ import annotations

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from streams.text.sentiment import Sentiment, label_for, score_text, score_texts

TEXTS = [
    "I love this product, thank you so much!",
    "This is the worst customer service I have ever experienced.",
    "Where is my order TS-1234567?",
    "Let me speak to a manager NOW.",
    "Great, a replacement works for me. Thank you!",
    "Estoy muy molesto con el retraso.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_scores_equal_vader(text: str) -> None:
    expected = SentimentIntensityAnalyzer().polarity_scores(text)
    got = score_text(text)
    assert got.compound == expected["compound"]
    assert got.positive == expected["pos"]
    assert got.neutral == expected["neu"]
    assert got.negative == expected["neg"]
    assert got.label == label_for(expected["compound"])


@pytest.mark.parametrize(
    ("compound", "label"),
    [
        (0.05, "positive"), (0.0500001, "positive"), (1.0, "positive"),
        (0.0499999, "neutral"), (0.0, "neutral"), (-0.0499999, "neutral"),
        (-0.05, "negative"), (-1.0, "negative"),
    ],
)
def test_labels_at_thresholds(compound: float, label: str) -> None:
    assert label_for(compound) == label


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_text_is_neutral_zero(text: str) -> None:
    assert score_text(text) == Sentiment(0.0, 0.0, 0.0, 0.0, "neutral")


def test_batch_equals_single() -> None:
    texts = [*TEXTS, "", "ok"]
    assert score_texts(texts) == [score_text(t) for t in texts]
    assert score_texts([]) == []


def test_labels_are_polar() -> None:
    assert score_text(TEXTS[0]).label == "positive"
    assert score_text(TEXTS[1]).label == "negative"
    assert score_text(TEXTS[2]).label == "neutral"
