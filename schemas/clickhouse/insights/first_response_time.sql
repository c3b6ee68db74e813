-- title: First response time
-- description: Per channel: conversations in which a customer wrote and a bot or agent then
--   answered, and the time to that first answer in seconds: p50, p90 (linear interpolation
--   between ranks) and mean.
SELECT
    channel,
    count() AS conversations,
    round(quantileExactInclusive(0.5)(first_response_ms) / 1000, 3) AS p50_seconds,
    round(quantileExactInclusive(0.9)(first_response_ms) / 1000, 3) AS p90_seconds,
    round(avg(first_response_ms) / 1000, 3) AS mean_seconds
FROM conversation_states FINAL
WHERE first_response_ms IS NOT NULL
GROUP BY channel
ORDER BY conversations DESC, channel
