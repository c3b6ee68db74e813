"""The scoring stage: what the runtime runs for ``customer.profiles``.

Each profile version is scored when what the scores read of it changed: its lead features, its
churn signals, its purchase summary or its email opt-out (``scoring_key``). A batch's changed
profiles are scored together (``scoring.predict``: one LightGBM pass per model); each gives
four rows of ``customer_scores`` and four records of ``customer.scores``. The person's state
in ``score_states`` (positioned, keyed by person id, the key of the input) holds the last
version absorbed, the scoring key, the purchases folded so far (``rfm``: the profile's recent
list is bounded, the fold keeps every purchase it has seen) and the churn label. A batch read
into columns folds the purchases of people who bought nothing before at once
(``rfm_columns.fold_new``), of the others by the exact fold.

Invariants:
- the step never changes what it looks up; it returns each changed state with its partition
  and the offset of the last event it absorbed;
- a profile at or below the version the state absorbed (a redelivery, a replay) changes
  nothing and scores nothing; a profile merged into another person is skipped (its events
  continue under the surviving id);
- the models come from ``policy.models()`` as the batch starts: every row of a batch names the
  model that scored it; a missing lead model scores with the rules (``rules-v1``);
- only profiles whose scoring key changed leave rows, so after a restart the position guard
  may start before where the state stands; the versions replayed are skipped.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from streams.kernel.errors import InvalidMessage
from streams.kernel.records import BatchResult, Raw
from streams.kernel.stage import (
    Changes,
    Events,
    Input,
    Lookup,
    Outcome,
    ReadBatch,
    Stage,
    Table,
    Value,
)
from streams.predictive import contract as names
from streams.predictive.churn import ChurnSignals
from streams.predictive.features import FEATURES, read_profile
from streams.predictive.features_columns import (
    ProfileColumns,
    feature_values,
    purchase_index,
    read_columns,
)
from streams.predictive.rfm import (
    RfmState,
    RfmSummary,
    absorb_interactions,
    absorb_new_fields,
    empty_state,
    purchase_fields,
    summarise,
)
from streams.predictive.rfm_columns import NewFolds, fold_new
from streams.predictive.rules import LEAD_RULES_VERSION
from streams.predictive.scoring import (
    CHURN_RULES_VERSION,
    Models,
    Scored,
    predict_columns,
    rows_and_records,
)

NAME: Final = "predictive"
STATES: Final = names.SCORE_STATES


@dataclass(frozen=True, slots=True)
class ScoringPolicy:
    models: Callable[[], Models]  # the models to score the next batch with
    #: reads a whole batch into ``ProfileColumns`` (``streams.io.avro_profiles``), raising
    #: for a message it cannot read; None: every batch is decoded message by message
    read_batch: ReadBatch | None = None


def validate(raw: Raw, value: Mapping[str, Any]) -> None:
    if not value["person_id"] or raw.key_str != value["person_id"]:
        raise InvalidMessage("invalid_field", f"key {raw.key_str!r} is not the person id "
                             f"{value['person_id']!r}")
    if value["updated_at"] <= 0:
        raise InvalidMessage("invalid_field", f"updated_at {value['updated_at']} is not a time")
    if value["version"] < 0:
        raise InvalidMessage("invalid_field", f"version {value['version']} is negative")


def stage(policy: ScoringPolicy) -> Stage:
    return Stage(name=NAME, inputs=(Input(names.CUSTOMER_PROFILES, validate,
                                          read_batch=policy.read_batch),),
                 step=functools.partial(step, policy),
                 tables=(Table(STATES, positioned=True),),
                 sunk=(names.CUSTOMER_SCORES_TABLE,))


#: a purchase's fields as ``rfm.purchase_fields`` gives them, named for ``absorb_interactions``
_PURCHASE_KEYS: Final = ("event_id", "occurred_at", "value", "currency")
#: the churn signals in a fixed order, for the scoring key (absent: NaN)
SIGNAL_KEYS: Final = tuple(ChurnSignals.__annotations__)
_NAN_SIGNALS: Final = (math.nan,) * len(SIGNAL_KEYS)
#: the scoring key's packers by count of numbers (with and without a purchase summary)
_PACKERS: dict[int, struct.Struct] = {}
#: the key's text for a profile without attributes or tags, by the summary's currency
_PLAIN: dict[str | None, bytes] = {}


def scoring_key(profile: Mapping[str, Any], features: Mapping[str, float],
                signals: ChurnSignals, summary: RfmSummary | None) -> str:
    """What the scores read of a profile, as a short digest: equal inputs, equal key (the
    numbers packed as doubles, the few strings as text; both deterministic across processes)."""
    return key_of(feature_values(features), signals, summary, profile.get("attributes"),
                  profile.get("tags"))


def key_of(numbers: list[float], signals: ChurnSignals, summary: RfmSummary | None,
           attributes: Mapping[str, str] | None, tags: Sequence[str] | None) -> str:
    """``scoring_key`` from the features' values in their order (``numbers``, extended here:
    the caller's list is its own) and the profile's attributes and tags: the same digest."""
    numbers += map(signals.get, SIGNAL_KEYS, _NAN_SIGNALS)  # type: ignore[arg-type]
    currency = None
    if summary is not None:
        numbers += (summary.frequency, summary.recency, summary.T, summary.monetary_value)
        currency = summary.currency
    if tags or (attributes and ("opt_out" in attributes or "unsubscribed" in attributes)):
        attributes = attributes or {}
        rest = (f"{currency}|{attributes.get('opt_out', '')}|"
                f"{attributes.get('unsubscribed', '')}|"
                f"{[t for t in tags if t.startswith('opt_out:')] if tags else []}").encode()
    else:  # most profiles: no opt-out, no tags (the text per currency, made once)
        rest = _PLAIN.get(currency) or _PLAIN.setdefault(currency, f"{currency}|||[]".encode())
    packer = _PACKERS.get(len(numbers))
    if packer is None:
        packer = _PACKERS[len(numbers)] = struct.Struct(f"{len(numbers)}d")
    return hashlib.blake2b(packer.pack(*numbers) + rest, digest_size=12).hexdigest()


def served(models: Models) -> str:
    """The models a score comes from, as the state records them (``models``): a person scored
    by others than those served now is rescored (``rescoring``)."""
    lead = models.lead.version if models.lead is not None else LEAD_RULES_VERSION
    churn = models.churn.version if models.churn is not None else CHURN_RULES_VERSION
    personal = "" if models.personalisation is None else f"/{models.personalisation.version}"
    return f"{lead}/{churn}/{models.clv.version}{personal}"


def step(policy: ScoringPolicy, events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    """The batch's changed profiles scored. ``events.batch``, when the input read the batch
    as columns (``read_batch``), is a ``ProfileColumns``: the same outcome as its values."""
    models = policy.models()
    columns: ProfileColumns | None = events.batch
    folds: NewFolds | None = None
    if columns is not None:
        # new customers' purchases folded for the batch at once (None: a value not finite,
        # which the fold per profile raises on)
        folds = fold_new(columns, purchase_index(columns), "weeks")
        reads = read_columns(columns, fields=folds is None)
        profiles: Sequence[Mapping[str, Any]] = [
            {"person_id": p, "version": v, "attributes": a, "tags": t, "merged_into": m}
            for p, v, a, t, m in zip(columns.person_id, columns.version, columns.attributes,
                                     columns.tags, columns.merged, strict=True)]
        updated = columns.updated_at.tolist()
    else:
        profiles = events.values
    states: dict[str, Value] = {}
    batch: dict[str, Scored] = {}  # the latest changed version per person
    for n, (raw, profile) in enumerate(zip(events.raws, profiles, strict=True)):
        if profile.get("merged_into"):
            continue
        person = str(profile["person_id"])
        current = states.get(person) or lookup(STATES, person)
        if current is not None and int(profile["version"]) <= current["version"]:
            continue  # already absorbed
        rfm: RfmState = current["rfm"] if current is not None else empty_state()
        features: Mapping[str, float]
        bought: list[Mapping[str, Any]] = []
        if columns is None:
            as_of = int(profile["updated_at"])
            features, signals = read_profile(profile, as_of, bought)
            fields = purchase_fields(bought) if bought else []
        else:  # the purchases as their fields; as dicts only for a state that holds some
            as_of = updated[n]
            features, signals, fields = reads[n]
        fresh = None
        if folds is not None:  # the batch's fold if nothing bought before, else the exact one
            if not rfm["ids"] and not rfm["occasions"]:
                fresh = folds.new(n)
            else:
                fields = folds.fields(n)
        if fresh is None and fields and not rfm["ids"] and not rfm["occasions"]:
            fresh = absorb_new_fields(fields, as_of, "weeks")  # nothing bought before: one pass
        elif fresh is None and fields:
            rfm = absorb_interactions(rfm, bought or [dict(zip(_PURCHASE_KEYS, f, strict=True))
                                                      for f in fields])
        if fresh is None:
            summary = summarise(rfm, as_of, "weeks")
        else:
            rfm, summary = fresh
        key = scoring_key(profile, features, signals, summary)
        was_at_risk = bool(current and current["at_risk"])
        if current is None or key != current["key"]:
            whole = profile if columns is None or models.personalisation is None \
                else columns.whole(n)  # personalisation reads the whole profile
            batch[person] = Scored(whole, features, signals, summary, was_at_risk, raw.topic,
                                   raw.partition, raw.offset)
        states[person] = {"partition": raw.partition, "offset": raw.offset,
                          "last_event_at": as_of,
                          "version": int(profile["version"]), "key": key, "rfm": rfm,
                          "at_risk": was_at_risk,
                          "models": current.get("models") if current is not None else None}
    scored = list(batch.values())
    predictions = predict_columns(models, scored) if scored else ()
    version = served(models)
    if scored:  # KINDS order: lead, churn, clv, next_best_action
        for person, label in zip(batch, predictions[1].labels, strict=True):
            state = states[person]
            state["at_risk"], state["models"] = label == "at_risk", version
    rows, records = rows_and_records(scored, predictions, now_ms)
    result = BatchResult(inserts={names.CUSTOMER_SCORES_TABLE: rows}, outputs=records)
    changes: Changes = {STATES: {k: (v["partition"], v) for k, v in states.items()}}
    return Outcome(result, changes)


__all__ = ["FEATURES", "NAME", "STATES", "ScoringPolicy", "served", "stage", "step", "validate"]
