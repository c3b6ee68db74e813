-- identity_links, explainable and reversible: a probabilistic match keeps its posterior
-- probability and its per-field weights (log2 m/u, plus "total": weight_values[i] is the
-- weight of weight_fields[i]; mapFromArrays(weight_fields, weight_values) gives the map); a
-- removal (kind unlink: the edge a-b; forget: the identifier a) is followed by one row of kind
-- split per resulting part, with the part's identifiers in members (other_person: the person
-- it was part of). Older rows read probability NULL and empty arrays.
ALTER TABLE identity_links ADD COLUMN IF NOT EXISTS probability Nullable(Float64) AFTER at;

ALTER TABLE identity_links ADD COLUMN IF NOT EXISTS weight_fields Array(String) AFTER probability;

ALTER TABLE identity_links ADD COLUMN IF NOT EXISTS weight_values Array(Float64) AFTER weight_fields;

ALTER TABLE identity_links ADD COLUMN IF NOT EXISTS members Array(String) AFTER weight_values;
