-- Cluster counterpart of ../0041_audience_members.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS audience_members_local ON CLUSTER '{cluster}'
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
ORDER BY (audience, person_id);

-- sharded by (audience, person_id): a member's changes on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS audience_members ON CLUSTER '{cluster}' AS audience_members_local
ENGINE = Distributed('{cluster}', currentDatabase(), audience_members_local, cityHash64(audience, person_id));
