-- title: Attribution by channel, every model side by side
-- description: Per channel, the conversions and revenue (reporting currency `currency`) that
--   each model credits it: the six rule-based models (each conversion's latest credits) next
--   to the latest Markov run of order `markov_order` (with its bootstrap interval) and the
--   latest Shapley run, all over the same conversions: those of the latest Markov run's window
--   (Shapley's when there is no Markov run; every credit before any run). Each model's conversions column adds up to the
--   conversions with a journey; amounts are converted with the rate of the window's last day or
--   the latest earlier one (currency_rates); an amount with no rate is left out and counted in
--   unconverted.
-- param: markov_order UInt8 = 1
-- param: currency String = USD
WITH
    latest AS (
        SELECT model, markov_order, argMax(run_id, created_at) AS run_id,
               argMax(window_start, created_at) AS ws, argMax(window_end, created_at) AS we
        FROM attribution_model_credits
        WHERE (model = 'markov' AND markov_order = {markov_order:UInt8}) OR model = 'shapley'
        GROUP BY model, markov_order
    ),
    bounds AS (
        -- every credit when no run was made yet
        SELECT if(count() = 0, toDateTime64(0, 3, 'UTC'), argMax(ws, model = 'markov')) AS ws,
               if(count() = 0, now64(3, 'UTC'), argMax(we, model = 'markov')) AS we
        FROM latest
    ),
    rates AS (
        SELECT currency, argMax(rate, day) AS rate FROM currency_rates FINAL
        WHERE reporting_currency = {currency:String}
          AND day <= toDate((SELECT we FROM bounds))
        GROUP BY currency
    ),
    credits AS (
        SELECT model, channel, credit AS conversions, revenue_credit AS amount, currency,
               CAST(NULL, 'Nullable(Float64)') AS low, CAST(NULL, 'Nullable(Float64)') AS high
        FROM attribution_credits FINAL
        WHERE conversion_at >= (SELECT ws FROM bounds) AND conversion_at <= (SELECT we FROM bounds)
          -- a conversion's latest attribution only (each writes its whole journey)
          AND (conversion_id, model, _version) IN (
              SELECT conversion_id, model, max(_version) FROM attribution_credits FINAL
              GROUP BY conversion_id, model)
        UNION ALL
        SELECT model, channel, if(measure = 'conversions', credit, 0) AS conversions,
               if(measure = 'revenue', credit, 0) AS amount, currency,
               if(measure = 'conversions', credit_low, NULL) AS low,
               if(measure = 'conversions', credit_high, NULL) AS high
        FROM attribution_model_credits FINAL
        WHERE level = 'channel'
          AND (model, markov_order, run_id) IN (SELECT model, markov_order, run_id FROM latest)
    ),
    converted AS (
        SELECT c.model AS model, c.channel AS channel, c.conversions AS conversions,
               c.low AS low, c.high AS high,
               c.amount * if(c.currency = {currency:String} OR c.amount = 0, 1.0,
                             nullIf(r.rate, 0)) AS revenue,
               toUInt64(c.amount != 0 AND c.currency != {currency:String} AND r.rate = 0)
                   AS unconverted
        FROM credits AS c
        LEFT JOIN rates AS r ON c.currency = r.currency
    )
SELECT
    channel,
    round(sumIf(conversions, model = 'first_touch'), 3) AS first_touch,
    round(sumIf(conversions, model = 'last_touch'), 3) AS last_touch,
    round(sumIf(conversions, model = 'last_non_direct'), 3) AS last_non_direct,
    round(sumIf(conversions, model = 'linear'), 3) AS linear,
    round(sumIf(conversions, model = 'time_decay'), 3) AS time_decay,
    round(sumIf(conversions, model = 'position_based'), 3) AS position_based,
    round(sumIf(conversions, model = 'markov'), 3) AS markov,
    round(sumIf(low, model = 'markov'), 3) AS markov_low,
    round(sumIf(high, model = 'markov'), 3) AS markov_high,
    round(sumIf(conversions, model = 'shapley'), 3) AS shapley,
    round(sumIf(revenue, model = 'first_touch'), 2) AS revenue_first_touch,
    round(sumIf(revenue, model = 'last_touch'), 2) AS revenue_last_touch,
    round(sumIf(revenue, model = 'last_non_direct'), 2) AS revenue_last_non_direct,
    round(sumIf(revenue, model = 'linear'), 2) AS revenue_linear,
    round(sumIf(revenue, model = 'time_decay'), 2) AS revenue_time_decay,
    round(sumIf(revenue, model = 'position_based'), 2) AS revenue_position_based,
    round(sumIf(revenue, model = 'markov'), 2) AS revenue_markov,
    round(sumIf(revenue, model = 'shapley'), 2) AS revenue_shapley,
    {currency:String} AS reporting_currency,
    sum(unconverted) AS unconverted,
    (SELECT ws FROM bounds) AS window_start,
    (SELECT we FROM bounds) AS window_end
FROM converted
GROUP BY channel
ORDER BY markov DESC, linear DESC, channel
