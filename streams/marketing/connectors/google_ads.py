"""Google Ads: hourly ad-level delivery from ``googleAds:searchStream`` (GAQL), and mutations.

Invariants:
- searchStream answers with a JSON array of result batches; an element carrying ``error`` (a
  failure in the middle of the stream) discards the whole answer, which is requested again:
  a half-read stream never becomes data.
- REST JSON leaves out fields at their default (a metric of 0, hour 0): a missing metric or
  hour is 0, a missing id is a reject. int64 values arrive as strings.
- ``segments.date``/``segments.hour`` are in the customer's time zone (``customer.time_zone``);
  intervals are converted to UTC. Cost stays in micros of ``customer.currency_code``.
- RESOURCE_EXHAUSTED (HTTP 429 or in-stream) waits ``retryDelay`` when given; INTERNAL,
  UNAVAILABLE and DEADLINE_EXCEEDED are retried; anything else is a PlatformError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from streams.marketing.connectors.base import (
    IDEMPOTENCY_HEADER,
    Batch,
    Connector,
    ConnectorConfig,
    Failure,
    Http,
    MutationResult,
    http_failure,
)
from streams.marketing.connectors.rows import (
    Reject,
    amount,
    count,
    local_interval,
    metric,
    split_rows,
    text,
)

PLATFORM = "GOOGLE_ADS"
QUERY = """SELECT customer.currency_code, customer.time_zone, campaign.id, campaign.name,
  campaign_budget.amount_micros, ad_group.id, ad_group.cpc_bid_micros, ad_group_ad.ad.id,
  segments.device, segments.date, segments.hour, metrics.impressions, metrics.clicks,
  metrics.cost_micros, metrics.conversions, metrics.conversions_value
FROM ad_group_ad
WHERE segments.date BETWEEN '{start}' AND '{end}'"""
BUDGET_QUERY = "SELECT campaign.id, campaign_budget.id FROM campaign"
RATE_LIMITED = frozenset({"RESOURCE_EXHAUSTED"})
TRANSIENT = frozenset({"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "UNKNOWN", "ABORTED"})
DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


@dataclass(frozen=True, kw_only=True)
class GoogleAdsConfig(ConnectorConfig):
    """Customer ids without dashes; a manager account's id goes in ``login_customer_id``."""

    developer_token: str = field(repr=False)
    access_token: str = field(repr=False)
    login_customer_id: str | None = None
    api_version: str = "v21"


