-- title: Escalation rate by intent and team
-- description: Per conversation intent (the latest state's; 'unknown' without one) and the
--   team escalations were routed to: escalations, escalated conversations, all conversations
--   of the intent, and the share of them escalated to that team.
WITH states AS
(
    SELECT conversation_id, if(intent = '', 'unknown', intent) AS intent
    FROM conversation_states FINAL
),
totals AS
(
    SELECT intent, count() AS conversations FROM states GROUP BY intent
)
SELECT
    s.intent AS intent,
    e.team AS team,
    count() AS escalations,
    uniqExact(e.conversation_id) AS escalated_conversations,
    any(t.conversations) AS conversations,
    round(escalated_conversations / conversations, 4) AS escalation_rate
FROM escalations AS e FINAL
INNER JOIN states AS s ON s.conversation_id = e.conversation_id
INNER JOIN totals AS t ON t.intent = s.intent
GROUP BY intent, team
ORDER BY escalation_rate DESC, escalations DESC, intent, team
