-- chat_events keyed by the event's id: a chat event produced twice (a producer retry without
-- idempotence, a replayed export, a gateway reconnect) lands at two offsets but on one key,
-- (conversation_id, event_id), so ReplacingMergeTree keeps one row even when the duplicate
-- arrives after the worker has forgotten the conversation (the stream drops duplicates it
-- recognises; see streams/conversation/state.py). A Kafka record redelivered after a crash
-- has the same event id and lands on the same key too. Read with FINAL for exact counts.
--
-- The data moves: a new table, a copy of the old one's rows (FINAL: one per old key), then
-- EXCHANGE TABLES (atomic in the embedded engine and on a server's Atomic database) and the
-- old table dropped. Run it while no worker writes chat_events (the worker migrates before
-- it consumes).
CREATE TABLE IF NOT EXISTS chat_events_by_event_id
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
ORDER BY (conversation_id, event_id);

INSERT INTO chat_events_by_event_id
    (event_id, conversation_id, event_type, occurred_at, channel, sender_role, sender_id,
     language, customer_id, text, sentiment_compound, sentiment_positive, sentiment_neutral,
     sentiment_negative, sentiment_label, _topic, _partition, _offset, _kafka_ts, _ingested_at)
SELECT event_id, conversation_id, event_type, occurred_at, channel, sender_role, sender_id,
       language, customer_id, text, sentiment_compound, sentiment_positive, sentiment_neutral,
       sentiment_negative, sentiment_label, _topic, _partition, _offset, _kafka_ts, _ingested_at
FROM chat_events FINAL;

EXCHANGE TABLES chat_events AND chat_events_by_event_id;

DROP TABLE chat_events_by_event_id;
