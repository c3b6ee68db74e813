-- escalations: one row per escalation episode of a conversation (the `escalations` topic):
-- reason codes, team, priority, SLA deadline, and the context a human needs as JSON (recent
-- messages, intent, sentiment path). _topic, _partition and _offset are the position of the
-- chat event that triggered it.
-- Dedup key: (conversation_id, escalation_id). The id is "<conversation_id>:e<episode>", so
-- a redelivered escalation lands on the same key; read with FINAL.
CREATE TABLE IF NOT EXISTS escalations
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
ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (conversation_id, escalation_id);
