-- title: Conversation journey
-- description: The messages of one conversation in order: who sent each, what they wrote, and
--   its sentiment (VADER compound score and label).
-- param: conversation_id String
SELECT
    occurred_at,
    sender_role,
    sender_id,
    text,
    round(toFloat64(sentiment_compound), 4) AS sentiment_compound,
    sentiment_label
FROM chat_events FINAL
WHERE conversation_id = {conversation_id:String} AND event_type = 'MESSAGE'
ORDER BY occurred_at, _partition, _offset
