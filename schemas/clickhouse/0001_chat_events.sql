-- chat_events: one row per chat event (message, join, close, ...) with its sentiment scores.
-- Dedup key: (conversation_id, _topic, _partition, _offset). A Kafka record redelivered after
-- a crash lands on the same key, and ReplacingMergeTree keeps one row per key; read with FINAL
-- for exact counts before background merges have run.
CREATE TABLE IF NOT EXISTS chat_events
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
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (conversation_id, _topic, _partition, _offset);
