-- title: Top journey paths
-- description: The most frequent channel paths of attributed conversions (the touchpoints of
--   each conversion's journey in time order, repeats in a row collapsed), with how many
--   conversions took each path and their revenue per currency.
-- param: limit UInt32 = 20
SELECT
    arrayStringConcat(
        arrayFilter((c, i) -> i = 1 OR c != steps[i - 1], steps, arrayEnumerate(steps)),
        ' > ') AS path,
    currency,
    count() AS conversions,
    round(sum(revenue), 2) AS revenue
FROM
(
    SELECT
        conversion_id,
        any(currency) AS currency,
        sum(revenue_credit) AS revenue,
        arrayMap(t -> t.2, arraySort(groupArray((occurred_at, channel, touchpoint_id)))) AS steps
    FROM attribution_credits FINAL
    WHERE model = 'linear'
    GROUP BY conversion_id
)
GROUP BY path, currency
ORDER BY conversions DESC, path
LIMIT {limit:UInt32}
