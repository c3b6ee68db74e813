-- Cluster counterpart of ../0023_anomalies.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS anomalies_local ON CLUSTER '{cluster}'
(
    platform            LowCardinality(String),
    campaign_id         String,
    metric              LowCardinality(String),
    direction           LowCardinality(String),
    status              LowCardinality(String),
    severity            LowCardinality(String),
    hour                DateTime64(3, 'UTC'),
    since               DateTime64(3, 'UTC'),
    value               Float64,
    baseline            Float64,
    change              Float64,
    z                   Float64,
    window_hours        UInt16,
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _offset)
PARTITION BY toYYYYMM(hour)
ORDER BY (platform, campaign_id, metric, direction, hour, status);

-- sharded by (platform, campaign_id): a campaign's alerts on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS anomalies ON CLUSTER '{cluster}' AS anomalies_local
ENGINE = Distributed('{cluster}', currentDatabase(), anomalies_local, cityHash64(platform, campaign_id));
