-- dead_letters: every message that could not be decoded or broke its contract, with its raw
-- key, value and headers and the reason, so it can be inspected and replayed once fixed.
-- _topic, _partition and _offset are the message's position in its ORIGINAL input topic;
-- dlq_topic is the dead-letter topic it was moved to.
-- Dedup key: (_topic, _partition, _offset): the original position identifies a message, so a
-- dead letter redelivered from the DLQ topic is kept once. Read with FINAL.
CREATE TABLE IF NOT EXISTS dead_letters
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
ENGINE = ReplacingMergeTree
ORDER BY (_topic, _partition, _offset);
