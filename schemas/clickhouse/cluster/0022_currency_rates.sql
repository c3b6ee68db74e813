-- Cluster counterpart of ../0022_currency_rates.sql: the same columns, keys and engine, as a
-- replicated table on every node (<table>_local) and a Distributed table of the
-- table's own name over them, which the pipeline writes and analysts read.

CREATE TABLE IF NOT EXISTS currency_rates_local ON CLUSTER '{cluster}'
(
    day                 Date,
    currency            LowCardinality(String),
    reporting_currency  LowCardinality(String),
    rate                Float64,
    source              String,
    published_at        DateTime64(3, 'UTC'),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', _version)
ORDER BY (reporting_currency, currency, day);

-- sharded by (reporting_currency, currency): a currency's rates on one shard, so that
-- ReplacingMergeTree's dedup key never spans shards and FINAL stays exact
CREATE TABLE IF NOT EXISTS currency_rates ON CLUSTER '{cluster}' AS currency_rates_local
ENGINE = Distributed('{cluster}', currentDatabase(), currency_rates_local, cityHash64(reporting_currency, currency));
