-- conversations: the running state of each conversation (status, counts, sentiment summary),
-- written as a new row every time the conversation changes.
-- Dedup key: conversation_id. ReplacingMergeTree(_version) keeps the row with the highest
-- _version, so the latest state wins however often older states are redelivered; read with
-- FINAL for the current state before background merges have run.
CREATE TABLE IF NOT EXISTS conversations
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
ENGINE = ReplacingMergeTree(_version)
ORDER BY conversation_id;
