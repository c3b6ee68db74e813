"""Marketing slice: per-campaign, per-interval KPIs from normalised ad-platform metrics.

Pure and synchronous. Money stays in the account currency; ratios are None when their
denominator is zero rather than a made-up 0 or infinity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from streams.kernel.errors import InvalidMessage
from streams.kernel.records import Columns, OutputRecord, Raw, empty_columns
from streams.marketing import contract as topics

KPI_COLUMNS = (
    "platform", "account_id", "campaign_id", "campaign_name", "level", "ad_group_id", "ad_id",
    "device", "interval_start", "interval_end", "impressions", "clicks", "spend", "currency",
    "conversions", "conversion_value", "ctr", "cpc", "cpa", "roas", "cpm", "reported_at",
    "_topic", "_partition", "_offset", "_kafka_ts", "_version",
)
MICROS = 1_000_000


def metric_key(platform: str, campaign_id: str) -> str:
    """The Kafka key of ``ad.metrics`` and ``campaign.kpis``: one campaign, one partition."""
    return f"{platform}:{campaign_id}"


def validate(raw: Raw, metric: Mapping[str, Any]) -> None:
    """Contract rules beyond what Avro checks; raises InvalidMessage."""
    if not metric["campaign_id"]:
        raise InvalidMessage("invalid_field", "campaign_id is empty")
    if not metric["account_id"]:
        raise InvalidMessage("invalid_field", "account_id is empty")
    key = raw.key_str
    expected = metric_key(metric["platform"], metric["campaign_id"])
    if key is not None and key != expected:
        raise InvalidMessage("invalid_field", f"key {key!r} should be {expected!r}")
    if metric["interval_end"] <= metric["interval_start"]:
        raise InvalidMessage("invalid_field", "interval_end is not after interval_start")
    for name in ("impressions", "clicks", "cost_micros", "conversions", "conversion_value"):
        if metric[name] < 0:
            raise InvalidMessage("invalid_field", f"{name} is negative ({metric[name]})")
    currency = metric["currency"]
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise InvalidMessage("invalid_field", f"currency {currency!r} is not an ISO 4217 code")
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
    names = (
        "platform", "account_id", "campaign_id", "level", "interval_start", "interval_end",
        "impressions", "clicks", "spend", "currency", "conversions", "conversion_value", "ctr",
        "cpc", "cpa", "roas", "cpm", "reported_at",
    )
    nullable = ("campaign_name", "ad_group_id", "ad_id", "device")
    for i in range(len(cols["platform"])):
        value: dict[str, Any] = {name: cols[name][i] for name in names}
        for name in nullable:
            value[name] = cols[name][i] or None
        out.append(
            OutputRecord(
                topic=topics.CAMPAIGN_KPIS,
                key=metric_key(value["platform"], value["campaign_id"]),
                value=value,
            )
        )
    return out

