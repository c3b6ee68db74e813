"""The ad slice's backlog: distinct campaign_kpis rows, so its drain counts what is written."""

from __future__ import annotations

from benchmarks.run import SLICES, distinct_ad_metrics

#: campaign_kpis' ReplacingMergeTree ORDER BY (schemas/clickhouse/0003_campaign_kpis.sql)
KEY = ("platform", "account_id", "campaign_id", "level", "ad_group_id", "ad_id", "device",
       "interval_start")


def test_the_ad_pool_has_as_many_distinct_table_keys_as_records() -> None:
    records = distinct_ad_metrics(5000)
    assert len(records) == 5000
    assert len({tuple(r.value[k] for k in KEY) for r in records}) == 5000
    # the report order of the simulator is kept: intervals reported in time
    reported = [r.value["reported_at"] for r in records]
    assert reported == sorted(reported)


def test_the_ad_slice_never_repeats_its_pool() -> None:
    ad = SLICES["ad"]
    assert ad.distinct and ad.pool >= ad.events
