-- Cluster counterpart of ../0007_conversation_states.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS conversation_states_local ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
ORDER BY conversation_id;

-- sharded by (conversation_id): a conversation's states on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS conversation_states ON CLUSTER '{cluster}' AS conversation_states_local
ENGINE = Distributed('{cluster}', currentDatabase(), conversation_states_local, cityHash64(conversation_id));
