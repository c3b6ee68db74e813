"""What the campaigns page shows, shaped from query results: pure functions over rows.

The page reads the insight ``campaign_roi_hourly`` (KPIs per hour and entity in one reporting
currency) once per level, ``campaign_pacing`` (today's spend against the daily budget), the
``anomalies`` alerts with their drill-down (``drilldown.Contribution``) and the
``recommendations`` audit trail rebuilt as an approval ``Ledger``; this module turns those
into per-campaign summaries, a campaign's hours, its anomalies and its recommendations.

Invariants:
- A campaign's KPIs come from one level only, the coarsest it reports in the window
  (CAMPAIGN, then AD_GROUP, then AD): campaign, ad group and ad rows are never added up.
- Rates come from the sums (never averaged from per-hour rates); a rate whose denominator is
  zero, or money without an exchange rate into the reporting currency, is None, never 0.
- ``plain`` gives JSON-ready values: datetimes as ISO text, NaN and infinities as None.
- Every anomaly has a drill-down path of its own (``anomaly_path``): its campaign and the key
  of its row in ``anomalies`` (hour in epoch ms, metric, direction, status), each quoted, so
  ``anomaly_key`` reads back exactly what the path was made from.
- Nothing here queries, escapes or formats: the views fetch, the pages escape.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

from streams.marketing.approval import Ledger, Request
from streams.marketing.drilldown import Contribution
from streams.marketing.recommendations import split_key
from streams.marketing.rules import Recommendation

LEVELS: Final = ("CAMPAIGN", "AD_GROUP", "AD")
DEFAULT_HOURS: Final = 48
MAX_HOURS: Final = 24 * 92
_CURRENCY: Final = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class Window:
    """The window the page reports on: the last ``hours`` hours, money in ``currency``."""

    hours: int = DEFAULT_HOURS
    currency: str = "USD"


def window_of(params: Mapping[str, str]) -> Window:
    """The window of a page's query string (``hours``, ``currency``); ValueError if malformed."""
    text = params.get("hours", str(DEFAULT_HOURS)).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_HOURS:
        raise ValueError(f"hours must be a whole number from 1 to {MAX_HOURS}, not {text!r}")
    currency = params.get("currency", "USD").strip().upper()
    if not _CURRENCY.match(currency):
        raise ValueError(f"currency must be a three-letter code such as USD, not {currency!r}")
    return Window(int(text), currency)


@dataclass(frozen=True, slots=True)
class Kpis:
    """Sums and the rates derived from them; money in the reporting currency (None when an
    interval had no exchange rate)."""

    impressions: int = 0
    clicks: int = 0
    conversions: float = 0.0
    spend: float | None = 0.0
    revenue: float | None = 0.0
    ctr: float | None = None
    cpc: float | None = None
    cpm: float | None = None
    cpa: float | None = None
    conversion_rate: float | None = None
    roas: float | None = None
    roi: float | None = None


def _ratio(num: float | None, den: float | None) -> float | None:
    return None if num is None or not den else num / den


def _money(rows: Sequence[Mapping[str, Any]], name: str) -> float | None:
    values = [row.get(name) for row in rows]
    if any(v is None for v in values):
        return None  # some interval had no rate into the reporting currency
    return float(sum(float(v) for v in values if v is not None))


def kpis(rows: Sequence[Mapping[str, Any]]) -> Kpis:
    """The KPIs of ``campaign_roi_hourly`` rows taken together."""
    impressions = int(sum(int(r.get("impressions") or 0) for r in rows))
    clicks = int(sum(int(r.get("clicks") or 0) for r in rows))
    conversions = float(sum(float(r.get("conversions") or 0.0) for r in rows))
    spend, revenue = _money(rows, "spend_reporting"), _money(rows, "revenue_reporting")
    gain = None if spend is None or revenue is None else revenue - spend
    return Kpis(
        impressions=impressions, clicks=clicks, conversions=conversions, spend=spend,
        revenue=revenue, ctr=_ratio(clicks, impressions), cpc=_ratio(spend, clicks),
        cpm=None if spend is None or not impressions else 1000 * spend / impressions,
        cpa=_ratio(spend, conversions), conversion_rate=_ratio(conversions, clicks),
        roas=_ratio(revenue, spend), roi=_ratio(gain, spend))


