"""Anomaly alerts read back from ClickHouse, with the drill-down behind each, and the
campaigns the optimiser must leave alone while their data is anomalous.

``drill(query, alert)`` fetches the ``campaign_kpis`` rows of the alert's window and of the
same hours of the baseline weeks (``drilldown.alert_windows``) and ranks the ad groups, ads,
devices and hours of the campaign by their share of the deviation (``drilldown.drill_down``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from streams.marketing.anomaly_scoring import Metric
from streams.marketing.drilldown import Contribution, alert_windows, drill_down
from streams.ops.optimise import HOUR_MS, Query

ALERTS_SQL: Final = """
SELECT platform, campaign_id, metric, direction, status, severity,
       toUnixTimestamp64Milli(hour) AS hour_ms, toUnixTimestamp64Milli(since) AS since_ms,
       value, baseline, change, z, window_hours
FROM anomalies FINAL
WHERE anomalies.hour >= fromUnixTimestamp64Milli({from_ms:Int64})
ORDER BY hour_ms DESC, platform, campaign_id, metric
LIMIT {limit:UInt32}
"""
ROWS_SQL: Final = """
SELECT level, campaign_id, ad_group_id, ad_id, device,
       toUnixTimestamp64Milli(interval_start) AS start_ms,
       toUnixTimestamp64Milli(reported_at) AS reported_ms,
       impressions, clicks, spend AS cost, conversions, conversion_value
FROM campaign_kpis FINAL
WHERE platform = {platform:String} AND campaign_id = {campaign:String}
  AND interval_start >= fromUnixTimestamp64Milli({first:Int64})
  AND interval_start < fromUnixTimestamp64Milli({after:Int64})
"""


def recent_alerts(query: Query, since_ms: int, limit: int = 50) -> list[dict[str, Any]]:
    """Alerts of hours from ``since_ms`` on, latest first (``hour`` and ``since`` in ms)."""
    rows = query(ALERTS_SQL, {"from_ms": since_ms, "limit": limit})
    for row in rows:
        row["hour"], row["since"] = int(row.pop("hour_ms")), int(row.pop("since_ms"))
    return rows


def _rows(query: Query, alert: Mapping[str, Any], start: int, end: int) -> list[dict[str, Any]]:
    rows = query(ROWS_SQL, {"platform": alert["platform"], "campaign": alert["campaign_id"],
                            "first": start, "after": end})
    for row in rows:  # the table keeps an absent id or device as ''
        for name in ("ad_group_id", "ad_id", "device"):
            row[name] = row[name] or None
        row["interval_start"], row["reported_at"] = row.pop("start_ms"), row.pop("reported_ms")
    return rows


def drill(query: Query, alert: Mapping[str, Any], top: int = 3
          ) -> dict[str, list[Contribution]]:
    """Per dimension, the children of the campaign ranked by their part in the alert."""
    (start, end), weeks, weight = alert_windows(int(alert["hour"]), int(alert["window_hours"]))
    current = _rows(query, alert, start, end)
    baseline = [row for lo, hi in weeks for row in _rows(query, alert, lo, hi)]
    return drill_down(cast(Metric, alert["metric"]), current, baseline, weight, top=top)


def anomalous_campaigns(query: Query, now_ms: int, hours: int = 24) -> frozenset[str]:
    """``<platform>:<campaign_id>`` of the campaigns with an alert in the last ``hours``: no
    optimisation decision is taken on them (guard rail ``data_anomalous``)."""
    alerts = recent_alerts(query, now_ms - hours * HOUR_MS, limit=10_000)
    return frozenset(f"{a['platform']}:{a['campaign_id']}" for a in alerts)
