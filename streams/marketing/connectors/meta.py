"""Meta (Facebook/Instagram) Ads: hourly ad-level Insights through asynchronous report jobs.

Invariants:
- A report is a job: ``POST /act_{id}/insights`` gives a ``report_run_id``; it is polled until
  ``async_status`` is "Job Completed" (a failed or skipped job is submitted again, a job that
  never finishes is PlatformUnavailable); its rows are read page by page through
  ``paging.next``. Rows of an unfinished job are never read.
- ``spend`` is a decimal string in the account currency, converted to micros exactly;
  conversions and their value are the sums of ``actions``/``action_values`` of the configured
  action types. Hours come from ``hourly_stats_aggregated_by_advertiser_time_zone`` in the ad
  account's time zone (read once per pull from the account) and are converted to UTC.
- Rate limits: error codes 4, 17, 32, 613 and 80000-80014 wait (for the
  ``estimated_time_to_regain_access`` of ``x-business-use-case-usage`` when given); a
  response whose usage headers are at ``throttle_at_pct`` or more holds the next request off.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
    PlatformUnavailable,
    http_failure,
    next_link,
    paginate,
)
from streams.marketing.connectors.rows import (
    Reject,
    RowError,
    amount,
    count,
    local_interval,
    metric,
    micros,
    minor_units,
    split_rows,
    text,
)

PLATFORM = "META"
FIELDS = ("account_id,account_currency,campaign_id,campaign_name,adset_id,ad_id,impressions,"
          "clicks,spend,actions,action_values")
HOURLY = "hourly_stats_aggregated_by_advertiser_time_zone"
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
USAGE_HEADERS = ("x-business-use-case-usage", "x-ad-account-usage", "x-app-usage",
                 "x-fb-ads-insights-throttle")


@dataclass(frozen=True, kw_only=True)
class MetaConfig(ConnectorConfig):
    """Ad account ids as ``act_<number>``."""

    access_token: str = field(repr=False)
    api_version: str = "v23.0"
    conversion_action_types: tuple[str, ...] = ("purchase",)
    poll_seconds: float = 5.0
    max_polls: int = 120
    job_attempts: int = 3
    throttle_at_pct: float = 90.0
    throttle_pause_seconds: float = 60.0


def usage(headers: Mapping[str, str]) -> tuple[float, float]:
    """(highest usage percentage, longest estimated_time_to_regain_access in seconds)."""
    highest, regain = 0.0, 0.0

    def visit(node: Any) -> None:
        nonlocal highest, regain
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "estimated_time_to_regain_access" and isinstance(value, int | float):
                    regain = max(regain, float(value) * 60.0)  # Meta gives minutes
                elif key in ("call_count", "total_cputime", "total_time", "acc_id_util_pct",
                             "app_id_util_pct") and isinstance(value, int | float):
                    highest = max(highest, float(value))
                else:
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    for name in USAGE_HEADERS:
        raw = headers.get(name)
        if raw:
            try:
                visit(json.loads(raw))
            except ValueError:
                continue
    return highest, regain


def _hour(row: Mapping[str, Any]) -> int:
    value = text(row, HOURLY)  # "13:00:00 - 13:59:59"
    try:
        return int(value.split(":", 1)[0])
    except ValueError:
        raise RowError(f"{HOURLY} {value!r} is not an hour range") from None


def _summed(actions: Any, types: tuple[str, ...], name: str) -> float:
    if actions is None:
        return 0.0
    if not isinstance(actions, list):
        raise RowError(f"{name} is not a list")
    return sum(amount(a.get("value"), f"{name} {a.get('action_type')}") for a in actions
               if a.get("action_type") in types)


def insights_metrics(rows: Sequence[Mapping[str, Any]], account: str, info: Mapping[str, Any],
                     conversion_types: tuple[str, ...], reported_at: int, max_future_ms: int,
                     ) -> tuple[list[dict[str, Any]], list[Reject]]:
    """``ad.metrics`` records and rejects of the rows of a finished report; ``info`` is the ad
    account (``currency``, ``timezone_name``)."""

    def convert(row: Mapping[str, Any]) -> dict[str, Any]:
        if text(row, "date_stop") < text(row, "date_start"):  # ISO dates order as text
            raise RowError("interval is reversed (date_stop before date_start)")
        start_ms, end_ms = local_interval(text(row, "date_start"), _hour(row),
                                          text(info, "timezone_name"))
        return metric(
            platform=PLATFORM, account_id=account, campaign_id=text(row, "campaign_id"),
            campaign_name=row.get("campaign_name"), level="AD",
            ad_group_id=text(row, "adset_id"), ad_id=text(row, "ad_id"),
            interval_start=start_ms, interval_end=end_ms,
            impressions=count(row.get("impressions", 0), "impressions"),
            clicks=count(row.get("clicks", 0), "clicks"),
            cost_micros=micros(row.get("spend", "0"), "spend"),
            conversions=_summed(row.get("actions"), conversion_types, "actions"),
            conversion_value=_summed(row.get("action_values"), conversion_types, "action_values"),
            currency=str(row.get("account_currency") or text(info, "currency")),
            reported_at=reported_at,
        )

    return split_rows(rows, convert, platform=PLATFORM, account_id=account, now_ms=reported_at,
                      max_future_ms=max_future_ms)


class MetaConnector(Connector):
    platform = PLATFORM
    config: MetaConfig

    def __init__(self, config: MetaConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.access_token}"}

    def url(self, path: str) -> str:
        return f"{self.config.root}/{self.config.api_version}/{path}"

    def classify(self, status: int, headers: Mapping[str, str], body: Any) -> Failure | None:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = error.get("code")
            message = f"code {code}: {error.get('message', '')}"
            if code in RATE_LIMIT_CODES:
                regain = usage(headers)[1]
                return Failure("rate_limited", message, regain if regain > 0 else None)
            if error.get("is_transient") or status >= 500 or code in (1, 2):
                return Failure("transient", message)
            return Failure("fatal", message)
        return http_failure(status, headers, body, self.runtime.now())

    def cooldown(self, headers: Mapping[str, str]) -> float:
        highest, regain = usage(headers)
        if highest >= self.config.throttle_at_pct:
            return max(regain, self.config.throttle_pause_seconds)
        return 0.0

    async def _run_job(self, http: Http, account: str, start: date, end: date) -> str:
        """Submit a report job and poll it to completion; its report_run_id."""
        form = {"level": "ad", "fields": FIELDS, "breakdowns": HOURLY, "time_increment": "1",
                "time_range": json.dumps({"since": start.isoformat(), "until": end.isoformat()})}
        last = ""
        for _ in range(self.config.job_attempts):
            job = await http.request("POST", self.url(f"{account}/insights"), form=form)
            run_id = str(job["report_run_id"])
            for _ in range(self.config.max_polls):
                state = await http.request("GET", self.url(run_id))
                last = str(state.get("async_status"))
                if last == "Job Completed" and state.get("async_percent_completion") == 100:
                    return run_id
                if last in ("Job Failed", "Job Skipped"):
                    break
                await self.runtime.sleep(self.config.poll_seconds)
            else:
                raise PlatformUnavailable(f"report {run_id} unfinished after "
                                          f"{self.config.max_polls} polls ({last})")
        raise PlatformUnavailable(f"{self.config.job_attempts} report jobs for {account} ended: {last}")

    async def fetch(self, http: Http, account: str, start: date, end: date) -> Batch:
        info = await http.request("GET", self.url(account),
                                  params={"fields": "currency,timezone_name"})
        run_id = await self._run_job(http, account, start, end)

        async def page(next_url: str | None) -> tuple[list[dict[str, Any]], str | None]:
            body = await http.request("GET", next_url) if next_url else await http.request(
                "GET", self.url(f"{run_id}/insights"), params={"limit": str(self.config.page_size)})
            return list(body.get("data") or ()), next_link(
                (body.get("paging") or {}).get("next"), self.config.root)

        metrics, rejects = insights_metrics(await paginate(page), account, info,
                                            self.config.conversion_action_types,
                                            self.runtime.now_ms(), self.config.max_future_ms)
        return Batch(metrics=metrics, rejects=rejects)

    async def update(self, object_id: str, request_id: str, *, currency: str,
                     daily_budget_micros: int | None = None, bid_amount_micros: int | None = None,
                     status: str | None = None) -> MutationResult:
        """Change a campaign's or ad set's daily budget, bid or status (``POST /{id}``).

        Meta takes budgets and bids in the currency's minor units (cents)."""
        form: dict[str, str] = {}
        if daily_budget_micros is not None:
            form["daily_budget"] = str(minor_units(daily_budget_micros, currency))
        if bid_amount_micros is not None:
            form["bid_amount"] = str(minor_units(bid_amount_micros, currency))
        if status is not None:
            if status not in ("ACTIVE", "PAUSED"):
                raise ValueError(f"status {status!r} is not ACTIVE or PAUSED")
            form["status"] = status
        if not form:
            raise ValueError("nothing to change")
        body = await self.send("POST", self.url(object_id), form=form,
                               headers={IDEMPOTENCY_HEADER: request_id})
        return MutationResult(request_id, body)

