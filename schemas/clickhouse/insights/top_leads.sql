-- title: Top leads with reasons, value and risk
-- description: The people with the highest lead score, each with its top reasons, the model
--   that scored it, the churn risk, the expected 12-month value (and its currency) and the
--   next best action, from each person's latest scores.
-- param: limit UInt32 = 10
SELECT
    person_id,
    round(maxIf(score, kind = 'lead'), 1) AS lead_score,
    anyIf(label, kind = 'lead') AS lead_label,
    arrayStringConcat(anyIf(reasons, kind = 'lead'), '; ') AS lead_reasons,
    anyIf(model_version, kind = 'lead') AS lead_model,
    round(maxIfOrNull(score, kind = 'churn'), 1) AS churn_risk,
    round(maxIfOrNull(score, kind = 'clv'), 2) AS expected_value_12m,
    anyIf(label, kind = 'clv') AS value_currency,
    anyIf(label, kind = 'next_best_action') AS next_best_action,
    max(scored_at) AS scored_at
FROM customer_scores FINAL
GROUP BY person_id
HAVING countIf(kind = 'lead') > 0
ORDER BY lead_score DESC, person_id
LIMIT {limit:UInt32}
