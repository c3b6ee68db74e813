-- Cluster counterpart of ../0002_conversations.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS conversations_local ON CLUSTER '{cluster}'
(
    conversation_id     String,
    channel             LowCardinality(String),
    language            LowCardinality(String),
    customer_id         String,
    status              LowCardinality(String),
    first_event_at      DateTime64(3, 'UTC'),
    last_event_at       DateTime64(3, 'UTC'),
    events              UInt32,
    messages            UInt32,
    customer_messages   UInt32,
    sentiment_mean      Nullable(Float64),
    last_sentiment      Nullable(Float64),
    min_sentiment       Nullable(Float64),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _updated_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
ORDER BY conversation_id;

-- sharded by (conversation_id): a conversation's states on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS conversations ON CLUSTER '{cluster}' AS conversations_local
ENGINE = Distributed('{cluster}', currentDatabase(), conversations_local, cityHash64(conversation_id));
