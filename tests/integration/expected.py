"""What the pipeline must produce for known input, computed independently of it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from streams.kernel.records import OutputRecord
from streams.text import language, mood

_vader = SentimentIntensityAnalyzer()


def vader(text: str) -> float:
    return float(_vader.polarity_scores(text)["compound"])


def customer_mood(text: str) -> float:
    """The product's rule for a customer message: VADER for English (and any language the
    mood lexicons do not cover), the es/fr/de/pt mood lexicons otherwise."""
    lang = language.detect_many([text])[0][0]
    return mood.score(text, lang) if lang in mood.LANGUAGES else vader(text)


def conversations(records: Iterable[OutputRecord]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"events": 0, "messages": 0, "customer_messages": 0, "scores": [],
                 "status": "open"}
    )
    for rec in records:
        v = rec.value
        c = out[v["conversation_id"]]
        c["events"] += 1
        if v["event_type"] == "MESSAGE":
            c["messages"] += 1
            if c["status"] == "ended":
                c["status"] = "open"
            if v["sender_role"] == "CUSTOMER":
                c["customer_messages"] += 1
                c["scores"].append(customer_mood(v["text"]))
        elif v["event_type"] == "ENDED":
            c["status"] = "ended"
        elif v["event_type"] == "HANDOFF":
            c["status"] = "handoff"
    for c in out.values():
        scores = c.pop("scores")
        c["sentiment_mean"] = sum(scores) / len(scores) if scores else None
        c["min_sentiment"] = min(scores) if scores else None
    return dict(out)


def latest_metrics(records: Iterable[OutputRecord]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Latest report per (platform, account, campaign, level, ad group, ad, device, interval)."""
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in records:
        v = rec.value
        key = (v["platform"], v["account_id"], v["campaign_id"], v["level"],
               v["ad_group_id"] or "", v["ad_id"] or "", v["device"] or "", v["interval_start"])
        if key not in latest or v["reported_at"] >= latest[key]["reported_at"]:
            latest[key] = v
    return latest
