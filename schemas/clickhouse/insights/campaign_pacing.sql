-- title: Budget pacing today
-- description: Per campaign, today's spend (UTC day, latest revisions, each campaign's coarsest
--   reported level) against the daily budget its platform last reported (campaign_levers):
--   the share of the budget spent, the share of the day gone, pacing = spent share / day
--   share (1 is on pace; above `over` the budget runs out early, below `under` it is left
--   unspent) and the spend projected to the end of the day, in the account currency and in
--   the reporting currency (rate as in campaign_roi_hourly).
-- param: currency String = USD
-- param: over Float64 = 1.2
-- param: under Float64 = 0.8
SELECT
    platform,
    campaign_id,
    round(spend, 2) AS spend_today,
    round(budget, 2) AS daily_budget,
    currency AS account_currency,
    round(spend / nullIf(budget, 0), 4) AS budget_spent,
    round(day_share, 4) AS day_gone,
    round(spend / nullIf(budget, 0) / nullIf(day_share, 0), 4) AS pacing,
    round(spend / nullIf(day_share, 0), 2) AS projected_spend,
    round(spend * rate, 2) AS spend_today_reporting,
    round(budget * rate, 2) AS daily_budget_reporting,
    {currency:String} AS reporting_currency,
    multiIf(budget IS NULL OR budget = 0, 'no budget',
            pacing > {over:Float64}, 'over',
            pacing < {under:Float64}, 'under', 'on pace') AS status
FROM
(
    SELECT
        s.platform AS platform,
        s.campaign_id AS campaign_id,
        s.currency AS currency,
        s.spend AS spend,
        b.budget AS budget,
        (toUnixTimestamp(now()) - toUnixTimestamp(toStartOfDay(now()))) / 86400 AS day_share,
        if(s.currency = {currency:String}, 1.0, nullIf(r.rate, 0)) AS rate
    FROM
    (
        SELECT k.platform AS platform, k.campaign_id AS campaign_id, any(k.currency) AS currency,
               sum(k.spend) AS spend, today() AS today
        FROM campaign_kpis AS k FINAL
        INNER JOIN
        (
            SELECT platform, campaign_id,
                   min(multiIf(level = 'CAMPAIGN', 0, level = 'AD_GROUP', 1, 2)) AS top
            FROM campaign_kpis FINAL
            WHERE interval_start >= toStartOfDay(now64(3))
            GROUP BY platform, campaign_id
        ) AS m ON k.platform = m.platform AND k.campaign_id = m.campaign_id
        WHERE multiIf(k.level = 'CAMPAIGN', 0, k.level = 'AD_GROUP', 1, 2) = m.top
          AND k.interval_start >= toStartOfDay(now64(3))
        GROUP BY k.platform, k.campaign_id
    ) AS s
    LEFT JOIN
    (
        SELECT platform, campaign_id, max(budget_micros) / 1000000 AS budget
        FROM campaign_levers FINAL
        GROUP BY platform, campaign_id
    ) AS b ON s.platform = b.platform AND s.campaign_id = b.campaign_id
    ASOF LEFT JOIN
    (
        SELECT currency, day, rate
        FROM currency_rates FINAL
        WHERE reporting_currency = {currency:String}
    ) AS r
    ON s.currency = r.currency AND s.today >= r.day
)
ORDER BY pacing DESC NULLS LAST, platform, campaign_id
