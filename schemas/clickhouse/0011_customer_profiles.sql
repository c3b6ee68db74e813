-- customer_profiles: the unified (360°) profile of each person, one row per change;
-- ReplacingMergeTree(_version) with _version the profile's version keeps the latest. A person
-- merged into another keeps a last row with merged_into set. The recent interactions are on
-- the customer.profiles topic; the full history is customer_events. Revenue per currency and scores by name are pairs of
-- arrays (mapFromArrays(revenue_currencies, revenue_amounts) gives the map). Read with FINAL.
CREATE TABLE IF NOT EXISTS customer_profiles
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
ENGINE = ReplacingMergeTree(_version)
ORDER BY person_id;
