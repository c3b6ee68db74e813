-- title: Sentiment by channel and day
-- description: Per chat channel and UTC day: customer messages, their average VADER compound
--   score (-1 .. 1), and the shares labelled negative (<= -0.05) and positive (>= 0.05).
SELECT
    channel,
    toDate(occurred_at) AS day,
    count() AS customer_messages,
    round(avg(sentiment_compound), 4) AS avg_compound,
    round(countIf(sentiment_label = 'negative') / count(), 4) AS share_negative,
    round(countIf(sentiment_label = 'positive') / count(), 4) AS share_positive
FROM chat_events FINAL
WHERE event_type = 'MESSAGE' AND sender_role = 'CUSTOMER' AND sentiment_compound IS NOT NULL
GROUP BY channel, day
ORDER BY day, channel
