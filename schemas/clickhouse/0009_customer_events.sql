-- customer_events: every touchpoint, conversion and CRM profile update with the person identity
-- resolution attached it to (the person as of that event: after a later merge, the older
-- person id survives and identity_links holds the merge). The full interaction history of the
-- 360° profile. Dedup key: (kind, event_id); _version is the identity.observations offset, so
-- the latest resolution of an event wins. Read with FINAL.
CREATE TABLE IF NOT EXISTS customer_events
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
ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (kind, event_id);
