-- Cluster counterpart of ../0050_customer_scores.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS customer_scores_local ON CLUSTER '{cluster}'
(
    person_id           String,
    kind                LowCardinality(String),
    score               Float64,
    probability         Nullable(Float64),
    label               String,
    reasons             Array(String),
    details             Map(String, String),
    model_version       LowCardinality(String),
    profile_version     UInt64,
    scored_at           DateTime64(3, 'UTC'),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
ORDER BY (person_id, kind);

-- sharded by person_id: a person's rows on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS customer_scores ON CLUSTER '{cluster}' AS customer_scores_local
ENGINE = Distributed('{cluster}', currentDatabase(), customer_scores_local, cityHash64(person_id));
