-- title: ROI by channel and campaign, revenue from any attribution model
-- description: Attributed conversions and revenue against spend, per channel (level channel)
--   and per channel and campaign (level campaign), both in the reporting currency `currency`.
--   `model` is a rule-based model (its latest credits of each conversion in the last `days`
--   days, attribution_credits) or `markov` (order `markov_order`; per channel only) or
--   `shapley`, whose latest run gives the credits and the window. Spend: campaign_kpis in the
--   same window (latest revisions, each campaign's coarsest reported level); a channel's
--   spend is that of the campaigns whose touchpoints are on it. Amounts are converted with
--   the rate of their day or the latest earlier one (currency_rates, as campaign_roi_hourly);
--   an amount with no rate is left out and counted in unconverted. roi = (revenue - spend) /
--   spend, roas = revenue / spend; null without spend.
-- param: model String = shapley
-- param: markov_order UInt8 = 1
-- param: currency String = USD
-- param: days UInt32 = 30
WITH
    run AS (
        SELECT argMax(run_id, created_at) AS run_id, argMax(window_start, created_at) AS ws,
               argMax(window_end, created_at) AS we
        FROM attribution_model_credits
        WHERE model = {model:String}
          AND markov_order = if({model:String} = 'markov', {markov_order:UInt8}, 0)
    ),
    bounds AS (
        SELECT if({model:String} IN ('markov', 'shapley'), (SELECT ws FROM run),
                  now64(3) - toIntervalDay({days:UInt32})) AS ws,
               if({model:String} IN ('markov', 'shapley'), (SELECT we FROM run), now64(3)) AS we
    ),
    rates AS (
        SELECT currency, day, rate FROM currency_rates FINAL
        WHERE reporting_currency = {currency:String}
    ),
    credited AS (
        SELECT channel, campaign_id, sum(conversions) AS conversions, sum(revenue) AS revenue,
               sum(unconverted) AS unconverted
        FROM
        (
            SELECT c.channel AS channel, c.campaign_id AS campaign_id, c.credit AS conversions,
                   c.revenue_credit * if(c.currency = {currency:String}, 1.0, nullIf(r.rate, 0))
                       AS revenue,
                   toUInt64(c.currency != {currency:String} AND r.rate = 0) AS unconverted
            FROM
            (
                SELECT channel, ifNull(campaign_id, '') AS campaign_id, credit, revenue_credit,
                       currency, toDate(conversion_at) AS day
                FROM attribution_credits FINAL
                WHERE model = {model:String}
                  AND conversion_at >= (SELECT ws FROM bounds)
                  AND conversion_at <= (SELECT we FROM bounds)
                  -- a conversion's latest attribution only (each writes its whole journey)
                  AND (conversion_id, _version) IN (
                      SELECT conversion_id, max(_version) FROM attribution_credits FINAL
                      WHERE model = {model:String} GROUP BY conversion_id)
            ) AS c
            ASOF LEFT JOIN rates AS r ON c.currency = r.currency AND c.day >= r.day
            UNION ALL
            SELECT m.channel AS channel, m.campaign_id AS campaign_id,
                   if(m.measure = 'conversions', m.credit, 0) AS conversions,
                   if(m.measure = 'revenue',
                      m.credit * if(m.currency = {currency:String}, 1.0, nullIf(r.rate, 0)), 0)
                       AS revenue,
                   toUInt64(m.measure = 'revenue' AND m.currency != {currency:String}
                            AND r.rate = 0) AS unconverted
            FROM
            (
                SELECT channel, campaign_id, measure, credit, currency, toDate(window_end) AS day
                FROM attribution_model_credits FINAL
                WHERE run_id = (SELECT run_id FROM run) AND model = {model:String}
                  AND markov_order = if({model:String} = 'markov', {markov_order:UInt8}, 0)
                  AND level = if({model:String} = 'markov', 'channel', 'campaign')
            ) AS m
            ASOF LEFT JOIN rates AS r ON m.currency = r.currency AND m.day >= r.day
        )
        GROUP BY channel, campaign_id
    ),
    spend AS (
        SELECT k.campaign_id AS campaign_id,
               sum(k.spend * if(k.currency = {currency:String}, 1.0, nullIf(r.rate, 0))) AS spend,
               sum(toUInt64(k.currency != {currency:String} AND r.rate = 0)) AS unconverted
        FROM
        (
            SELECT toDate(k.interval_start) AS day, k.campaign_id AS campaign_id,
                   k.currency AS currency, sum(k.spend) AS spend
            FROM campaign_kpis AS k FINAL
            INNER JOIN
            (
                SELECT platform, campaign_id,
                       min(multiIf(level = 'CAMPAIGN', 0, level = 'AD_GROUP', 1, 2)) AS top
                FROM campaign_kpis FINAL
                WHERE interval_start >= (SELECT ws FROM bounds)
                  AND interval_start <= (SELECT we FROM bounds)
                GROUP BY platform, campaign_id
            ) AS m ON k.platform = m.platform AND k.campaign_id = m.campaign_id
            WHERE multiIf(k.level = 'CAMPAIGN', 0, k.level = 'AD_GROUP', 1, 2) = m.top
              AND k.interval_start >= (SELECT ws FROM bounds)
              AND k.interval_start <= (SELECT we FROM bounds)
            GROUP BY day, campaign_id, currency
        ) AS k
        ASOF LEFT JOIN rates AS r ON k.currency = r.currency AND k.day >= r.day
        GROUP BY campaign_id
    ),
    channel_of AS (
        SELECT campaign_id, argMax(channel, n) AS channel
        FROM
        (
            SELECT assumeNotNull(campaign_id) AS campaign_id, assumeNotNull(channel) AS channel,
                   count() AS n
            FROM customer_events FINAL
            WHERE kind = 'touchpoint' AND campaign_id IS NOT NULL AND channel IS NOT NULL
            GROUP BY campaign_id, channel
        )
        GROUP BY campaign_id
    )
SELECT level, channel, campaign_id,
       round(conversions, 3) AS attributed_conversions,
       round(revenue, 2) AS attributed_revenue,
       round(spend, 2) AS spend,
       {currency:String} AS reporting_currency,
       round((revenue - spend) / nullIf(spend, 0), 4) AS roi,
       round(revenue / nullIf(spend, 0), 4) AS roas,
       unconverted,
       (SELECT ws FROM bounds) AS window_start,
       (SELECT we FROM bounds) AS window_end,
       {model:String} AS model
FROM
(
    SELECT 'campaign' AS level, c.channel AS channel, c.campaign_id AS campaign_id,
           c.conversions AS conversions, c.revenue AS revenue, s.spend AS spend,
           c.unconverted + s.unconverted AS unconverted
    FROM credited AS c
    LEFT JOIN spend AS s ON c.campaign_id = s.campaign_id
    WHERE c.campaign_id != ''
    UNION ALL
    SELECT 'channel' AS level, c.channel AS channel, '' AS campaign_id,
           c.conversions AS conversions, c.revenue AS revenue, s.spend AS spend,
           c.unconverted + s.unconverted AS unconverted
    FROM
    (
        SELECT channel, sum(conversions) AS conversions, sum(revenue) AS revenue,
               sum(unconverted) AS unconverted
        FROM credited GROUP BY channel
    ) AS c
    LEFT JOIN
    (
        SELECT o.channel AS channel, sum(s.spend) AS spend, sum(s.unconverted) AS unconverted
        FROM spend AS s INNER JOIN channel_of AS o ON s.campaign_id = o.campaign_id
        GROUP BY channel
    ) AS s ON c.channel = s.channel
)
ORDER BY level = 'campaign', revenue DESC, channel, campaign_id
