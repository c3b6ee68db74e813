-- Cluster counterpart of ../0016_customer_events_by_person.sql: the whole-row projection by
-- person on every node's customer_events_local, in place of 0015's key-only one.
ALTER TABLE customer_events_local ON CLUSTER '{cluster}' DROP PROJECTION IF EXISTS by_person;

ALTER TABLE customer_events_local ON CLUSTER '{cluster}' ADD PROJECTION IF NOT EXISTS
    events_by_person (SELECT * ORDER BY (person_id, occurred_at))
    WITH SETTINGS (index_granularity = 256);

ALTER TABLE customer_events_local ON CLUSTER '{cluster}'
    MATERIALIZE PROJECTION events_by_person SETTINGS mutations_sync = 2;
