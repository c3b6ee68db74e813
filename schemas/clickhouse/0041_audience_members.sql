-- audience_members: the audience lists workflows maintain (audience actions), one row per
-- (audience, person) and change: operation add or remove (the latest wins), the person's
-- hashed email and phone (SHA-256 of the normalised value, empty when unknown) as the ad
-- tools' customer-match uploads take them, and the workflow action that made the change.
-- The same changes are records of the audiences topic. Members now: FINAL, operation = 'add'.
-- Rows carry the position of the workflow.actions record they came from.
-- Dedup key: (audience, person_id); ReplacingMergeTree(_version) keeps the latest change.
CREATE TABLE IF NOT EXISTS audience_members
(
    audience            LowCardinality(String),
    person_id           String,
    operation           LowCardinality(String),
    email_sha256        String,
    phone_sha256        String,
    action_id           String,
    workflow_id         LowCardinality(String),
    changed_at          DateTime64(3, 'UTC'),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_version)
ORDER BY (audience, person_id);
