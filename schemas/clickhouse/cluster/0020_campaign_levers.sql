-- Cluster counterpart of ../0020_campaign_levers.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS campaign_levers_local ON CLUSTER '{cluster}'
(
    platform            LowCardinality(String),
    account_id          String,
    campaign_id         String,
    level               LowCardinality(String),
    ad_group_id         String,
    ad_id               String,
    bid_micros          Nullable(Int64),
    budget_micros       Nullable(Int64),
    currency            LowCardinality(String),
    reported_at         DateTime64(3, 'UTC'),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
ORDER BY (platform, account_id, campaign_id, level, ad_group_id, ad_id);

-- sharded by (platform, account_id, campaign_id): a campaign's levers on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS campaign_levers ON CLUSTER '{cluster}' AS campaign_levers_local
ENGINE = Distributed('{cluster}', currentDatabase(), campaign_levers_local, cityHash64(platform, account_id, campaign_id));
