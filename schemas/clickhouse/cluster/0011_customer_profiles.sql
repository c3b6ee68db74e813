-- Cluster counterpart of ../0011_customer_profiles.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS customer_profiles_local ON CLUSTER '{cluster}'
(
    person_id           String,
    version             UInt64,
    updated_at          DateTime64(3, 'UTC'),
    first_seen          DateTime64(3, 'UTC'),
    last_seen           DateTime64(3, 'UTC'),
    identifiers         Array(String),
    attributes          Map(String, String),
    tags                Array(String),
    lifecycle_stage     LowCardinality(String),
    channels            Array(String),
    touchpoints         UInt64,
    conversions         UInt64,
    revenue_currencies  Array(String),
    revenue_amounts     Array(Float64),
    score_names         Array(String),
    score_values        Array(Float64),
    merged_into         Nullable(String),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _updated_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
ORDER BY person_id;

-- sharded by (person_id): a person's profile rows on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS customer_profiles ON CLUSTER '{cluster}' AS customer_profiles_local
ENGINE = Distributed('{cluster}', currentDatabase(), customer_profiles_local, cityHash64(person_id));
