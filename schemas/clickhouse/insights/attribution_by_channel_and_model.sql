-- title: Attribution by channel and model
-- description: Conversions and revenue each rule-based model credits to each channel, the six
--   models side by side (one row per channel and currency; a model's column sums the credit
--   shares its conversions give the channel, so each model's column adds up to the number of
--   attributed conversions). Credits of one model version (lookback and half-life).
-- param: model_version String = lb30d-hl7d
SELECT
    channel,
    currency,
    round(sumIf(credit, model = 'first_touch'), 3) AS first_touch,
    round(sumIf(credit, model = 'last_touch'), 3) AS last_touch,
    round(sumIf(credit, model = 'last_non_direct'), 3) AS last_non_direct,
    round(sumIf(credit, model = 'linear'), 3) AS linear,
    round(sumIf(credit, model = 'time_decay'), 3) AS time_decay,
    round(sumIf(credit, model = 'position_based'), 3) AS position_based,
    round(sumIf(revenue_credit, model = 'first_touch'), 2) AS revenue_first_touch,
    round(sumIf(revenue_credit, model = 'last_touch'), 2) AS revenue_last_touch,
    round(sumIf(revenue_credit, model = 'last_non_direct'), 2) AS revenue_last_non_direct,
    round(sumIf(revenue_credit, model = 'linear'), 2) AS revenue_linear,
    round(sumIf(revenue_credit, model = 'time_decay'), 2) AS revenue_time_decay,
    round(sumIf(revenue_credit, model = 'position_based'), 2) AS revenue_position_based
FROM attribution_credits FINAL
WHERE model_version = {model_version:String}
GROUP BY channel, currency
ORDER BY currency, linear DESC, channel
