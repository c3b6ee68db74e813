"""The queries of the Grafana dashboards under ``deploy/grafana/dashboards``, ready to run:
Grafana's macros replaced by fixed values (shared by the unit and integration tests)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[2]
DASHBOARDS: Final = ROOT / "deploy" / "grafana" / "dashboards"
ALERTS: Final = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS_UID: Final = "touchstream-prometheus"
CLICKHOUSE_UID: Final = "touchstream-clickhouse"
#: every time the generated rows can hold lies within this range
WIDE_RANGE: Final = ("1900-01-01 00:00:00", "2299-12-31 00:00:00")


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    uid: str
    text: str  # as written in the dashboard


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def queries() -> list[Query]:
    out = []
    for name, board in dashboards().items():
        for panel in board["panels"]:
            for target in panel["targets"]:
                uid = (target.get("datasource") or panel["datasource"])["uid"]
                text = target.get("expr") if uid == PROMETHEUS_UID else target.get("rawSql")
                out.append(Query(name, panel["title"], uid, str(text)))
    return out


def promql(text: str, rate_interval: str = "1m") -> str:
    """A dashboard expression as Prometheus runs it (Grafana's interval variables fixed)."""
    return (text.replace("$__rate_interval", rate_interval).replace("$__interval", "15s")
            .replace("$__range", "1h"))


def sql(text: str, start: str = WIDE_RANGE[0], end: str = WIDE_RANGE[1]) -> str:
    """A panel's SQL as the ClickHouse plugin sends it, over ``start``..``end`` (UTC)."""
    def time_filter(m: re.Match[str]) -> str:
        column = m.group(1).strip()
        return (f"({column} >= toDateTime64('{start}', 3, 'UTC') AND "
                f"{column} <= toDateTime64('{end}', 3, 'UTC'))")

    text = re.sub(r"\$__timeFilter\(([^)]*)\)", time_filter, text)
    text = text.replace("$__fromTime", f"toDateTime64('{start}', 3, 'UTC')")
    text = text.replace("$__toTime", f"toDateTime64('{end}', 3, 'UTC')")
    assert "$__" not in text, f"a Grafana macro the tests do not know: {text}"
    return text


def metric_names(expr: str) -> set[str]:
    """The touchstream metric names an expression reads (histogram suffixes removed)."""
    names = set(re.findall(r"\b(touchstream_[a-z0-9_]+)", expr))
    return {re.sub(r"_(bucket|count|sum)$", "", n) for n in names}
