-- customer_scores: the predictions on each person, one row per (person, kind) and change:
-- kind lead (score 0-100, the calibrated probability of converting), churn (score 0-100,
-- the churn risk), clv (score = expected value over 12 months in the reporting currency;
-- details hold expected purchases, historical and potential value) and next_best_action
-- (label = the action; details its rationale). reasons are readable reason codes, strongest
-- first; model_version names the model (or rule set) that produced the row.
-- Dedup key: (person_id, kind); ReplacingMergeTree(_version) keeps the latest. Read with FINAL.
CREATE TABLE IF NOT EXISTS customer_scores
(
    person_id           String,
    kind                LowCardinality(String),
    score               Float64,
    probability         Nullable(Float64),
    label               String,
    reasons             Array(String),
    details             Map(String, String),
    model_version       LowCardinality(String),
    profile_version     UInt64,
    scored_at           DateTime64(3, 'UTC'),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_version)
ORDER BY (person_id, kind);
