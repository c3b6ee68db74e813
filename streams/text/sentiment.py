"""Sentiment of a message text: VADER's scores and its standard label thresholds.

Pure and synchronous. Scores come from :class:`streams.text.vader_fast.FastVader`, which gives
VADER's exact scores several times faster; :func:`reference_scores` runs the original VADER
analyzer for comparisons. Each loads its lexicon (about 7,500 entries) the first time a text
is scored, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Final, NamedTuple, Protocol

from streams.text.vader_fast import FastVader

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
def _reference() -> _Analyzer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer: _Analyzer = SentimentIntensityAnalyzer()
    return analyzer


@cache
def _fast() -> FastVader:
    return FastVader()


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
    compound, pos, neu, neg = _fast().polarity_scores(text)
    return Sentiment(compound, pos, neu, neg, label_for(compound))


_new: Final = tuple.__new__  # skips the NamedTuple's Python-level __new__


def score_texts(texts: Sequence[str]) -> list[Sentiment]:
    """Scores of a batch of texts, in order (the per-message hot path: calls are inlined)."""
    score = _fast().polarity_scores
    out: list[Sentiment] = []
    append = out.append
    for text in texts:
        if not text or text.isspace():
            append(NEUTRAL_ZERO)
            continue
        compound, pos, neu, neg = score(text)
        label = (  # label_for(compound)
            "positive" if compound >= POSITIVE_THRESHOLD
            else "negative" if compound <= NEGATIVE_THRESHOLD
            else "neutral"
        )
        append(_new(Sentiment, (compound, pos, neu, neg, label)))
    return out


def reference_scores(text: str) -> Sentiment:
    """The original VADER analyzer's scores of ``text`` (slow; for tests and quality reports)."""
    scores = _reference().polarity_scores(text)
    compound = float(scores["compound"])
    return Sentiment(
        compound,
        float(scores["pos"]),
        float(scores["neu"]),
        float(scores["neg"]),
        label_for(compound),
    )
