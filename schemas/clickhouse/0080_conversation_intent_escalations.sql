-- conversations: the figures conversation.insights v2 adds, so analysts and the training
-- history read them beside the sentiment summary: the conversation's intent and its confidence
-- (NULL before one was recognised), the times it was escalated and the lead signals it raised.
-- Rows written before read NULL and 0.
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS intent Nullable(String) AFTER min_sentiment;

ALTER TABLE conversations ADD COLUMN IF NOT EXISTS intent_confidence Nullable(Float64) AFTER intent;

ALTER TABLE conversations ADD COLUMN IF NOT EXISTS escalations UInt32 DEFAULT 0 AFTER intent_confidence;

ALTER TABLE conversations ADD COLUMN IF NOT EXISTS lead_signals UInt32 DEFAULT 0 AFTER escalations;
