-- campaign_levers: the bids and budgets the platforms last reported with their delivery rows
-- (ad.metrics bid_micros, budget_micros), one row per campaign, ad group or ad; the latest
-- report wins (_version = reported_at). The optimiser reads the levers it proposes to move here.
CREATE TABLE IF NOT EXISTS campaign_levers
(
    platform            LowCardinality(String),
    account_id          String,
    campaign_id         String,
    level               LowCardinality(String),
    ad_group_id         String,
    ad_id               String,
    bid_micros          Nullable(Int64),
    budget_micros       Nullable(Int64),
    currency            LowCardinality(String),
    reported_at         DateTime64(3, 'UTC'),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_version)
ORDER BY (platform, account_id, campaign_id, level, ad_group_id, ad_id);
