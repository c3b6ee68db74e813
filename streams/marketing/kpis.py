"""Marketing slice: per-campaign, per-interval KPIs from normalised ad-platform metrics.

Pure and synchronous (``validate`` reads the wall clock unless given the time). Every row
that reaches ``kpi_columns`` has passed ``validate``: finite amounts, counts that are not
negative, clicks not above impressions, a known currency, an interval that is neither
reversed nor in the far future. Money stays in the account currency; ratios are None when their
denominator is zero rather than a made-up 0 or infinity.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Columns, OutputRecord, Raw, empty_columns
from streams.marketing import contract as topics
from streams.marketing.metric_checks import metric_problem

KPI_COLUMNS = (
    "platform", "account_id", "campaign_id", "campaign_name", "level", "ad_group_id", "ad_id",
    "device", "interval_start", "interval_end", "impressions", "clicks", "spend", "currency",
    "conversions", "conversion_value", "ctr", "cpc", "cpa", "roas", "cpm", "reported_at",
    "_topic", "_partition", "_offset", "_kafka_ts", "_version",
)
#: The fields of a ``campaign.kpis`` record: the KPI columns without the row's position.
KPI_FIELDS = tuple(name for name in KPI_COLUMNS if not name.startswith("_"))
#: KPI fields the record leaves null where the row holds an empty string.
_NULL_WHEN_EMPTY = frozenset({"campaign_name", "ad_group_id", "ad_id", "device"})
MICROS = 1_000_000
#: An interval may start at most this long after the time of validation (clock skew, the
#: platforms' local days); later than that it is dead-lettered as from the future.
MAX_FUTURE_MS = 24 * 3_600_000


def metric_key(platform: str, campaign_id: str) -> str:
    """The Kafka key of ``ad.metrics`` and ``campaign.kpis``: one campaign, one partition."""
    return f"{platform}:{campaign_id}"


def validate(raw: Raw, metric: Mapping[str, Any], now_ms: int | None = None) -> None:
    """Contract rules beyond what Avro checks (``metric_checks``, the key, the level's ids);
    raises InvalidMessage. ``now_ms`` (default: the wall clock) dates the far future: an
    interval starting more than ``MAX_FUTURE_MS`` after it has not happened."""
    if not metric["account_id"]:
        raise InvalidMessage("invalid_field", "account_id is empty")
    now = int(time.time() * 1000) if now_ms is None else now_ms
    problem = metric_problem(metric, now, MAX_FUTURE_MS)
    if problem is not None:
        raise InvalidMessage("invalid_field", problem)
    key = raw.key_str
    expected = metric_key(metric["platform"], metric["campaign_id"])
    if key is not None and key != expected:
        raise InvalidMessage("invalid_field", f"key {key!r} should be {expected!r}")
    level = metric["level"]
    if level != "CAMPAIGN" and not metric["ad_group_id"]:
        raise InvalidMessage("invalid_field", f"a {level} row needs ad_group_id")
    if level == "AD" and not metric["ad_id"]:
        raise InvalidMessage("invalid_field", "an AD row needs ad_id")


def kpi_columns(raws: Sequence[Raw], metrics: Sequence[Mapping[str, Any]]) -> Columns:
    cols = empty_columns(KPI_COLUMNS)
    (platform, account_id, campaign_id, campaign_name, level, ad_group_id, ad_id, device,
     interval_start, interval_end, impressions, clicks, spend, currency, conversions,
     conversion_value, ctr, cpc, cpa, roas, cpm, reported_at, topic, partition, offset,
     kafka_ts, version) = (cols[name] for name in KPI_COLUMNS)
    for raw, m in zip(raws, metrics, strict=True):
        imps = m["impressions"]
        clk = m["clicks"]
        cost = m["cost_micros"] / MICROS
        conv = m["conversions"]
        value = m["conversion_value"]
        platform.append(m["platform"])
        account_id.append(m["account_id"])
        campaign_id.append(m["campaign_id"])
        campaign_name.append(m["campaign_name"] or "")
        level.append(m["level"])
        ad_group_id.append(m["ad_group_id"] or "")
        ad_id.append(m["ad_id"] or "")
        device.append(m["device"] or "")
        interval_start.append(m["interval_start"])
        interval_end.append(m["interval_end"])
        impressions.append(imps)
        clicks.append(clk)
        spend.append(cost)
        currency.append(m["currency"])
        conversions.append(conv)
        conversion_value.append(value)
        ctr.append(clk / imps if imps else None)
        cpc.append(cost / clk if clk else None)
        cpa.append(cost / conv if conv else None)
        roas.append(value / cost if cost else None)
        cpm.append(cost * 1000 / imps if imps else None)
        reported_at.append(m["reported_at"])
        topic.append(raw.topic)
        partition.append(raw.partition)
        offset.append(raw.offset)
        kafka_ts.append(raw.timestamp_ms)
        version.append(m["reported_at"])
    return cols


def kpi_records(cols: Columns) -> list[OutputRecord]:
    """``campaign.kpis`` records for the rows of ``kpi_columns``."""
    out: list[OutputRecord] = []
    for i in range(len(cols["platform"])):
        value: dict[str, Any] = {
            name: (cols[name][i] or None) if name in _NULL_WHEN_EMPTY else cols[name][i]
            for name in KPI_FIELDS
        }
        out.append(
            OutputRecord(
                topic=topics.CAMPAIGN_KPIS,
                key=metric_key(value["platform"], value["campaign_id"]),
                value=value,
            )
        )
    return out

