-- Cluster counterpart of ../0006_crm_tasks.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS crm_tasks_local ON CLUSTER '{cluster}'
(
    task_id             String,
    task_type           LowCardinality(String),
    conversation_id     String,
    customer_id         String,
    team                LowCardinality(String),
    priority            LowCardinality(String),
    title               String,
    description         String,
    due_at              DateTime64(3, 'UTC'),
    created_at          DateTime64(3, 'UTC'),
    status              LowCardinality(String),
    reasons             Array(LowCardinality(String)),
    escalation_id       String,
    _version            UInt64,
    _updated_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
ORDER BY task_id;

-- sharded by (task_id): a task's rows on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS crm_tasks ON CLUSTER '{cluster}' AS crm_tasks_local
ENGINE = Distributed('{cluster}', currentDatabase(), crm_tasks_local, cityHash64(task_id));
