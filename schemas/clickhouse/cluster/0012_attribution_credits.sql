-- Cluster counterpart of ../0012_attribution_credits.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS attribution_credits_local ON CLUSTER '{cluster}'
(
    person_id           String,
    conversion_id       String,
    conversion_at       DateTime64(3, 'UTC'),
    model               LowCardinality(String),
    model_version       LowCardinality(String),
    touchpoint_id       String,
    channel             LowCardinality(String),
    campaign_id         Nullable(String),
    occurred_at         DateTime64(3, 'UTC'),
    credit              Float64,
    revenue_credit      Float64,
    currency            LowCardinality(String),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
PARTITION BY toYYYYMM(conversion_at)
ORDER BY (conversion_id, model, touchpoint_id);

-- sharded by (conversion_id): a conversion's credits on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS attribution_credits ON CLUSTER '{cluster}' AS attribution_credits_local
ENGINE = Distributed('{cluster}', currentDatabase(), attribution_credits_local, cityHash64(conversion_id));
