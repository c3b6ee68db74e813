-- crm_tasks: tasks for humans (the `crm.tasks` topic): escalations to handle before their SLA
-- deadline and follow-ups of conversations that ended unresolved. status starts as open; a
-- later row of the same task with a higher _version (e.g. written back by a CRM connector
-- as done) replaces it.
-- Dedup key: task_id; ReplacingMergeTree(_version) keeps the latest row. Read with FINAL.
CREATE TABLE IF NOT EXISTS crm_tasks
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
ENGINE = ReplacingMergeTree(_version)
ORDER BY task_id;
