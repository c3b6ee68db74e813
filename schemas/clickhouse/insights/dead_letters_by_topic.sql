-- title: Dead letters by topic
-- description: Messages moved to a dead-letter topic, per original topic and error: how many,
--   when the first and last failed, and an example reason to start investigating with.
SELECT
    _topic AS topic,
    error,
    count() AS dead_letters,
    min(failed_at) AS first_failed_at,
    max(failed_at) AS last_failed_at,
    any(reason) AS example_reason
FROM dead_letters FINAL
GROUP BY topic, error
ORDER BY topic, dead_letters DESC, error
