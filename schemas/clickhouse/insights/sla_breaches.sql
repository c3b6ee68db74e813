-- title: SLA breaches
-- description: Escalations no human took over by their SLA deadline: no HANDOFF event and no
--   agent message in the conversation between the escalation and the deadline, and the
--   deadline has passed. handled_at is when a human finally took over (null: not yet).
WITH human AS
(
    SELECT conversation_id, arraySort(groupArray(occurred_at)) AS times
    FROM chat_events FINAL
    WHERE event_type = 'HANDOFF' OR (event_type = 'MESSAGE' AND sender_role = 'AGENT')
    GROUP BY conversation_id
)
SELECT
    e.escalation_id AS escalation_id,
    e.conversation_id AS conversation_id,
    e.team AS team,
    e.priority AS priority,
    e.reasons AS reasons,
    e.created_at AS created_at,
    e.sla_deadline AS sla_deadline,
    nullIf(arrayFirst(t -> t >= e.created_at, h.times), toDateTime64(0, 3, 'UTC'))
        AS handled_at,
    round((dateDiff('millisecond', e.sla_deadline,
        ifNull(handled_at, now64(3, 'UTC')))) / 60000, 1) AS minutes_late
FROM escalations AS e FINAL
LEFT JOIN human AS h ON h.conversation_id = e.conversation_id
WHERE e.sla_deadline < now64(3, 'UTC') AND (handled_at IS NULL OR handled_at > e.sla_deadline)
ORDER BY e.priority, e.sla_deadline, e.escalation_id
