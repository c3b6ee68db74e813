-- Cluster counterpart of ../0004_dead_letters.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS dead_letters_local ON CLUSTER '{cluster}'
(
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    dlq_topic           LowCardinality(String),
    key                 String,
    value               String,
    headers             Map(String, String),
    error               LowCardinality(String),
    reason              String,
    failed_at           DateTime64(3, 'UTC'),
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (_topic, _partition, _offset);

-- sharded by (_topic, _partition, _offset): a message's dead letter on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS dead_letters ON CLUSTER '{cluster}' AS dead_letters_local
ENGINE = Distributed('{cluster}', currentDatabase(), dead_letters_local, cityHash64(_topic, _partition, _offset));
