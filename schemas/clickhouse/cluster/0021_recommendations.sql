-- Cluster counterpart of ../0021_recommendations.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS recommendations_local ON CLUSTER '{cluster}'
(
    request_id          String,
    status              LowCardinality(String),
    from_status         Nullable(String),
    actor               String,
    at                  DateTime64(3, 'UTC'),
    reason              String,
    dry_run             Bool,
    rule                LowCardinality(String),
    action              LowCardinality(String),
    entity              String,
    platform            LowCardinality(String),
    campaign_id         String,
    as_of               DateTime64(3, 'UTC'),
    current             Nullable(Float64),
    proposed            Nullable(Float64),
    change              Float64,
    expected_effect     Float64,
    confidence          Float64,
    rationale           String,
    data                String,  -- JSON object of figures (name -> number)
    modifiers           Array(Float64),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _offset)
PARTITION BY toYYYYMM(as_of)
ORDER BY (request_id, status);

-- sharded by (request_id): a request's transitions on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS recommendations ON CLUSTER '{cluster}' AS recommendations_local
ENGINE = Distributed('{cluster}', currentDatabase(), recommendations_local, cityHash64(request_id));
