-- attribution_credits: rule-based multi-touch attribution computed in the stream, one row per
-- conversion, model and touchpoint of its journey (the person's touchpoints in the lookback
-- window), with the revenue credit in the conversion's currency. Dedup key: (conversion_id,
-- model, touchpoint_id); _version is the customer.events offset of the conversion.
CREATE TABLE IF NOT EXISTS attribution_credits
(
    person_id           String,
    conversion_id       String,
    conversion_at       DateTime64(3, 'UTC'),
    model               LowCardinality(String),
    model_version       LowCardinality(String),
    touchpoint_id       String,
    channel             LowCardinality(String),
    campaign_id         Nullable(String),
    occurred_at         DateTime64(3, 'UTC'),
    credit              Float64,
    revenue_credit      Float64,
    currency            LowCardinality(String),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(conversion_at)
ORDER BY (conversion_id, model, touchpoint_id);
