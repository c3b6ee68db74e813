-- Lookups of the 360° profile (GET /customers/{identifier}): the tables the customer domain
-- writes are keyed for their writers (customer_events by (kind, event_id), customer_profiles
-- by person_id), not for "whose is this identifier" or "every event of this person".
--
-- - customer_events gets a projection ordered by (person_id, occurred_at): the events of a
--   person (and a page of them before a time) are found by reading a few granules instead of
--   the whole table. A projection on a ReplacingMergeTree must say what a merge does with it
--   ('rebuild': rebuilt from the merged rows). Queries read the projection without FINAL,
--   for candidate (kind, event_id) keys only, and then read those keys with FINAL through
--   the table's own primary key, so a row a later resolution replaced is never shown.
-- - customer_profiles gets bloom-filter skipping indexes on identifiers (which person holds
--   an identifier) and on merged_into (which persons were merged into this one). The engine
--   applies skipping indexes with FINAL in exact mode (use_skip_indexes_if_final, default on).
ALTER TABLE customer_events MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE customer_events ADD PROJECTION IF NOT EXISTS by_person
    (SELECT person_id, occurred_at, kind, event_id ORDER BY (person_id, occurred_at));

ALTER TABLE customer_events MATERIALIZE PROJECTION by_person SETTINGS mutations_sync = 1;

ALTER TABLE customer_profiles ADD INDEX IF NOT EXISTS by_identifier identifiers
    TYPE bloom_filter(0.01) GRANULARITY 1;

ALTER TABLE customer_profiles ADD INDEX IF NOT EXISTS by_merged_into merged_into
    TYPE bloom_filter(0.01) GRANULARITY 1;

ALTER TABLE customer_profiles MATERIALIZE INDEX by_identifier SETTINGS mutations_sync = 1;

ALTER TABLE customer_profiles MATERIALIZE INDEX by_merged_into SETTINGS mutations_sync = 1;
