-- identity_links, explainable and reversible: a probabilistic match keeps its posterior
-- probability and its per-field weights (log2 m/u, plus "total"); a removal (kind unlink: the
-- edge a-b; forget: the identifier a) is followed by one row of kind split per resulting part,
-- with the part's identifiers in members (other_person: the person it was part of). Old rows
-- read probability NULL, weights {} and members [].
ALTER TABLE identity_links ADD COLUMN IF NOT EXISTS probability Nullable(Float64) AFTER at;

ALTER TABLE identity_links ADD COLUMN IF NOT EXISTS weights Map(String, Float64) AFTER probability;

ALTER TABLE identity_links ADD COLUMN IF NOT EXISTS members Array(String) AFTER weights;