def _retry_delay(error: Mapping[str, Any]) -> float | None:
    """The quota error's ``retryDelay`` ("30s") from a google.rpc error, when present."""
    for detail in error.get("details") or ():
        for item in detail.get("errors") or ():
            quota = (item.get("details") or {}).get("quotaErrorDetails") or {}
            match = DELAY.match(str(quota.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def rpc_failure(error: Mapping[str, Any]) -> Failure:
    status = str(error.get("status", ""))
    message = f"{status} {error.get('message', '')}".strip()
    if status in RATE_LIMITED:
        return Failure("rate_limited", message, _retry_delay(error))
    if status in TRANSIENT:
        return Failure("transient", message)
    return Failure("fatal", message)


def _metric_from(row: Mapping[str, Any], account: str, reported_at: int) -> dict[str, Any]:
    campaign = row.get("campaign") or {}
    ad_group = row.get("adGroup") or {}
    segments = row.get("segments") or {}
    metrics = row.get("metrics") or {}
    customer = row.get("customer") or {}
    budget = (row.get("campaignBudget") or {}).get("amountMicros")
    bid = ad_group.get("cpcBidMicros")
    start, end = local_interval(text(segments, "date"), int(segments.get("hour", 0)),
                                text(customer, "timeZone"))
    return metric(
        platform=PLATFORM, account_id=account, campaign_id=text(campaign, "id"),
        campaign_name=campaign.get("name"), level="AD", ad_group_id=text(ad_group, "id"),
        ad_id=text((row.get("adGroupAd") or {}).get("ad") or {}, "id"),
        device=segments.get("device"), interval_start=start, interval_end=end,
        impressions=count(metrics.get("impressions", 0), "impressions"),
        clicks=count(metrics.get("clicks", 0), "clicks"),
        cost_micros=count(metrics.get("costMicros", 0), "cost_micros"),
        conversions=amount(metrics.get("conversions", 0), "conversions"),
        conversion_value=amount(metrics.get("conversionsValue", 0), "conversion_value"),
        currency=text(customer, "currencyCode"),
        bid_micros=None if bid is None else count(bid, "cpc_bid_micros"),
        budget_micros=None if budget is None else count(budget, "budget amount_micros"),
        reported_at=reported_at,
    )


def search_stream_metrics(body: Any, account: str, reported_at: int, max_future_ms: int
                          ) -> tuple[list[dict[str, Any]], list[Reject]]:
    """``ad.metrics`` records and rejects of one searchStream answer to ``QUERY``."""
    return split_rows(stream_rows(body), lambda row: _metric_from(row, account, reported_at),
                      platform=PLATFORM, account_id=account, now_ms=reported_at,
                      max_future_ms=max_future_ms)


class GoogleAdsConnector(Connector):
    platform = PLATFORM
    config: GoogleAdsConfig

    def __init__(self, config: GoogleAdsConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)

    def headers(self) -> dict[str, str]:
        headers = {"developer-token": self.config.developer_token,
                   "Authorization": f"Bearer {self.config.access_token}"}
        if self.config.login_customer_id:
            headers["login-customer-id"] = self.config.login_customer_id
        return headers

    def classify(self, status: int, headers: Mapping[str, str], body: Any) -> Failure | None:
        errors = [item["error"] for item in body if isinstance(item, dict) and "error" in item] \
            if isinstance(body, list) else []
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            errors.append(body["error"])
        if errors:
            failure = rpc_failure(errors[0])
            generic = http_failure(status, headers, body, self.runtime.now())
            if generic is not None and failure.kind == "fatal" and generic.kind != "fatal":
                return generic  # an error without a known status: the HTTP status decides
            if generic is not None and failure.kind == "rate_limited" and failure.retry_after is None:
                return Failure("rate_limited", failure.message, generic.retry_after)
            return failure
        return http_failure(status, headers, body, self.runtime.now())

    def url(self, customer_id: str, method: str) -> str:
        return f"{self.config.root}/{self.config.api_version}/customers/{customer_id}/{method}"

    async def fetch(self, http: Http, account: str, start: date, end: date) -> Batch:
        body = await http.request("POST", self.url(account, "googleAds:searchStream"),
                                  json_body={"query": QUERY.format(start=start, end=end)})
        metrics, rejects = search_stream_metrics(body, account, self.runtime.now_ms(),
                                                 self.config.max_future_ms)
        return Batch(metrics=metrics, rejects=rejects)

    async def campaign_budgets(self, customer_id: str) -> dict[str, str]:
        """Campaign id -> campaign budget id (budgets are their own resource)."""
        body = await self.send("POST", self.url(customer_id, "googleAds:searchStream"),
                               json_body={"query": BUDGET_QUERY})
        return {str(r["campaign"]["id"]): str(r["campaignBudget"]["id"]) for r in stream_rows(body)}

    async def _mutate(self, customer_id: str, collection: str, resource: str, fields: dict[str, Any],
                      request_id: str) -> MutationResult:
        resource_name = f"customers/{customer_id}/{collection}/{resource}"
        operation = {"update": {"resourceName": resource_name, **fields},
                     "updateMask": ",".join(_snake(name) for name in fields)}
        body = await self.send("POST", self.url(customer_id, f"{collection}:mutate"),
                               json_body={"operations": [operation]},
                               headers={IDEMPOTENCY_HEADER: request_id})
        return MutationResult(request_id, body)

    async def set_budget(self, customer_id: str, budget_id: str, amount_micros: int,
                         request_id: str) -> MutationResult:
        """Set a campaign budget's daily amount (``campaignBudgets:mutate``)."""
        return await self._mutate(customer_id, "campaignBudgets", budget_id,
                                  {"amountMicros": str(amount_micros)}, request_id)

    async def set_status(self, customer_id: str, campaign_id: str, status: str,
                         request_id: str) -> MutationResult:
        """ENABLED or PAUSED (``campaigns:mutate``)."""
        if status not in ("ENABLED", "PAUSED"):
            raise ValueError(f"status {status!r} is not ENABLED or PAUSED")
        return await self._mutate(customer_id, "campaigns", campaign_id, {"status": status},
                                  request_id)

    async def set_bid(self, customer_id: str, ad_group_id: str, cpc_bid_micros: int,
                      request_id: str) -> MutationResult:
        """An ad group's max CPC bid (``adGroups:mutate``)."""
        return await self._mutate(customer_id, "adGroups", ad_group_id,
                                  {"cpcBidMicros": str(cpc_bid_micros)}, request_id)


def stream_rows(body: Any) -> list[dict[str, Any]]:
    """The result rows of every batch of a searchStream answer."""
    batches = body if isinstance(body, list) else [body]
    return [row for batch in batches for row in batch.get("results") or ()]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
