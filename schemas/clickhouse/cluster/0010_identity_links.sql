-- Cluster counterpart of ../0010_identity_links.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS identity_links_local ON CLUSTER '{cluster}'
(
    kind                LowCardinality(String),
    person_id           String,
    a                   Nullable(String),
    b                   Nullable(String),
    rule                LowCardinality(Nullable(String)),
    reason              LowCardinality(Nullable(String)),
    other_person        Nullable(String),
    source_event        String,
    at                  DateTime64(3, 'UTC'),
    seq                 UInt32,
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
PARTITION BY toYYYYMM(at)
ORDER BY (_topic, _partition, _offset, seq);

-- sharded by (_topic, _partition, _offset): an observation's changes on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS identity_links ON CLUSTER '{cluster}' AS identity_links_local
ENGINE = Distributed('{cluster}', currentDatabase(), identity_links_local, cityHash64(_topic, _partition, _offset));
