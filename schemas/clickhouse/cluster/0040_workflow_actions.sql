-- Cluster counterpart of ../0040_workflow_actions.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS workflow_actions_local ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
PARTITION BY toYYYYMM(triggered_at)
ORDER BY (action_id, status);

-- sharded by (action_id): an action's statuses on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS workflow_actions ON CLUSTER '{cluster}' AS workflow_actions_local
ENGINE = Distributed('{cluster}', currentDatabase(), workflow_actions_local, cityHash64(action_id));
