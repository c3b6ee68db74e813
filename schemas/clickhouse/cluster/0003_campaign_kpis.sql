-- Cluster counterpart of ../0003_campaign_kpis.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS campaign_kpis_local ON CLUSTER '{cluster}'
(
    platform            LowCardinality(String),
    account_id          String,
    campaign_id         String,
    campaign_name       String,
    level               LowCardinality(String),
    ad_group_id         String,
    ad_id               String,
    device              LowCardinality(String),
    interval_start      DateTime64(3, 'UTC'),
    interval_end        DateTime64(3, 'UTC'),
    impressions         UInt64,
    clicks              UInt64,
    spend               Float64,
    currency            LowCardinality(String),
    conversions         Float64,
    conversion_value    Float64,
    ctr                 Nullable(Float64),
    cpc                 Nullable(Float64),
    cpa                 Nullable(Float64),
    roas                Nullable(Float64),
    cpm                 Nullable(Float64),
    reported_at         DateTime64(3, 'UTC'),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _kafka_ts           DateTime64(3, 'UTC'),
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
PARTITION BY toYYYYMM(interval_start)
ORDER BY (platform, account_id, campaign_id, level, ad_group_id, ad_id, device, interval_start);

-- sharded by (platform, account_id, campaign_id): a campaign's rows on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS campaign_kpis ON CLUSTER '{cluster}' AS campaign_kpis_local
ENGINE = Distributed('{cluster}', currentDatabase(), campaign_kpis_local, cityHash64(platform, account_id, campaign_id));
