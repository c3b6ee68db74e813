-- Cluster counterpart of ../0005_escalations.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS escalations_local ON CLUSTER '{cluster}'
(
    escalation_id       String,
    conversation_id     String,
    episode             UInt32,
    reasons             Array(LowCardinality(String)),
    team                LowCardinality(String),
    priority            LowCardinality(String),
    severity            LowCardinality(String),
    created_at          DateTime64(3, 'UTC'),
    sla_deadline        DateTime64(3, 'UTC'),
    customer_id         String,
    customer_value      Nullable(Float64),
    channel             LowCardinality(String),
    language            LowCardinality(String),
    intent              LowCardinality(String),
    intent_confidence   Nullable(Float64),
    sentiment_path      Array(Float64),
    context             String,
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (conversation_id, escalation_id);

-- sharded by (conversation_id): a conversation's escalations on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS escalations ON CLUSTER '{cluster}' AS escalations_local
ENGINE = Distributed('{cluster}', currentDatabase(), escalations_local, cityHash64(conversation_id));
