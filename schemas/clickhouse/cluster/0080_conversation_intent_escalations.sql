-- Cluster counterpart of ../0080_conversation_intent_escalations.sql: the same columns on every
-- node's conversations_local and on the Distributed conversations over them (a Distributed
-- table does not follow its local tables' columns by itself).
ALTER TABLE conversations_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS intent Nullable(String) AFTER min_sentiment;

ALTER TABLE conversations_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS intent_confidence Nullable(Float64) AFTER intent;

ALTER TABLE conversations_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS escalations UInt32 DEFAULT 0 AFTER intent_confidence;

ALTER TABLE conversations_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS lead_signals UInt32 DEFAULT 0 AFTER escalations;

ALTER TABLE conversations ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS intent Nullable(String) AFTER min_sentiment;

ALTER TABLE conversations ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS intent_confidence Nullable(Float64) AFTER intent;

ALTER TABLE conversations ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS escalations UInt32 DEFAULT 0 AFTER intent_confidence;

ALTER TABLE conversations ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS lead_signals UInt32 DEFAULT 0 AFTER escalations;
