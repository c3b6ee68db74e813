-- workflow_actions: the audit of every workflow decision, one row per action and status:
-- fired (delivered on workflow.actions), deferred (quiet hours; deliver_at is their end),
-- released (a deferred action delivered), suppressed (reason: opted_out:<channel>,
-- no_consent:<channel>, daily_cap:<workflow that took it>, cooldown, once_per_window).
-- Rows carry the position of the input event that decided them (for a release by the timer,
-- the position the subject's state had absorbed).
-- Dedup key: (action_id, status); ReplacingMergeTree(_version) absorbs a redelivered batch.
-- Read with FINAL.
CREATE TABLE IF NOT EXISTS workflow_actions
(
    action_id           String,
    idempotency_key     String,
    workflow_id         LowCardinality(String),
    priority            Int32,
    subject_id          String,
    action_type         LowCardinality(String),
    channel             LowCardinality(String),
    params              Map(String, String),
    status              LowCardinality(String),
    reason              String,
    trigger_event_id    String,
    triggered_at        DateTime64(3, 'UTC'),
    deliver_at          DateTime64(3, 'UTC'),
    decided_at          DateTime64(3, 'UTC'),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(triggered_at)
ORDER BY (action_id, status);
