-- title: Campaign KPIs and ROI by hour, in one reporting currency
-- description: KPIs and ROI per platform, campaign, ad group, ad, device and hour over the last
--   `hours` hours, from the latest revision of every interval at one level (CAMPAIGN, AD_GROUP
--   or AD: the levels are not added up). Money is converted into the reporting currency with
--   currency_rates (the rate of the hour's day, or the latest earlier one; rate and the
--   converted amounts are null when no rate is known). CTR, CPC, CPM, CPA, conversion rate,
--   ROAS and ROI = (revenue - spend) / spend come from the sums. Revenue is what the platform
--   reports (revenue_source = platform); campaign_roi_attributed uses attribution instead.
-- param: currency String = USD
-- param: level String = CAMPAIGN
-- param: hours UInt32 = 48
SELECT
    hour,
    platform,
    account_id,
    campaign_id,
    ad_group_id,
    ad_id,
    device,
    impressions,
    clicks,
    round(conversions, 2) AS conversions,
    round(spend, 2) AS spend,
    currency AS account_currency,
    rate,
    {currency:String} AS reporting_currency,
    round(spend * rate, 2) AS spend_reporting,
    round(value * rate, 2) AS revenue_reporting,
    round(clicks / nullIf(impressions, 0), 4) AS ctr,
    round(spend * rate / nullIf(clicks, 0), 4) AS cpc,
    round(1000 * spend * rate / nullIf(impressions, 0), 4) AS cpm,
    round(spend * rate / nullIf(conversions, 0), 4) AS cpa,
    round(conversions / nullIf(clicks, 0), 4) AS conversion_rate,
    round(value / nullIf(spend, 0), 4) AS roas,
    round((value - spend) / nullIf(spend, 0), 4) AS roi,
    'platform' AS revenue_source
FROM
(
    SELECT
        k.*,
        if(k.currency = {currency:String}, 1.0, nullIf(r.rate, 0)) AS rate
    FROM
    (
        SELECT
            toStartOfHour(interval_start) AS hour,
            platform, account_id, campaign_id, ad_group_id, ad_id, device, currency,
            sum(impressions) AS impressions,
            sum(clicks) AS clicks,
            sum(conversions) AS conversions,
            sum(spend) AS spend,
            sum(conversion_value) AS value
        FROM campaign_kpis FINAL
        WHERE level = {level:String}
          AND interval_start >= now64(3) - toIntervalHour({hours:UInt32})
        GROUP BY hour, platform, account_id, campaign_id, ad_group_id, ad_id, device, currency
    ) AS k
    ASOF LEFT JOIN
    (
        SELECT currency, day, rate
        FROM currency_rates FINAL
        WHERE reporting_currency = {currency:String}
    ) AS r
    ON k.currency = r.currency AND toDate(k.hour) >= r.day
)
ORDER BY hour DESC, spend_reporting DESC, platform, campaign_id, ad_group_id, ad_id, device
