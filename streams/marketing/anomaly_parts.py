"""The hourly totals of a campaign that reports only ad group or ad rows (Google Ads and
Meta by ad, GA4 by source), for the anomaly detector (``anomaly_stage``).

Invariants: the parts hold the latest report (by ``reported_at``) of each entity (level, ad
group, ad, device) of each of the last ``PARTS_HOURS`` hours behind the newest; a restated row
replaces the entity's earlier report of that hour, never adds to it; an hour's total is the
sum of its AD rows, or of its AD_GROUP rows when it has no AD row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

HOUR_MS: Final = 3_600_000
PARTS_HOURS: Final = 96
_FIGURES: Final = ("impressions", "clicks", "cost_micros", "conversions", "conversion_value")


def _entity(m: Mapping[str, Any]) -> str:
    return f"{m['level']}|{m['ad_group_id'] or ''}|{m['ad_id'] or ''}|{m['device'] or ''}"


def absorb_parts(parts: Mapping[str, Any] | None, rows: Sequence[Mapping[str, Any]]
                 ) -> tuple[dict[str, Any], set[int]]:
    """The parts after ``rows`` (AD_GROUP and AD rows of one campaign) and the hours changed."""
    hours: dict[str, dict[str, list[float]]] = {
        h: dict(v) for h, v in ((parts or {}).get("hours") or {}).items()}
    touched: set[int] = set()
    for m in rows:
        hour = int(m["interval_start"]) // HOUR_MS
        held = hours.setdefault(str(hour), {})
        entity = _entity(m)
        old = held.get(entity)
        if old is None or m["reported_at"] >= old[-1]:
            held[entity] = [float(m[name]) for name in _FIGURES] + [float(m["reported_at"])]
            touched.add(hour)
    if hours:
        newest = max(int(h) for h in hours)
        hours = {h: v for h, v in hours.items() if int(h) > newest - PARTS_HOURS}
        touched = {h for h in touched if str(h) in hours}
    return {"hours": hours}, touched


def totals(parts: Mapping[str, Any], key: str, hours: set[int]) -> list[dict[str, Any]]:
    """CAMPAIGN-level records summing each hour's AD rows (else its AD_GROUP rows)."""
    out = []
    for hour in sorted(hours):
        held: Mapping[str, list[float]] = parts["hours"][str(hour)]
        level = "AD|" if any(e.startswith("AD|") for e in held) else "AD_GROUP|"
        chosen = [v for e, v in held.items() if e.startswith(level)]
        sums = [sum(v[i] for v in chosen) for i in range(len(_FIGURES))]
        out.append({"campaign_id": key, "level": "CAMPAIGN", "device": None,
                    "interval_start": hour * HOUR_MS,
                    "reported_at": int(max(v[-1] for v in chosen)),
                    **dict(zip(_FIGURES, sums, strict=True))})
    return out
