-- title: Campaign ROI by day, revenue from attribution
-- description: Per platform, campaign and day over the last `days` days: spend (latest
--   revisions, each campaign's coarsest reported level) against the revenue the customer
--   domain's attribution credits to the campaign's touchpoints that day (attribution_credits,
--   model `model`), both in the reporting currency (rates as in campaign_roi_hourly), next to the
--   revenue the platform reports. roi_attributed = (attributed - spend) / spend;
--   revenue_source says which revenue the ROI uses. Campaigns are matched by campaign id.
--   Each conversion counts with its latest attribution only; unconverted_credits counts the
--   credits left out of the attributed revenue for want of a rate.
-- param: currency String = USD
-- param: model String = linear
-- param: days UInt32 = 7
SELECT
    s.day AS day,
    s.platform AS platform,
    s.campaign_id AS campaign_id,
    round(s.spend * s.rate, 2) AS spend_reporting,
    round(s.value * s.rate, 2) AS platform_revenue_reporting,
    round(a.revenue, 2) AS attributed_revenue_reporting,
    a.conversions AS attributed_conversions,
    a.unconverted AS unconverted_credits,
    {currency:String} AS reporting_currency,
    round((a.revenue - s.spend * s.rate) / nullIf(s.spend * s.rate, 0), 4) AS roi_attributed,
    round((s.value - s.spend) / nullIf(s.spend, 0), 4) AS roi_platform,
    concat('attribution:', {model:String}) AS revenue_source
FROM
(
    SELECT k.*, if(k.currency = {currency:String}, 1.0, nullIf(r.rate, 0)) AS rate
    FROM
    (
        SELECT toDate(k.interval_start) AS day, k.platform AS platform,
               k.campaign_id AS campaign_id, any(k.currency) AS currency,
               sum(k.spend) AS spend, sum(k.conversion_value) AS value
        FROM campaign_kpis AS k FINAL
        INNER JOIN
        (
            SELECT platform, campaign_id,
                   min(multiIf(level = 'CAMPAIGN', 0, level = 'AD_GROUP', 1, 2)) AS top
            FROM campaign_kpis FINAL
            WHERE interval_start >= now64(3) - toIntervalDay({days:UInt32})
            GROUP BY platform, campaign_id
        ) AS m ON k.platform = m.platform AND k.campaign_id = m.campaign_id
        WHERE multiIf(k.level = 'CAMPAIGN', 0, k.level = 'AD_GROUP', 1, 2) = m.top
          AND k.interval_start >= now64(3) - toIntervalDay({days:UInt32})
        GROUP BY day, platform, campaign_id
    ) AS k
    ASOF LEFT JOIN
    (
        SELECT currency, day, rate FROM currency_rates FINAL
        WHERE reporting_currency = {currency:String}
    ) AS r
    ON k.currency = r.currency AND k.day >= r.day
) AS s
LEFT JOIN
(
    SELECT c.campaign_id AS campaign_id, c.day AS day,
           sum(c.revenue_credit * if(c.currency = {currency:String}, 1.0, nullIf(r.rate, 0)))
               AS revenue,
           sum(c.credit) AS conversions,
           countIf(c.currency != {currency:String} AND r.rate = 0) AS unconverted
    FROM
    (
        SELECT assumeNotNull(campaign_id) AS campaign_id, toDate(occurred_at) AS day,
               revenue_credit, credit, currency
        FROM attribution_credits FINAL
        WHERE model = {model:String} AND campaign_id IS NOT NULL
          AND occurred_at >= now64(3) - toIntervalDay({days:UInt32})
          -- a conversion's latest attribution only: each writes its whole journey, and a
          -- touch that left the journey (a split, a changed lookback) keeps its older row
          AND (conversion_id, _version) IN (
              SELECT conversion_id, max(_version) FROM attribution_credits FINAL
              WHERE model = {model:String} GROUP BY conversion_id)
    ) AS c
    ASOF LEFT JOIN
    (
        SELECT currency, day, rate FROM currency_rates FINAL
        WHERE reporting_currency = {currency:String}
    ) AS r
    ON c.currency = r.currency AND c.day >= r.day
    GROUP BY campaign_id, day
) AS a ON s.campaign_id = a.campaign_id AND s.day = a.day
ORDER BY day DESC, spend_reporting DESC, platform, campaign_id
