"""Email platform (SendGrid-style): daily campaign statistics, and Event Webhook batches.

Invariants:
- Statistics are per single send (campaign) and UTC day (``aggregated_by=day``,
  ``timezone=UTC``), paged through ``_metadata.next``. An ``ad.metrics`` row of an email
  campaign has impressions = delivered, clicks = unique clicks, cost 0 in the configured
  account currency; sends, opens, bounces, unsubscribes and spam reports go to ``extra``.
- 429 waits for Retry-After or ``X-RateLimit-Reset``; a response with
  ``X-RateLimit-Remaining: 0`` holds the next request off until the reset.
- Event Webhook batches are pushed by the platform; ``webhook_touchpoints`` turns one batch
  into touchpoints (one per event, id ``sendgrid:<sg_event_id>``, duplicates within a batch
  kept once) and rejects with reasons. It is pure; verifying the webhook's signature is the
  receiving endpoint's job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from streams.marketing.connectors.base import (
    Batch,
    Connector,
    ConnectorConfig,
    Failure,
    Http,
    http_failure,
    next_link,
    paginate,
)
from streams.marketing.connectors.rows import (
    Reject,
    RowError,
    count,
    decimal,
    identifiers,
    local_interval,
    metric,
    split_rows,
    text,
    utm_of,
)

PLATFORM = "EMAIL"
EXTRA = {"requests": "sends", "opens": "opens", "unique_opens": "unique_opens", "clicks": "clicks",
         "bounces": "bounces", "unsubscribes": "unsubscribes", "spam_reports": "spam_reports"}
EVENT_PROPERTIES = ("sg_message_id", "reason", "status", "type", "bounce_classification",
                    "useragent", "asm_group_id")


@dataclass(frozen=True, kw_only=True)
class EmailConfig(ConnectorConfig):
    """One ESP account (an API key is per account); ``currency`` is the account's currency."""

    api_key: str = field(repr=False)


def _reset_in(headers: Mapping[str, str], now: float) -> float | None:
    reset = headers.get("X-RateLimit-Reset")
    try:
        return max(0.0, float(reset) - now) if reset is not None else None
    except ValueError:
        return None


def stats_metrics(rows: Sequence[Mapping[str, Any]], account: str, currency: str, reported_at: int,
                  max_future_ms: int) -> tuple[list[dict[str, Any]], list[Reject]]:
    """``ad.metrics`` records and rejects of single-send statistics by UTC day."""

    def convert(row: Mapping[str, Any]) -> dict[str, Any]:
        stats = row.get("stats")
        if not isinstance(stats, dict):
            raise RowError("stats is missing")
        start_ms, end_ms = local_interval(text(row, "aggregation"), None, "UTC")
        return metric(
            platform=PLATFORM, account_id=account, campaign_id=text(row, "id"),
            campaign_name=row.get("name"), interval_start=start_ms, interval_end=end_ms,
            impressions=count(stats.get("delivered", 0), "delivered"),
            clicks=count(stats.get("unique_clicks", 0), "unique_clicks"),
            currency=currency, reported_at=reported_at,
            extra={name: float(count(stats.get(key, 0), key)) for key, name in EXTRA.items()},
        )

    return split_rows(rows, convert, platform=PLATFORM, account_id=account, now_ms=reported_at,
                      max_future_ms=max_future_ms)


class EmailConnector(Connector):
    platform = PLATFORM
    config: EmailConfig

    def __init__(self, config: EmailConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.api_key}"}

    def classify(self, status: int, headers: Mapping[str, str], body: Any) -> Failure | None:
        failure = http_failure(status, headers, body, self.runtime.now())
        if failure is not None and failure.kind == "rate_limited" and failure.retry_after is None:
            return Failure("rate_limited", failure.message, _reset_in(headers, self.runtime.now()))
        return failure

    def cooldown(self, headers: Mapping[str, str]) -> float:
        if headers.get("X-RateLimit-Remaining") == "0":
            return _reset_in(headers, self.runtime.now()) or 0.0
        return 0.0

    async def fetch(self, http: Http, account: str, start: date, end: date) -> Batch:
        first = {"aggregated_by": "day", "timezone": "UTC", "start_date": start.isoformat(),
                 "end_date": end.isoformat(), "page_size": str(self.config.page_size)}

        async def page(next_url: str | None) -> tuple[list[dict[str, Any]], str | None]:
            body = await http.request("GET", next_url) if next_url else await http.request(
                "GET", f"{self.config.root}/v3/marketing/stats/singlesends", params=first)
            return list(body.get("results") or ()), next_link(
                (body.get("_metadata") or {}).get("next"), self.config.root)

        metrics, rejects = stats_metrics(await paginate(page), account, self.config.currency,
                                         self.runtime.now_ms(), self.config.max_future_ms)
        return Batch(metrics=metrics, rejects=rejects)


def _touchpoint(event: Mapping[str, Any], now_ms: int, max_future_ms: int) -> dict[str, Any]:
    kind = text(event, "event")
    event_id = text(event, "sg_event_id")
    email = text(event, "email")
    seconds = decimal(event.get("timestamp"), "timestamp")
    occurred_at = int(seconds * 1000)
    if occurred_at <= 0:
        raise RowError(f"timestamp {event.get('timestamp')!r} is not a time")
    if occurred_at > now_ms + max_future_ms:
        raise RowError("timestamp is in the future")
    category = event.get("category")
    categories = [category] if isinstance(category, str) else list(category or ())
    campaign = event.get("singlesend_id") or event.get("marketing_campaign_id") or (
        categories[0] if categories else None)
    url = event.get("url")
    properties = {name: str(event[name]) for name in EVENT_PROPERTIES if event.get(name) is not None}
    if categories:
        properties["category"] = ",".join(str(c) for c in categories)
    return {
        "touchpoint_id": f"sendgrid:{event_id}", "occurred_at": occurred_at, "type": f"email_{kind}",
        "channel": "email", "platform": PLATFORM,
        "campaign_id": None if campaign is None else str(campaign), "ad_group_id": None,
        "ad_id": None, "utm": utm_of(url if isinstance(url, str) else None),
        "identifiers": identifiers(email=email), "url": url if isinstance(url, str) else None,
        "referrer": None, "properties": properties,
    }


def webhook_touchpoints(batch: bytes | str | Sequence[Any], *, account_id: str,
                        now_ms: int, max_future_ms: int = 3_600_000,
                        ) -> tuple[list[dict[str, Any]], list[Reject]]:
    """Touchpoints and rejects of one Event Webhook POST body (a JSON array of events)."""
    if isinstance(batch, bytes | str):
        try:
            events = json.loads(batch)
        except ValueError as exc:
            return [], [Reject(PLATFORM, account_id, f"body is not JSON: {exc}", {"body": str(batch)[:500]})]
    else:
        events = batch
    if not isinstance(events, list):
        return [], [Reject(PLATFORM, account_id, "body is not a JSON array", {"body": events})]
    touchpoints: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    seen: set[str] = set()
    for event in events:
        if not isinstance(event, dict):
            rejects.append(Reject(PLATFORM, account_id, "event is not an object", {"event": event}))
            continue
        try:
            touchpoint = _touchpoint(event, now_ms, max_future_ms)
        except RowError as exc:
            rejects.append(Reject(PLATFORM, account_id, str(exc), event))
            continue
        if touchpoint["touchpoint_id"] not in seen:  # the webhook may deliver an event twice
            seen.add(touchpoint["touchpoint_id"])
            touchpoints.append(touchpoint)
    return touchpoints, rejects
