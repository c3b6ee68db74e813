-- Cluster counterpart of ../0014_identity_links_explained.sql: the same columns on every
-- node's identity_links_local and on the Distributed identity_links over them (a Distributed
-- table does not follow its local tables' columns by itself).
ALTER TABLE identity_links_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS probability Nullable(Float64) AFTER at;

ALTER TABLE identity_links_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS weight_fields Array(String) AFTER probability;

ALTER TABLE identity_links_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS weight_values Array(Float64) AFTER weight_fields;

ALTER TABLE identity_links_local ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS members Array(String) AFTER weight_values;

ALTER TABLE identity_links ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS probability Nullable(Float64) AFTER at;

ALTER TABLE identity_links ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS weight_fields Array(String) AFTER probability;

ALTER TABLE identity_links ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS weight_values Array(Float64) AFTER weight_fields;

ALTER TABLE identity_links ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS members Array(String) AFTER weight_values;
