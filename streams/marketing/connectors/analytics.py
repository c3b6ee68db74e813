"""Web analytics (GA4 Data API ``runReport``): hourly sessions by source, medium and campaign.

Invariants:
- A report is read with ``offset``/``limit`` until ``rowCount`` rows were seen; the metric
  values arrive as strings in the order of ``metricHeaders``, read by name, not by position.
- ``dateHour`` is in the property's time zone (``metadata.timeZone``) and is converted to
  UTC; money is in ``metadata.currencyCode``.
- A row is one campaign (``sessionCampaignName``) reached through one ``source / medium``:
  it is an AD_GROUP row whose ad_group_id is "source / medium" (GA4's own spelling), so that
  the rows of one campaign from different sources stay distinct intervals. impressions =
  sessions, clicks = engaged sessions, conversions = key events, value = purchase revenue.
- GA4 reports aggregates, not people: this connector produces no touchpoints.
- RESOURCE_EXHAUSTED (429) waits; UNAVAILABLE/INTERNAL (5xx) are retried.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from streams.marketing.connectors.base import Batch, Connector, ConnectorConfig, Http, paginate
from streams.marketing.connectors.rows import (
    Reject,
    RowError,
    amount,
    count,
    local_interval,
    metric,
    split_rows,
    text,
)

PLATFORM = "WEB_ANALYTICS"
DIMENSIONS = ("dateHour", "sessionSource", "sessionMedium", "sessionCampaignName")
METRICS = ("sessions", "engagedSessions", "totalUsers", "keyEvents", "purchaseRevenue")


@dataclass(frozen=True, kw_only=True)
class AnalyticsConfig(ConnectorConfig):
    """Property ids as ``properties/<number>``; ``access_token`` is an OAuth bearer token."""

    access_token: str = field(repr=False)
    api_version: str = "v1beta"


def _named(headers: Any, values: Any, what: str) -> dict[str, str]:
    if not isinstance(values, list) or len(values) != len(headers):
        raise RowError(f"{what} do not match their headers")
    return {header["name"]: str(value.get("value", "")) for header, value in
            zip(headers, values, strict=True)}


def _date_hour(value: str) -> tuple[str, int]:
    if len(value) != 10 or not value.isdigit():
        raise RowError(f"dateHour {value!r} is not YYYYMMDDHH")
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}", int(value[8:])


def _metric_from(item: Mapping[str, Any], account: str, reported_at: int) -> dict[str, Any]:
    row = item["row"]
    dims = _named(item["dimensionHeaders"], row.get("dimensionValues"), "dimensionValues")
    values = _named(item["metricHeaders"], row.get("metricValues"), "metricValues")
    metadata = item.get("metadata") or {}
    day, hour = _date_hour(dims["dateHour"])
    start_ms, end_ms = local_interval(day, hour, text(metadata, "timeZone"))
    campaign = dims["sessionCampaignName"] or "(not set)"
    return metric(
        platform=PLATFORM, account_id=account, campaign_id=campaign, campaign_name=campaign,
        level="AD_GROUP", ad_group_id=f"{dims['sessionSource']} / {dims['sessionMedium']}",
        interval_start=start_ms, interval_end=end_ms,
        impressions=count(values["sessions"], "sessions"),
        clicks=count(values["engagedSessions"], "engagedSessions"),
        conversions=amount(values["keyEvents"], "keyEvents"),
        conversion_value=amount(values["purchaseRevenue"], "purchaseRevenue"),
        currency=text(metadata, "currencyCode"), reported_at=reported_at,
        extra={"total_users": float(count(values["totalUsers"], "totalUsers"))},
    )


def report_metrics(bodies: Sequence[Mapping[str, Any]], account: str, reported_at: int,
                   max_future_ms: int) -> tuple[list[dict[str, Any]], list[Reject]]:
    """``ad.metrics`` records and rejects of the pages of one runReport."""
    # each row keeps its page's headers and metadata: a reject is readable on its own
    items = [{"row": row, **{name: body.get(name) for name in
                             ("dimensionHeaders", "metricHeaders", "metadata")}}
             for body in bodies for row in body.get("rows") or ()]
    return split_rows(items, lambda item: _metric_from(item, account, reported_at),
                      platform=PLATFORM, account_id=account, now_ms=reported_at,
                      max_future_ms=max_future_ms)


class AnalyticsConnector(Connector):
    platform = PLATFORM
    config: AnalyticsConfig

    def __init__(self, config: AnalyticsConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.access_token}"}

    async def fetch(self, http: Http, account: str, start: date, end: date) -> Batch:
        url = f"{self.config.root}/{self.config.api_version}/{account}:runReport"
        request = {
            "dateRanges": [{"startDate": start.isoformat(), "endDate": end.isoformat()}],
            "dimensions": [{"name": name} for name in DIMENSIONS],
            "metrics": [{"name": name} for name in METRICS],
            "limit": str(self.config.page_size),
        }

        async def page(offset: int | None) -> tuple[list[dict[str, Any]], int | None]:
            body = await http.request("POST", url, json_body={**request, "offset": str(offset or 0)})
            seen = (offset or 0) + len(body.get("rows") or ())
            more = seen > (offset or 0) and seen < int(body.get("rowCount") or 0)
            return [body], seen if more else None

        metrics, rejects = report_metrics(await paginate(page), account, self.runtime.now_ms(),
                                          self.config.max_future_ms)
        return Batch(metrics=metrics, rejects=rejects)
