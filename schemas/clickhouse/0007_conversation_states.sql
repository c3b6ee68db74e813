-- conversation_states: the full state of each conversation (lifecycle, first-response time,
-- duration, turns, handoff, resolution, emotional journey, intent, escalations), written as
-- a new row every time it changes.
-- Dedup key: conversation_id. ReplacingMergeTree(_version) keeps the row with the highest
-- _version (the chat.events offset times two, plus one once timed out), so the latest state
-- wins however often older ones are redelivered; read with FINAL.
CREATE TABLE IF NOT EXISTS conversation_states
(
    conversation_id     String,
    channel             LowCardinality(String),
    language            LowCardinality(String),
    customer_id         String,
    status              LowCardinality(String),
    started_at          DateTime64(3, 'UTC'),
    first_customer_at   Nullable(DateTime64(3, 'UTC')),
    first_response_at   Nullable(DateTime64(3, 'UTC')),
    first_response_ms   Nullable(UInt64),
    last_event_at       DateTime64(3, 'UTC'),
    ended_at            Nullable(DateTime64(3, 'UTC')),
    duration_ms         Nullable(UInt64),
    events              UInt32,
    messages            UInt32,
    customer_messages   UInt32,
    bot_turns           UInt32,
    agent_turns         UInt32,
    handoff             Bool,
    handoffs            UInt16,
    handoff_at          Nullable(DateTime64(3, 'UTC')),
    resolution          LowCardinality(String),
    journey_state       LowCardinality(String),
    sentiment_ewma      Nullable(Float64),
    sentiment_trend     Float64,
    sentiment_mean      Nullable(Float64),
    first_sentiment     Nullable(Float64),
    last_sentiment      Nullable(Float64),
    worst_sentiment     Nullable(Float64),
    worst_at            Nullable(DateTime64(3, 'UTC')),
    recovery            Nullable(Float64),
    intent              LowCardinality(String),
    intent_confidence   Nullable(Float64),
    customer_value      Nullable(Float64),
    escalated           Bool,
    escalations         UInt16,
    last_escalation_at  Nullable(DateTime64(3, 'UTC')),
    follow_up_due_at    Nullable(DateTime64(3, 'UTC')),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _updated_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_version)
ORDER BY conversation_id;
