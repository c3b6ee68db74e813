-- title: Campaign KPIs
-- description: Per platform and campaign, over all reported intervals (latest revision of each):
--   impressions, clicks, spend, conversions and conversion value, with CTR, CPC, CPA and ROAS
--   computed from the sums (not averaged from per-interval ratios). Money is in the account
--   currency. Rows of one level only, so that campaign, ad group and ad rows are not added up.
-- param: level String = CAMPAIGN
SELECT
    platform,
    account_id,
    campaign_id,
    campaign_name,
    impressions,
    clicks,
    round(spend, 2) AS spend,
    currency,
    conversions,
    round(conversion_value, 2) AS conversion_value,
    round(clicks / nullIf(impressions, 0), 4) AS ctr,
    round(spend / nullIf(clicks, 0), 4) AS cpc,
    round(spend / nullIf(conversions, 0), 4) AS cpa,
    round(conversion_value / nullIf(spend, 0), 4) AS roas
FROM
(
    SELECT
        platform,
        account_id,
        campaign_id,
        argMax(campaign_name, reported_at) AS campaign_name,
        currency,
        sum(impressions) AS impressions,
        sum(clicks) AS clicks,
        sum(spend) AS spend,
        sum(conversions) AS conversions,
        sum(conversion_value) AS conversion_value
    FROM campaign_kpis FINAL
    WHERE level = {level:String}
    GROUP BY platform, account_id, campaign_id, currency
)
ORDER BY spend DESC, platform, campaign_id
