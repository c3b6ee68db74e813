-- recommendations: the audit trail of optimisation recommendations, one row per
-- recommendation (request_id) and status it reached (pending, approved, rejected, applied,
-- verified, failed; refused by a guard rail), each with the recommendation in full, who moved
-- it, when and why. Rows come from the recommendations topic; a transition redelivered is kept
-- once. The current status of a request is that of its latest row (argMax(status, at)).
CREATE TABLE IF NOT EXISTS recommendations
(
    request_id          String,
    status              LowCardinality(String),
    from_status         Nullable(String),
    actor               String,
    at                  DateTime64(3, 'UTC'),
    reason              String,
    dry_run             Bool,
    rule                LowCardinality(String),
    action              LowCardinality(String),
    entity              String,
    platform            LowCardinality(String),
    campaign_id         String,
    as_of               DateTime64(3, 'UTC'),
    current             Nullable(Float64),
    proposed            Nullable(Float64),
    change              Float64,
    expected_effect     Float64,
    confidence          Float64,
    rationale           String,
    data                String,  -- JSON object of figures (name -> number)
    modifiers           Array(Float64),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_offset)
PARTITION BY toYYYYMM(as_of)
ORDER BY (request_id, status);
