"""A small hand-computed dataset for the ClickHouse tables (see the insight tests)."""

from __future__ import annotations

from typing import Any

T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC in epoch ms
HOUR = 3_600_000

_EVENT_FIELDS = (
    "event_id", "conversation_id", "event_type", "occurred_at", "channel", "sender_role",
    "sentiment_compound", "sentiment_label",
)
_EVENTS: list[tuple[Any, ...]] = [
    ("e1", "c1", "STARTED", T0, "WEB", "SYSTEM", None, ""),
    ("e2", "c1", "MESSAGE", T0 + 1000, "WEB", "CUSTOMER", -0.6, "negative"),
    ("e3", "c1", "MESSAGE", T0 + 2000, "WEB", "BOT", 0.4, "positive"),
    ("e4", "c1", "MESSAGE", T0 + 3000, "WEB", "CUSTOMER", -0.2, "negative"),
    ("e5", "c2", "MESSAGE", T0 + 4000, "WEB", "CUSTOMER", 0.5, "positive"),
    ("e6", "c3", "MESSAGE", T0 + 5000, "SMS", "CUSTOMER", 0.0, "neutral"),
    ("e7", "c3", "MESSAGE", T0 + 6000, "SMS", "AGENT", 0.3, "positive"),
]


def chat_events() -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {name: [] for name in _EVENT_FIELDS}
    for row in _EVENTS:
        for name, value in zip(_EVENT_FIELDS, row, strict=True):
            cols[name].append(value)
    n = len(_EVENTS)
    message = [c is not None for c in cols["sentiment_compound"]]
    cols.update(
        sender_id=["" for _ in range(n)],
        language=["en"] * n,
        customer_id=["cust-1"] * n,
        text=[f"text of {e}" for e in cols["event_id"]],
        sentiment_positive=[0.1 if m else None for m in message],
        sentiment_neutral=[0.8 if m else None for m in message],
        sentiment_negative=[0.1 if m else None for m in message],
        _topic=["chat.events"] * n,
        _partition=[0] * n,
        _offset=list(range(n)),
        _kafka_ts=[t + 5 for t in cols["occurred_at"]],
    )
    return cols


def conversations() -> dict[str, list[Any]]:
    rows = [
        # conversation, channel, messages, customer, mean, last, min, version
        ("c1", "WEB", 1, 1, 0.9, 0.9, 0.9, 1),  # an older state, replaced by the next row
        ("c1", "WEB", 3, 2, -0.4, -0.2, -0.6, 3),
        ("c2", "WEB", 1, 1, 0.5, 0.5, 0.5, 4),
        ("c3", "SMS", 2, 1, 0.0, 0.0, 0.0, 5),
        ("c4", "EMAIL", 0, 0, None, None, None, 6),
    ]
    n = len(rows)
    columns = (list(c) for c in zip(*rows, strict=True))
    cid, channel, messages, customer, mean, last, low, version = columns
    return {
        "conversation_id": cid, "channel": channel, "language": ["en"] * n,
        "customer_id": ["cust-1"] * n, "status": ["open"] * n,
        "first_event_at": [T0] * n, "last_event_at": [T0 + 6000] * n, "events": messages,
        "messages": messages, "customer_messages": customer, "sentiment_mean": mean,
        "last_sentiment": last, "min_sentiment": low, "_topic": ["chat.events"] * n,
        "_partition": [0] * n, "_offset": version, "_version": version,
    }


def campaign_kpis() -> dict[str, list[Any]]:
    rows = [
        # platform, account, campaign, level, ad_id, start, imps, clicks, spend, conv, value,
        # currency, reported_at
        ("google", "a1", "k1", "CAMPAIGN", "", T0, 1000, 50, 100.0, 5.0, 400.0, "USD", T0 + 1),
        # the same interval restated later with more conversions: this revision wins
        ("google", "a1", "k1", "CAMPAIGN", "", T0, 1000, 50, 100.0, 10.0, 800.0, "USD", T0 + 2),
        ("google", "a1", "k1", "CAMPAIGN", "", T0 + HOUR, 3000, 50, 200.0, 0.0, 0.0, "USD",
         T0 + 3),
        ("google", "a1", "k1", "AD", "ad1", T0, 999, 9, 9.0, 9.0, 9.0, "USD", T0 + 4),
        ("meta", "a2", "k2", "CAMPAIGN", "", T0, 100, 0, 50.0, 0.0, 0.0, "EUR", T0 + 5),
    ]
    cols: dict[str, list[Any]] = {}
    names = ("platform", "account_id", "campaign_id", "level", "ad_id", "interval_start",
             "impressions", "clicks", "spend", "conversions", "conversion_value", "currency",
             "reported_at")
    for i, name in enumerate(names):
        cols[name] = [row[i] for row in rows]
    n = len(rows)
    cols.update(
        campaign_name=[f"Campaign {c}" for c in cols["campaign_id"]],
        ad_group_id=["g1" if level != "CAMPAIGN" else "" for level in cols["level"]],
        device=[""] * n,
        interval_end=[s + HOUR for s in cols["interval_start"]],
        ctr=[None] * n, cpc=[None] * n, cpa=[None] * n, roas=[None] * n, cpm=[None] * n,
        _topic=["ad.metrics"] * n, _partition=[1] * n, _offset=list(range(n)),
        _kafka_ts=cols["reported_at"], _version=cols["reported_at"],
    )
    return cols


def dead_letters() -> dict[str, list[Any]]:
    rows = [
        ("chat.events", 0, 10, "undecodable", "bad avro at byte 3"),
        ("chat.events", 1, 11, "undecodable", "bad avro at byte 9"),
        ("chat.events", 0, 12, "not_framed", "no magic byte"),
        ("ad.metrics", 2, 5, "invalid_field", "currency 'usd' is not an ISO 4217 code"),
    ]
    n = len(rows)
    topic, partition, offset, error, reason = (list(c) for c in zip(*rows, strict=True))
    return {
        "_topic": topic, "_partition": partition, "_offset": offset,
        "dlq_topic": [f"{t}.dlq" for t in topic], "key": ["k"] * n,
        "value": [b"\xff\x00raw"] * n, "headers": [{"source": "test"}] * n,
        "error": error, "reason": reason, "failed_at": [T0 + i for i in range(n)],
    }


def load_all(ch: Any, times: int = 2) -> None:
    """Insert every table's rows ``times`` times: redelivery that FINAL must absorb."""
    for _ in range(times):
        ch.insert("chat_events", chat_events())
        ch.insert("conversations", conversations())
        ch.insert("campaign_kpis", campaign_kpis())
        ch.insert("dead_letters", dead_letters())
