-- anomalies: alerts of the anomaly detector in the ad.metrics stage, one row per campaign,
-- metric (spend, ctr, cpc, cpa, conversions, roas), direction, hour and status (new: an
-- episode opens; ongoing: its severity rose). value and baseline are the metric over
-- window_hours ending at hour; change is value / baseline - 1; z the robust score. The
-- drill-down (`touchstream optimise anomalies`) ranks what is behind an alert.
CREATE TABLE IF NOT EXISTS anomalies
(
    platform            LowCardinality(String),
    campaign_id         String,
    metric              LowCardinality(String),
    direction           LowCardinality(String),
    status              LowCardinality(String),
    severity            LowCardinality(String),
    hour                DateTime64(3, 'UTC'),
    since               DateTime64(3, 'UTC'),
    value               Float64,
    baseline            Float64,
    change              Float64,
    z                   Float64,
    window_hours        UInt16,
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_offset)
PARTITION BY toYYYYMM(hour)
ORDER BY (platform, campaign_id, metric, direction, hour, status);
