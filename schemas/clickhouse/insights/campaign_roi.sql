-- title: Campaign ROI by attribution model
-- description: Per campaign and currency, the revenue each rule-based model attributes to the
--   campaign's touchpoints, the spend the ad platforms report for it (campaign_kpis, campaign
--   level, latest revision of each interval), and the ROI (attributed revenue / spend - 1).
--   Revenue and spend are compared only in the same currency; nothing is converted.
-- param: model String = linear
SELECT
    c.campaign_id AS campaign_id,
    c.currency AS currency,
    round(c.revenue, 2) AS attributed_revenue,
    round(c.conversions, 3) AS attributed_conversions,
    round(s.spend, 2) AS spend,
    round(c.revenue / nullIf(s.spend, 0) - 1, 4) AS roi
FROM
(
    SELECT campaign_id, currency, sum(revenue_credit) AS revenue, sum(credit) AS conversions
    FROM attribution_credits FINAL
    WHERE model = {model:String} AND campaign_id IS NOT NULL
    GROUP BY campaign_id, currency
) AS c
LEFT JOIN
(
    SELECT campaign_id, currency, sum(spend) AS spend
    FROM campaign_kpis FINAL
    WHERE level = 'CAMPAIGN'
    GROUP BY campaign_id, currency
) AS s ON c.campaign_id = s.campaign_id AND c.currency = s.currency
ORDER BY attributed_revenue DESC, campaign_id
