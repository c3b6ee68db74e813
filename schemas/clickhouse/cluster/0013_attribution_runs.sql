-- Cluster counterpart of ../0013_attribution_runs.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS attribution_model_credits_local ON CLUSTER '{cluster}'
(
    run_id              String,
    created_at          DateTime64(3, 'UTC'),
    window_start        DateTime64(3, 'UTC'),
    window_end          DateTime64(3, 'UTC'),
    lookback_days       Float64,
    model               LowCardinality(String),
    markov_order        UInt8,
    level               LowCardinality(String),
    measure             LowCardinality(String),
    currency            LowCardinality(String),
    channel             LowCardinality(String),
    campaign_id         String,
    credit              Float64,
    credit_low          Nullable(Float64),
    credit_high         Nullable(Float64),
    removal_effect      Nullable(Float64),
    conversions         UInt64,
    journeys            UInt64,
    replicates          UInt32,
    confidence          Float64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (model, markov_order, run_id, level, measure, currency, channel, campaign_id);

-- sharded by run_id: a run's rows on one shard, so that ReplacingMergeTree's dedup key never
-- spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS attribution_model_credits ON CLUSTER '{cluster}' AS attribution_model_credits_local
ENGINE = Distributed('{cluster}', currentDatabase(), attribution_model_credits_local, cityHash64(run_id));
