-- customer_inputs: every valid touchpoint, conversion and CRM profile update as the customer
-- inputs stage received it, with its identifiers normalised ("<kind>:<value>:<status>";
-- emails and phones hashed when the setting asks) and what was doubtful about it (flags such
-- as malformed:phone, blocked:email). The audit of what reached identity resolution.
-- Dedup key: the input position (_topic, _partition, _offset); read with FINAL.
CREATE TABLE IF NOT EXISTS customer_inputs
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
ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (_topic, _partition, _offset);
