"""Sentiment and emotion cost per message on simulator chat traffic.

Run: ``python -m benchmarks.sentiment_bench``. Prints and returns µs/message for the reference
VADER analyzer and for FastVader (first pass with a cold token cache, then warm), the share of
messages where both give exactly the same scores, and µs/message for emotion detection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from streams.simulators.chat import conversations
from streams.text import emotion
from streams.text.vader_fast import FastVader

MESSAGES = 50_000
SEED = 42
START_MS = 1_700_000_000_000
REPEATS = 3


def _messages(count: int) -> list[str]:
    texts: list[str] = []
    records = conversations(count * 2, seed=SEED, start_ms=START_MS)
    for record in records:
        if record.value["event_type"] == "MESSAGE" and record.value["text"]:
            texts.append(record.value["text"])
            if len(texts) == count:
                break
    return texts


def _us_per_message(run: Callable[[], object], count: int, repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


def run(count: int = MESSAGES) -> dict[str, Any]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    texts = _messages(count)
    reference = SentimentIntensityAnalyzer()

    started = time.perf_counter()
    expected = [reference.polarity_scores(text) for text in texts]
    reference_us = (time.perf_counter() - started) / len(texts) * 1e6

    fast = FastVader()
    started = time.perf_counter()
    got = fast.score_many(texts)
    fast_cold_us = (time.perf_counter() - started) / len(texts) * 1e6
    fast_us = _us_per_message(lambda: fast.score_many(texts), len(texts))

    exact = sum(
        1 for e, g in zip(expected, got, strict=True)
        if (e["compound"], e["pos"], e["neu"], e["neg"]) == g
    )
    compounds = [scores[0] for scores in got]
    emotion_us = _us_per_message(lambda: emotion.detect_many(texts, compounds), len(texts))

    result: dict[str, Any] = {
        "sentiment_messages": len(texts),
        "sentiment_vader_reference_us_per_msg": round(reference_us, 2),
        "sentiment_fast_cold_us_per_msg": round(fast_cold_us, 2),
        "sentiment_fast_us_per_msg": round(fast_us, 2),
        "sentiment_speedup": round(reference_us / fast_us, 1),
        "sentiment_exact_agreement": exact / len(texts),
        "emotion_us_per_msg": round(emotion_us, 2),
    }
    return result


def main() -> None:
    for key, value in run().items():
        print(f"{key:40s} {value}")


if __name__ == "__main__":
    main()
