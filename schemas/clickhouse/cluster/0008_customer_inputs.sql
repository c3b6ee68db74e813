-- Cluster counterpart of ../0008_customer_inputs.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS customer_inputs_local ON CLUSTER '{cluster}'
(
    event_id            String,
    kind                LowCardinality(String),
    occurred_at         DateTime64(3, 'UTC'),
    identifiers         Array(String),
    flags               Array(String),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _kafka_ts           DateTime64(3, 'UTC'),
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (_topic, _partition, _offset);

-- sharded by (_topic, _partition, _offset): an input's rows on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS customer_inputs ON CLUSTER '{cluster}' AS customer_inputs_local
ENGINE = Distributed('{cluster}', currentDatabase(), customer_inputs_local, cityHash64(_topic, _partition, _offset));
