-- attribution_model_credits: the data-driven attribution models (Markov chain at orders 1-3
-- with removal effects and bootstrap intervals, Shapley values) computed over a data window
-- by `touchstream attribution run` or the worker's schedule. One row per run, model, order
-- (markov_order; 0 for Shapley), level (channel, or campaign: channel and campaign pairs),
-- measure (conversions with currency '', or revenue in the conversions' own currency),
-- channel and campaign. Every run is a version (run_id, created_at, the window of conversions
-- and the lookback of their journeys); the latest run of a (model, markov_order) is current
-- and earlier runs are superseded history (insight attribution_model_credits_latest).
-- conversions and journeys: the run's attributed conversions and its paths (converting and
-- not). Dedup key: the run and the row's identity; the same run written twice is kept once.
CREATE TABLE IF NOT EXISTS attribution_model_credits
(
    run_id              String,
    created_at          DateTime64(3, 'UTC'),
    window_start        DateTime64(3, 'UTC'),
    window_end          DateTime64(3, 'UTC'),
    lookback_days       Float64,
    model               LowCardinality(String),
    markov_order        UInt8,
    level               LowCardinality(String),
    measure             LowCardinality(String),
    currency            LowCardinality(String),
    channel             LowCardinality(String),
    campaign_id         String,
    credit              Float64,
    credit_low          Nullable(Float64),
    credit_high         Nullable(Float64),
    removal_effect      Nullable(Float64),
    conversions         UInt64,
    journeys            UInt64,
    replicates          UInt32,
    confidence          Float64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (model, markov_order, run_id, level, measure, currency, channel, campaign_id);
