-- Cluster counterpart of ../0009_customer_events.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS customer_events_local ON CLUSTER '{cluster}'
(
    person_id           String,
    event_id            String,
    kind                LowCardinality(String),
    occurred_at         DateTime64(3, 'UTC'),
    type                Nullable(String),
    channel             LowCardinality(Nullable(String)),
    platform            LowCardinality(Nullable(String)),
    campaign_id         Nullable(String),
    value               Nullable(Float64),
    currency            LowCardinality(Nullable(String)),
    order_id            Nullable(String),
    identifiers         Array(String),
    flags               Array(String),
    attributes          Map(String, String),
    source_topic        LowCardinality(String),
    source_partition    UInt16,
    source_offset       UInt64,
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _kafka_ts           DateTime64(3, 'UTC'),
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (kind, event_id);

-- sharded by (kind, event_id): an event's rows (its person may change with a later resolution) on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS customer_events ON CLUSTER '{cluster}' AS customer_events_local
ENGINE = Distributed('{cluster}', currentDatabase(), customer_events_local, cityHash64(kind, event_id));
