-- Cluster counterpart of ../0015_customer_lookups.sql: the same setting, projection and
-- skipping indexes on every node's customer_events_local and customer_profiles_local (the
-- Distributed tables read through them; projections and indexes live in each node's parts).
-- mutations_sync = 2 waits until every replica has built them.
ALTER TABLE customer_events_local ON CLUSTER '{cluster}'
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE customer_events_local ON CLUSTER '{cluster}' ADD PROJECTION IF NOT EXISTS by_person
    (SELECT person_id, occurred_at, kind, event_id ORDER BY (person_id, occurred_at));

ALTER TABLE customer_events_local ON CLUSTER '{cluster}'
    MATERIALIZE PROJECTION by_person SETTINGS mutations_sync = 2;

ALTER TABLE customer_profiles_local ON CLUSTER '{cluster}' ADD INDEX IF NOT EXISTS by_identifier
    identifiers TYPE bloom_filter(0.01) GRANULARITY 1;

ALTER TABLE customer_profiles_local ON CLUSTER '{cluster}' ADD INDEX IF NOT EXISTS by_merged_into
    merged_into TYPE bloom_filter(0.01) GRANULARITY 1;

ALTER TABLE customer_profiles_local ON CLUSTER '{cluster}'
    MATERIALIZE INDEX by_identifier SETTINGS mutations_sync = 2;

ALTER TABLE customer_profiles_local ON CLUSTER '{cluster}'
    MATERIALIZE INDEX by_merged_into SETTINGS mutations_sync = 2;
