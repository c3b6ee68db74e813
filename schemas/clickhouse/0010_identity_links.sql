-- identity_links: changes of the identity graph, one row each: an edge added between two
-- identifiers (kind link, with its rule), two persons merged (kind merge: other_person was
-- absorbed into person_id) and merges a guard rail refused (kind refused, with its reason).
-- Dedup key: the observation's position and the change's index within it (seq).
CREATE TABLE IF NOT EXISTS identity_links
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
ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(at)
ORDER BY (_topic, _partition, _offset, seq);