def campaign_key(row: Mapping[str, Any]) -> tuple[str, str]:
    return str(row["platform"]), str(row["campaign_id"])


def coarsest(by_level: Mapping[str, Sequence[Mapping[str, Any]]]
             ) -> dict[tuple[str, str], tuple[str, list[Mapping[str, Any]]]]:
    """Per campaign, its coarsest level in the window and that level's rows."""
    out: dict[tuple[str, str], tuple[str, list[Mapping[str, Any]]]] = {}
    for level in LEVELS:
        found: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for row in by_level.get(level, ()):
            found.setdefault(campaign_key(row), []).append(row)
        for key, rows in found.items():
            out.setdefault(key, (level, rows))
    return out


@dataclass(frozen=True, slots=True)
class Pacing:
    """Today's spend against the daily budget (``campaign_pacing``), account currency."""

    spend_today: float | None
    daily_budget: float | None
    pacing: float | None
    projected_spend: float | None
    status: str


def pacing_of(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Pacing]:
    return {campaign_key(r): Pacing(r.get("spend_today"), r.get("daily_budget"), r.get("pacing"),
                                    r.get("projected_spend"), str(r.get("status") or ""))
            for r in rows}


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    platform: str
    campaign_id: str
    name: str
    level: str
    currency: str  # the reporting currency
    account_currency: str
    kpis: Kpis
    pacing: Pacing | None
    anomalies: int  # alerts in the window
    pending: int  # recommendations waiting for a decision


def summaries(window: Window, by_level: Mapping[str, Sequence[Mapping[str, Any]]],
              pacing_rows: Iterable[Mapping[str, Any]], names: Mapping[tuple[str, str], str],
              alerts: Iterable[Mapping[str, Any]], ledger: Ledger) -> list[CampaignSummary]:
    """One summary per campaign with data in the window, largest spend first."""
    pacing = pacing_of(pacing_rows)
    alert_counts: dict[tuple[str, str], int] = {}
    for alert in alerts:
        alert_counts[campaign_key(alert)] = alert_counts.get(campaign_key(alert), 0) + 1
    waiting: dict[tuple[str, str], int] = {}
    for req in ledger.requests.values():
        if req.status == "pending":
            key = split_key(req.recommendation.campaign_id)
            waiting[key] = waiting.get(key, 0) + 1
    out = [CampaignSummary(
        platform=key[0], campaign_id=key[1], name=names.get(key, ""), level=level,
        currency=window.currency, account_currency=str(rows[0].get("account_currency") or ""),
        kpis=kpis(rows), pacing=pacing.get(key), anomalies=alert_counts.get(key, 0),
        pending=waiting.get(key, 0)) for key, (level, rows) in coarsest(by_level).items()]
    return sorted(out, key=lambda s: (-(s.kpis.spend or 0.0), s.platform, s.campaign_id))


@dataclass(frozen=True, slots=True)
class HourKpis:
    hour: dt.datetime
    kpis: Kpis


