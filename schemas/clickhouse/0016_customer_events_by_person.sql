-- customer_events by person, whole rows: replaces the key-only projection of 0015.
--
-- Reading a person's events by their keys (the key-only projection, then the table with
-- FINAL on (kind, event_id)) read nearly the whole table: a person's event ids are spread
-- over the table's key, so a page of 20 keys touched a granule in every part. This projection
-- holds every column ordered by (person_id, occurred_at), so a page of a person's timeline is
-- read from one small granule per part (256 rows: a heavy person's thousands of events are
-- not all read for the newest page). It doubles the table's size on disk. FINAL cannot read
-- a projection: the profile queries collapse the versions of one event themselves (the
-- latest _version wins), and 'rebuild' (0015) drops replaced versions from it on merges.
ALTER TABLE customer_events DROP PROJECTION IF EXISTS by_person;

ALTER TABLE customer_events ADD PROJECTION IF NOT EXISTS events_by_person
    (SELECT * ORDER BY (person_id, occurred_at)) WITH SETTINGS (index_granularity = 256);

ALTER TABLE customer_events MATERIALIZE PROJECTION events_by_person SETTINGS mutations_sync = 1;
