-- title: Score drift (population stability)
-- description: Per kind of score (lead, churn), the population stability index (PSI) between
--   the scores of people scored in the last recent_days and of people last scored in the
--   reference_days before that, over ten bins of the 0-100 score (empty bins count as 0.01 %).
--   PSI < 0.1: stable; 0.1-0.25: a moderate shift; > 0.25: a major shift (retrain, or look at
--   what changed upstream). The table keeps each person's latest score of a kind, so this
--   compares recently scored people with the others, per model version scoring them now.
-- param: recent_days UInt32 = 7
-- param: reference_days UInt32 = 28
WITH
    now64(3, 'UTC') AS t,
    scored AS (
        SELECT
            kind,
            least(9, toUInt8(floor(greatest(score, 0) / 10))) AS bin,
            scored_at >= t - toIntervalDay({recent_days:UInt32}) AS recent
        FROM customer_scores FINAL
        WHERE kind IN ('lead', 'churn')
          AND scored_at >= t - toIntervalDay({recent_days:UInt32} + {reference_days:UInt32})
    ),
    counts AS (
        SELECT kind, bin, countIf(recent) AS r, countIf(NOT recent) AS b
        FROM scored
        GROUP BY kind, bin
    ),
    totals AS (
        SELECT kind, sum(r) AS recent_rows, sum(b) AS reference_rows
        FROM counts
        GROUP BY kind
    )
SELECT
    kind,
    round(sum((pr - pb) * log(pr / pb)), 4) AS psi,
    any(recent_rows) AS recent_rows,
    any(reference_rows) AS reference_rows,
    multiIf(recent_rows = 0 OR reference_rows = 0, 'not enough data',
            psi < 0.1, 'stable', psi < 0.25, 'moderate shift', 'major shift') AS verdict
FROM (
    SELECT
        counts.kind AS kind,
        greatest(r / nullIf(recent_rows, 0), 0.0001) AS pr,
        greatest(b / nullIf(reference_rows, 0), 0.0001) AS pb,
        recent_rows,
        reference_rows
    FROM counts
    INNER JOIN totals ON counts.kind = totals.kind
)
GROUP BY kind
ORDER BY kind
