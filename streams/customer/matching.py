"""Probabilistic matching of profile records that share no identifier (Fellegi-Sunter).

``link(records)`` finds candidate pairs by blocking (the union of several exact blocking keys and
a sorted neighbourhood on the last name, with recordlinkage's indexers), compares them field by
field (name, street, locality, postcode, region, date of birth, phone fragments) into levels,
fits the model without labels (``matching_model``) and returns every pair whose posterior match
probability reaches ``MatchingPolicy.threshold``, with its per-field weights (log2 m/u).
``apply_matches`` turns each match into an identity-graph edge between the two records'
``record_id`` nodes, with rule ``probabilistic`` and the weights, so ``why`` can explain it and
``remove`` can undo it; the graph's guard rails still apply (a match never joins two persons
that carry different customer ids).

Invariants: records are keyed by a unique ``record_id``; a field that is missing on either side
adds no evidence; blocking keys shared by more than ``max_block_size`` records are dropped (they
would make the pair count quadratic and carry little evidence); results are deterministic for
the same records and policy (random pairs come from a seeded generator).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import recordlinkage  # type: ignore[import-untyped]
from recordlinkage.preprocessing import phonetic  # type: ignore[import-untyped]

from streams.customer import identity
from streams.customer.identity_state import IdentityState
from streams.customer.matching_model import MISSING, FellegiSunterModel, Levels, fit

# (field, method, agree cut-off, partial cut-off) on recordlinkage similarities in [0, 1].
COMPARISONS: Final[tuple[tuple[str, str, float, float], ...]] = (
    ("first_name", "jarowinkler", 0.95, 0.85),
    ("last_name", "jarowinkler", 0.95, 0.85),
    ("street", "jarowinkler", 0.95, 0.80),
    ("locality", "jarowinkler", 0.95, 0.85),
    ("postcode", "levenshtein", 0.99, 0.70),
    ("region", "exact", 0.99, 2.0),
    ("date_of_birth", "levenshtein", 0.99, 0.80),
    ("phone", "phone", 0.99, 0.50),
)
FIELDS: Final = tuple(c[0] for c in COMPARISONS)
PHONE_FRAGMENT: Final = 7  # trailing digits compared when full numbers differ (formatting, prefix)


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """The fields of a profile that matching compares; any may be missing."""

    record_id: str
    first_name: str | None = None
    last_name: str | None = None
    street: str | None = None
    locality: str | None = None
    postcode: str | None = None
    region: str | None = None
    date_of_birth: str | None = None
    """Digits only, YYYYMMDD (other separators are removed)."""
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class MatchingPolicy:
    threshold: float = 0.9
    """Minimum posterior match probability (chosen a priori, not tuned on labelled data)."""
    blocking: tuple[tuple[str, ...], ...] = (
        ("postcode",),
        ("date_of_birth",),
        ("first_name", "last_name"),
        ("first_name_sx", "last_name_sx"),
        ("phone_tail",),
    )
    neighbourhood_window: int = 5
    max_block_size: int = 500
    random_pairs: int = 100_000
    seed: int = 0
    max_iterations: int = 200


DEFAULT_MATCHING: Final = MatchingPolicy()


@dataclass(frozen=True, slots=True)
class Match:
    left: str
    right: str
    weight: float
    """Sum of the field weights (log2 likelihood ratio), without the prior."""
    probability: float
    field_weights: tuple[tuple[str, float], ...]


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.lower().split())
    return text or None


def _digits(value: str | None) -> str | None:
    if value is None:
        return None
    digits = re.sub(r"\D", "", value)
    return digits or None


def profile_from_attributes(record_id: str, attrs: Mapping[str, str],
                            phone: str | None = None) -> ProfileRecord:
    """A ``ProfileRecord`` from CRM attributes (a ``customer_events`` profile row's: the CRM
    fields first_name, last_name, country and the CRM's own attributes)."""

    def attr(*names: str) -> str | None:
        return next((attrs[n] for n in names if attrs.get(n)), None)

    return ProfileRecord(
        record_id=record_id,
        first_name=attr("first_name", "given_name"),
        last_name=attr("last_name", "surname", "family_name"),
        street=attr("street", "address", "address_line_1"),
        locality=attr("city", "locality", "suburb", "town"),
        postcode=attr("postcode", "postal_code", "zip"),
        region=attr("state", "region", "province", "country"),
        date_of_birth=attr("date_of_birth", "dob", "birth_date"),
        phone=phone,
    )


def profile_from_crm(profile: Mapping[str, Any]) -> ProfileRecord:
    """A ``ProfileRecord`` from a ``crm_profile.v1`` dict; address and birth date from attributes."""
    attrs = {k: profile[k] for k in ("first_name", "last_name", "country") if profile.get(k)}
    attrs.update({k: v for k, v in (profile.get("attributes") or {}).items() if v})
    return profile_from_attributes(f"crm:{profile['customer_id']}", attrs, profile.get("phone"))


def records_frame(records: Sequence[ProfileRecord]) -> pd.DataFrame:
    """Cleaned comparison columns and derived blocking keys, indexed by record_id."""
    rows = {f.name: [getattr(r, f.name) for r in records] for f in fields(ProfileRecord)}
    frame = pd.DataFrame(rows).set_index("record_id")
    if not frame.index.is_unique:
        raise ValueError("record ids must be unique")
    for column in ("first_name", "last_name", "street", "locality", "postcode", "region"):
        frame[column] = [_clean(v) for v in frame[column]]
    frame["date_of_birth"] = [_digits(v) for v in frame["date_of_birth"]]
    frame["phone"] = [_digits(v) for v in frame["phone"]]
    frame["phone_tail"] = [None if v is None else v[-PHONE_FRAGMENT:] for v in frame["phone"]]
    for column in ("first_name", "last_name"):
        present = frame[column].notna()
        codes = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        if present.any():
            codes[present] = phonetic(frame.loc[present, column], "soundex")
        frame[f"{column}_sx"] = codes
    return frame.astype(object).where(frame.notna(), None)


def candidate_pairs(frame: pd.DataFrame, policy: MatchingPolicy = DEFAULT_MATCHING) -> pd.MultiIndex:
    """The union of the blocking passes' pairs (each unordered pair once)."""
    keyed = pd.DataFrame(index=frame.index)
    indexer = recordlinkage.Index()
    for i, columns in enumerate(policy.blocking):
        parts = frame[list(columns)]
        key = parts.iloc[:, 0].astype(str)
        for c in range(1, parts.shape[1]):
            key = key + "\x1f" + parts.iloc[:, c].astype(str)
        key = key.where(parts.notna().all(axis=1))
        sizes = key.map(key.value_counts())
        keyed[f"b{i}"] = key.where(sizes <= policy.max_block_size)
        indexer.block(f"b{i}")
    if policy.neighbourhood_window > 1:
        keyed["sn_last"] = frame["last_name"]
        keyed["sn_first"] = frame["first_name"]
        indexer.sortedneighbourhood("sn_last", window=policy.neighbourhood_window, block_on="sn_first")
    if len(frame) < 2:
        return pd.MultiIndex.from_arrays([[], []])
    return indexer.index(keyed)


def compare(frame: pd.DataFrame, pairs: pd.MultiIndex) -> Levels:
    """Comparison levels (0, 1, 2, or -1 missing), one row per pair, one column per field."""
    if len(pairs) == 0:
        return np.empty((0, len(COMPARISONS)), dtype=np.int8)
    comparer = recordlinkage.Compare()
    for name, method, _, _ in COMPARISONS:
        if method == "exact":
            comparer.exact(name, name, label=name, missing_value=np.nan)
        elif method == "phone":
            comparer.exact(name, name, label=name, missing_value=np.nan)
            comparer.exact("phone_tail", "phone_tail", label="phone_tail", missing_value=np.nan)
        else:
            comparer.string(name, name, method=method, label=name, missing_value=np.nan)
    similarities = comparer.compute(pairs, frame)
    levels = np.empty((len(pairs), len(COMPARISONS)), dtype=np.int8)
    for j, (name, method, agree, partial) in enumerate(COMPARISONS):
        sim = similarities[name].to_numpy(dtype=np.float64)
        if method == "phone":  # the full number agrees (2) or only its trailing fragment (1)
            sim = np.where(sim >= 1.0, 1.0, similarities["phone_tail"].to_numpy(dtype=np.float64) * 0.5)
        col = np.zeros(len(sim), dtype=np.int8)
        col[sim >= partial] = 1
        col[sim >= agree] = 2
        col[np.isnan(sim)] = MISSING
        levels[:, j] = col
    return levels


def random_pairs(frame: pd.DataFrame, policy: MatchingPolicy = DEFAULT_MATCHING) -> pd.MultiIndex:
    """Seeded random pairs of distinct records, for estimating u."""
    n = len(frame)
    if n < 2:
        return pd.MultiIndex.from_arrays([[], []])
    rng = np.random.default_rng(policy.seed)
    size = min(policy.random_pairs, n * (n - 1) // 2)
    left = rng.integers(0, n, size)
    right = rng.integers(0, n, size)
    keep = left != right
    return pd.MultiIndex.from_arrays([frame.index[left[keep]], frame.index[right[keep]]])


def fit_model(frame: pd.DataFrame, candidate_levels: Levels,
              policy: MatchingPolicy = DEFAULT_MATCHING) -> FellegiSunterModel:
    """Fits m by EM on the candidates and u on random pairs: no labels are used."""
    random_levels = compare(frame, random_pairs(frame, policy))
    return fit(FIELDS, candidate_levels, random_levels, len(frame), policy.max_iterations)


def score(model: FellegiSunterModel, pairs: pd.MultiIndex, levels: Levels,
          threshold: float) -> list[Match]:
    """The pairs whose posterior reaches ``threshold``, each with its per-field weights."""
    per_field = model.field_weights(levels)
    total = per_field.sum(axis=1)
    probability = model.probability(total)
    matches = []
    for i in np.flatnonzero(probability >= threshold):
        left, right = sorted((str(pairs[i][0]), str(pairs[i][1])))
        weights = tuple((name, round(float(per_field[i, j]), 4)) for j, name in enumerate(FIELDS)
                        if levels[i, j] != MISSING)
        matches.append(Match(left, right, float(total[i]), float(probability[i]), weights))
    return sorted(matches, key=lambda m: (m.left, m.right))


def link(records: Sequence[ProfileRecord], policy: MatchingPolicy = DEFAULT_MATCHING,
         model: FellegiSunterModel | None = None) -> tuple[FellegiSunterModel, list[Match]]:
    """Blocks, compares, fits (unless a fitted ``model`` is given) and scores ``records``."""
    frame = records_frame(records)
    pairs = candidate_pairs(frame, policy)
    levels = compare(frame, pairs)
    if model is None:
        model = fit_model(frame, levels, policy)
    return model, score(model, pairs, levels, policy.threshold)


def apply_matches(
    state: IdentityState, matches: Sequence[Match], at: int,
    policy: identity.IdentityPolicy = identity.DEFAULT_POLICY,
) -> tuple[IdentityState, list[identity.ApplyEffects]]:
    """Each match becomes a ``probabilistic`` edge between the two records' ``record_id`` nodes."""
    effects = []
    for match in matches:
        state, effect = identity.apply(
            state, [("record_id", match.left), ("record_id", match.right)],
            source=f"match:{match.left}|{match.right}", at=at, rule=identity.PROBABILISTIC,
            weights={**dict(match.field_weights), "total": round(match.weight, 4)}, policy=policy)
        effects.append(effect)
    return state, effects
