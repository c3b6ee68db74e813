-- campaign_kpis: ad-platform delivery and conversion metrics per reporting interval, at
-- campaign, ad group or ad level, with the derived rates (CTR, CPC, CPA, ROAS, CPM).
-- Dedup key: (platform, account_id, campaign_id, level, ad_group_id, ad_id, device,
-- interval_start). Platforms restate an interval as late conversions arrive; _version is
-- reported_at in epoch milliseconds, so ReplacingMergeTree(_version) keeps the latest revision
-- of each interval. Read with FINAL.
CREATE TABLE IF NOT EXISTS campaign_kpis
(
    platform            LowCardinality(String),
    account_id          String,
    campaign_id         String,
    campaign_name       String,
    level               LowCardinality(String),
    ad_group_id         String,
    ad_id               String,
    device              LowCardinality(String),
    interval_start      DateTime64(3, 'UTC'),
    interval_end        DateTime64(3, 'UTC'),
    impressions         UInt64,
    clicks              UInt64,
    spend               Float64,
    currency            LowCardinality(String),
    conversions         Float64,
    conversion_value    Float64,
    ctr                 Nullable(Float64),
    cpc                 Nullable(Float64),
    cpa                 Nullable(Float64),
    roas                Nullable(Float64),
    cpm                 Nullable(Float64),
    reported_at         DateTime64(3, 'UTC'),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _kafka_ts           DateTime64(3, 'UTC'),
    _version            UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_version)
PARTITION BY toYYYYMM(interval_start)
ORDER BY (platform, account_id, campaign_id, level, ad_group_id, ad_id, device, interval_start);
