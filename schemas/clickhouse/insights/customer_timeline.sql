-- title: Customer timeline
-- description: Every interaction of one person in time order (touchpoints, conversions, CRM
--   updates), including those resolved, before a merge, to a person merged into it (two merge
--   levels deep), with the person each was first resolved to.
-- param: person_id String
WITH
    merged AS (
        SELECT other_person FROM identity_links FINAL
        WHERE kind = 'merge' AND person_id = {person_id:String}
    ),
    merged_again AS (
        SELECT other_person FROM identity_links FINAL
        WHERE kind = 'merge' AND person_id IN (SELECT other_person FROM merged)
    )
SELECT
    occurred_at,
    kind,
    type,
    channel,
    campaign_id,
    value,
    currency,
    event_id,
    person_id AS resolved_as,
    identifiers,
    flags
FROM customer_events FINAL
WHERE person_id = {person_id:String}
   OR person_id IN (SELECT other_person FROM merged)
   OR person_id IN (SELECT other_person FROM merged_again)
ORDER BY occurred_at, event_id