def hourly(rows: Iterable[Mapping[str, Any]]) -> list[HourKpis]:
    """A campaign's rows (one level) per hour, latest hour first."""
    by_hour: dict[dt.datetime, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_hour.setdefault(row["hour"], []).append(row)
    return [HourKpis(hour, kpis(held)) for hour, held in sorted(by_hour.items(), reverse=True)]


@dataclass(frozen=True, slots=True)
class Driver:
    """One child behind an anomaly: its share of the deviation and its values."""

    dimension: str
    key: str
    share: float | None
    contribution: float | None
    current: float | None
    baseline: float | None


@dataclass(frozen=True, slots=True)
class AnomalyView:
    hour: dt.datetime
    metric: str
    direction: str
    status: str
    severity: str
    value: float
    baseline: float
    change: float
    z: float
    window_hours: int
    drivers: dict[str, list[Driver]] = field(default_factory=dict)  # by dimension


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def anomaly_view(alert: Mapping[str, Any],
                 drill: Mapping[str, Sequence[Contribution]] | None) -> AnomalyView:
    """An alert (``hour`` in epoch ms) with the children behind it, ranked as drilled."""
    drivers = {dimension: [Driver(c.dimension, c.key, _finite(c.share), _finite(c.contribution),
                                  _finite(c.current), _finite(c.baseline)) for c in ranked]
               for dimension, ranked in (drill or {}).items()}
    return AnomalyView(
        hour=dt.datetime.fromtimestamp(int(alert["hour"]) / 1000, dt.UTC),
        metric=str(alert["metric"]), direction=str(alert["direction"]),
        status=str(alert["status"]), severity=str(alert["severity"]),
        value=float(alert["value"]), baseline=float(alert["baseline"]),
        change=float(alert["change"]), z=float(alert["z"]),
        window_hours=int(alert["window_hours"]), drivers=drivers)


@dataclass(frozen=True, slots=True)
class AnomalyKey:
    """One row of ``anomalies``: what a drill-down path names."""

    platform: str
    campaign_id: str
    hour_ms: int
    metric: str
    direction: str
    status: str


def anomaly_path(platform: str, campaign_id: str, view: AnomalyView) -> str:
    """The drill-down page of one anomaly (``/api`` in front: its JSON twin)."""
    hour_ms = int(view.hour.timestamp() * 1000)
    parts = (platform, campaign_id, "anomalies", str(hour_ms), view.metric, view.direction,
             view.status)
    return "/campaigns/" + "/".join(quote(p, safe="") for p in parts)


def anomaly_key(platform: str, campaign_id: str, hour_ms: str, metric: str, direction: str,
                status: str) -> AnomalyKey:
    """The row a drill-down path names; ValueError when its hour is not epoch milliseconds."""
    if not hour_ms.isdigit() or len(hour_ms) > 15:
        raise ValueError(f"an anomaly's hour is epoch milliseconds, not {hour_ms[:20]!r}")
    return AnomalyKey(platform, campaign_id, int(hour_ms), metric, direction, status)


def alerts_of(alerts: Iterable[Mapping[str, Any]], platform: str,
              campaign_id: str) -> list[Mapping[str, Any]]:
    return [a for a in alerts if campaign_key(a) == (platform, campaign_id)]


@dataclass(frozen=True, slots=True)
class Step:
    """One transition of a recommendation's audit trail."""

    at: dt.datetime
    actor: str
    from_status: str | None
    to_status: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecommendationView:
    """A request: its recommendation in full, its current status and its audit trail."""

    request_id: str
    status: str
    dry_run: bool
    platform: str
    campaign_id: str
    as_of: dt.datetime
    recommendation: Recommendation
    history: list[Step]

    @property
    def pending(self) -> bool:
        return self.status == "pending"


def _at(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def recommendation_view(req: Request, ledger: Ledger) -> RecommendationView:
    rec = req.recommendation
    platform, campaign = split_key(rec.campaign_id)
    return RecommendationView(
        request_id=req.id, status=req.status, dry_run=req.dry_run, platform=platform,
        campaign_id=campaign, as_of=_at(rec.as_of_ms), recommendation=rec,
        history=[Step(_at(a.at_ms), a.actor, a.from_status, a.to_status, a.reason)
                 for a in ledger.audit if a.request_id == req.id])


def recommendations(ledger: Ledger, *, status: str | None = None,
                    campaign: tuple[str, str] | None = None) -> list[RecommendationView]:
    """The ledger's requests (of a status, of a campaign), by priority: expected effect
    weighted by confidence, largest first."""
    picked = [req for req in ledger.requests.values()
              if (status is None or req.status == status)
              and (campaign is None or split_key(req.recommendation.campaign_id) == campaign)]
    picked.sort(key=lambda r: (-r.recommendation.priority, r.id))
    return [recommendation_view(req, ledger) for req in picked]


def plain(value: Any) -> Any:
    """JSON-ready: dataclasses as objects, datetimes as ISO text, non-finite numbers as None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
