-- title: Emotional journey
-- description: The customer messages of one conversation in order, with their sentiment, the
--   change from the previous one, the running mean and lowest point so far, whether an
--   escalation was raised at that message, and the conversation's final journey state
--   (positive, neutral, negative, recovered, worsening) and resolution.
-- param: conversation_id String
SELECT
    m.occurred_at AS occurred_at,
    m.text AS text,
    m.compound AS sentiment_compound,
    round(m.compound - lagInFrame(m.compound, 1, m.compound) OVER w, 4) AS change,
    round(avg(m.compound) OVER w, 4) AS running_mean,
    round(min(m.compound) OVER w, 4) AS lowest_so_far,
    m.occurred_at IN (
        SELECT created_at FROM escalations FINAL
        WHERE conversation_id = {conversation_id:String}
    ) AS escalated_here,
    s.journey_state AS journey_state,
    s.resolution AS resolution
FROM
(
    SELECT conversation_id, occurred_at, _partition, _offset, text,
           round(toFloat64(sentiment_compound), 4) AS compound
    FROM chat_events FINAL
    WHERE conversation_id = {conversation_id:String} AND event_type = 'MESSAGE'
        AND sender_role = 'CUSTOMER' AND sentiment_compound IS NOT NULL
) AS m
LEFT JOIN
(
    SELECT conversation_id, journey_state, resolution FROM conversation_states FINAL
    WHERE conversation_id = {conversation_id:String}
) AS s ON s.conversation_id = m.conversation_id
WINDOW w AS (ORDER BY m.occurred_at, m._partition, m._offset
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
ORDER BY m.occurred_at, m._partition, m._offset
