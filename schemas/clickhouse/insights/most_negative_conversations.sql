-- title: Most negative conversations
-- description: The conversations whose customer messages are the most negative on average
--   (lowest mean VADER compound score), with their lowest score and first message time.
-- param: limit UInt32 = 10
WITH worst AS
(
    SELECT conversation_id, channel, language, messages, sentiment_mean, min_sentiment
    FROM conversations FINAL
    WHERE sentiment_mean IS NOT NULL
    ORDER BY sentiment_mean ASC, min_sentiment ASC, conversation_id
    LIMIT {limit:UInt32}
)
SELECT
    w.conversation_id AS conversation_id,
    w.channel AS channel,
    w.language AS language,
    w.messages AS messages,
    round(w.sentiment_mean, 4) AS sentiment_mean,
    round(w.min_sentiment, 4) AS min_sentiment,
    f.first_message_at AS first_message_at
FROM worst AS w
LEFT JOIN
(
    SELECT conversation_id, min(occurred_at) AS first_message_at
    FROM chat_events FINAL
    WHERE event_type = 'MESSAGE' AND conversation_id IN (SELECT conversation_id FROM worst)
    GROUP BY conversation_id
) AS f ON f.conversation_id = w.conversation_id
ORDER BY w.sentiment_mean ASC, w.min_sentiment ASC, w.conversation_id
