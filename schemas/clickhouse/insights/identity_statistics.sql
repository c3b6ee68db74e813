-- title: Identity statistics
-- description: What identity resolution did: live persons and persons merged away, links by
--   rule, merges, merges a guard rail refused by reason, events left unresolved (no usable
--   identifier) and identifiers flagged on arrival by flag (malformed, blocked).
SELECT metric, detail, value
FROM
(
    SELECT 'persons' AS metric, '' AS detail, count() AS value
    FROM customer_profiles FINAL WHERE merged_into IS NULL
    UNION ALL
    SELECT 'persons merged away', '', count()
    FROM customer_profiles FINAL WHERE merged_into IS NOT NULL
    UNION ALL
    SELECT 'links', ifNull(rule, ''), count()
    FROM identity_links FINAL WHERE kind = 'link' GROUP BY rule
    UNION ALL
    SELECT 'merges', '', count() FROM identity_links FINAL WHERE kind = 'merge'
    UNION ALL
    SELECT 'refused merges', ifNull(reason, ''), count()
    FROM identity_links FINAL WHERE kind = 'refused' GROUP BY reason
    UNION ALL
    SELECT 'unresolved events', '', count() FROM customer_events FINAL WHERE person_id = ''
    UNION ALL
    SELECT 'flagged on arrival', flag, count()
    FROM customer_inputs FINAL ARRAY JOIN flags AS flag GROUP BY flag
)
ORDER BY metric, detail
