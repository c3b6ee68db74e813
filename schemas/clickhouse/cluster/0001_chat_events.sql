-- Cluster counterpart of ../0001_chat_events.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.
-- Keyed by (conversation_id, event_id) from the start, as ../0030_chat_events_by_event_id.sql
-- left the single-node table (a fresh cluster has no rows to move).

CREATE TABLE IF NOT EXISTS chat_events_local ON CLUSTER '{cluster}'
(
    event_id            String,
    conversation_id     String,
    event_type          LowCardinality(String),
    occurred_at         DateTime64(3, 'UTC'),
    channel             LowCardinality(String),
    sender_role         LowCardinality(String),
    sender_id           String,
    language            LowCardinality(String),
    customer_id         String,
    text                String,
    sentiment_compound  Nullable(Float32),
    sentiment_positive  Nullable(Float32),
    sentiment_neutral   Nullable(Float32),
    sentiment_negative  Nullable(Float32),
    sentiment_label     LowCardinality(String),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _kafka_ts           DateTime64(3, 'UTC'),
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (conversation_id, event_id);

-- sharded by (conversation_id): a conversation's events on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS chat_events ON CLUSTER '{cluster}' AS chat_events_local
ENGINE = Distributed('{cluster}', currentDatabase(), chat_events_local, cityHash64(conversation_id));
