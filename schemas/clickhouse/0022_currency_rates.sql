-- currency_rates: units of the reporting currency one unit of a currency was worth from a day
-- on (from the currency.rates topic). Reports convert an amount with the rate of its day or
-- the latest earlier one (ASOF JOIN); a currency equal to the reporting currency needs no
-- row. A later publication of the same day replaces the earlier (_version = published_at).
CREATE TABLE IF NOT EXISTS currency_rates
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
ENGINE = ReplacingMergeTree(_version)
ORDER BY (reporting_currency, currency, day);
