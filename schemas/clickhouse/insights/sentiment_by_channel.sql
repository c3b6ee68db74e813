-- title: Sentiment by channel
-- description: Per chat channel: messages (all senders), customer messages, and the customer's
--   mood: average VADER compound score of customer messages (-1 .. 1) and the share of them
--   labelled negative (compound <= -0.05).
SELECT
    channel,
    count() AS messages,
    countIf(sender_role = 'CUSTOMER') AS customer_messages,
    round(avgIf(sentiment_compound, sender_role = 'CUSTOMER'), 4) AS avg_compound,
    round(
        countIf(sender_role = 'CUSTOMER' AND sentiment_label = 'negative')
            / nullIf(countIf(sender_role = 'CUSTOMER' AND sentiment_compound IS NOT NULL), 0),
        4
    ) AS share_negative
FROM chat_events FINAL
WHERE event_type = 'MESSAGE'
GROUP BY channel
ORDER BY messages DESC, channel
