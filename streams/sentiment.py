"""Sentiment of a message text: VADER's scores and its standard label thresholds.

Pure and synchronous. The analyzer loads its lexicon once (about 7,500 entries) the first
time a text is scored, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Final, NamedTuple, Protocol

#: VADER's recommended thresholds on the compound score.
POSITIVE_THRESHOLD: Final = 0.05
NEGATIVE_THRESHOLD: Final = -0.05


class Sentiment(NamedTuple):
    compound: float
    positive: float
    neutral: float
    negative: float
    label: str


NEUTRAL_ZERO: Final = Sentiment(0.0, 0.0, 0.0, 0.0, "neutral")


class _Analyzer(Protocol):
    def polarity_scores(self, text: str) -> dict[str, float]: ...


@cache
def _analyzer() -> _Analyzer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer: _Analyzer = SentimentIntensityAnalyzer()
    return analyzer


def label_for(compound: float) -> str:
    """'positive' at compound >= 0.05, 'negative' at <= -0.05, else 'neutral'."""
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def score_text(text: str) -> Sentiment:
    """VADER's polarity scores of ``text``; empty or blank text scores neutral zeros."""
    if not text or text.isspace():
        return NEUTRAL_ZERO
    scores = _analyzer().polarity_scores(text)
    compound = float(scores["compound"])
    return Sentiment(
        compound=compound,
        positive=float(scores["pos"]),
        neutral=float(scores["neu"]),
        negative=float(scores["neg"]),
        label=label_for(compound),
    )


def score_texts(texts: Sequence[str]) -> list[Sentiment]:
    """Scores of a batch of texts, in order (VADER has no vectorised path; this saves the
    per-call lookups of the agents' batch loops)."""
    analyzer = _analyzer()
    out: list[Sentiment] = []
    append = out.append
    for text in texts:
        if not text or text.isspace():
            append(NEUTRAL_ZERO)
            continue
        scores = analyzer.polarity_scores(text)
        compound = float(scores["compound"])
        append(
            Sentiment(
                compound,
                float(scores["pos"]),
                float(scores["neu"]),
                float(scores["neg"]),
                label_for(compound),
            )
        )
    return out
