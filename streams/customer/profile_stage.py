"""The profile and attribution stage: ``customer.events`` (keyed by person id) folded into each
person's 360° profile, and every conversion attributed by the six rule-based models.

State: one table entry per person (``profile.py``), positioned (it carries the offset of the
last event it absorbed); the profile is kept as one JSON string (one object per person for
the garbage collector to walk, and the working copy a step folds onto is its own). A batch
groups its events by person, folds each person's events onto a working copy of the stored
profile, and writes each changed profile once: the table, a
``customer_profiles`` row (ReplacingMergeTree by version) and the compacted
``customer.profiles`` topic. A redelivered event changes nothing (the profile remembers the
ids it absorbed).

Attribution: when a conversion is absorbed, its journey is the person's touchpoints (across
all their identifiers, since identity resolution keyed them all by this person) within the
lookback window before it; each rule model's credits go to ``attribution_credits`` per
conversion, model and touchpoint, with the revenue credit, and to ``attribution.credits`` as
one record per conversion and step carrying those lines (``credit_records``).
Re-attribution: a touchpoint that arrives after conversions it precedes (within the window),
and a merge that joins two journeys, attribute those conversions again; the new rows carry a
later ``_version`` (the time of computing) and supersede the old ones key by key (a journey
only grows, so every old key gets a new row).

Splits: when an edge or an identifier is removed and a person falls apart, identity
resolution sends a notice (kind ``split``, each part's identifiers in ``state``) keyed by the
person that held the profile. This stage rebuilds every part's profile from it
(``profile.rebuild``), attributes every conversion of every part again over the part's own
journey (new rows, later ``_version``), writes a zero-credit row for each old (conversion,
model, touchpoint) key that the new journeys no longer hold (so the old credits are
superseded, not left standing), keeps its own part and sends each other part (kind
``detached``, the profile in ``state``) keyed by its person, whose partition installs it
(``profile.adopt``). It also rewrites the person's past ``customer_events`` rows whose part
changed (``split_events``: read through ``history``, written as newer versions), so the
timeline and the scheduled Markov and Shapley runs follow the split too. The holder's part
(or, its identifiers all forgotten, its emptied profile) remembers the split (``splits``, the
last ``SPLITS_KEPT``, by offset on ``identity.observations``).

Late records (``handover``): a hand-over or a forwarded event decided before a split or a
merge of the person it reaches, but arriving after it (it travels from another partition,
so Kafka does not order it with the identity stage's notices), is treated as if it had
arrived first. A merge's hand-over (``absorbed``) or a split's part (``detached``) that this
person split after is divided by those splits (``_divided``), each share to its part, with
the sender's credits that no new journey holds superseded by zero rows; a part for a person
merged away after the split goes on to the survivor as a hand-over; an event forwarded from
a person merged away goes to the part of this person that holds its strongest identifier
after the splits later than its forwarding (nowhere when they were all forgotten), and an
event this person already absorbed is dropped, never counted twice.

Merges: identity resolution sends a notice (kind ``merged``) keyed by the absorbed person; this
stage, on that person's partition, retires the profile (``merged_into`` set, published; the
merge's offset kept as ``merged_at``) and sends its content (kind ``absorbed``, the profile
as JSON in ``state``) keyed by the survivor to its own input topic, where the survivor's
partition folds it in (``profile.merge``, once) and attributes again the conversions whose
journeys the join changed (``rejoined``: the absorbed person's, and those with one of its
touchpoints in their window; the others' credits stand as they are).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from streams.customer import contract as names
from streams.customer import handover, split_events
from streams.customer import profile as fold
from streams.customer.attribution import DAY_MS, Conversion, Touchpoint
from streams.customer.attribution_rules import (
    DEFAULT_HALF_LIFE_MS,
    RULE_MODELS,
    Model,
    attribute,
)
from streams.customer.credit_records import credit_records
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import BatchResult, Columns, OutputRecord, Raw, empty_columns
from streams.kernel.stage import Changes, Events, Input, Lookup, Outcome, Stage, Table, Value

NAME: Final = "customer_profiles"
PROFILES: Final = "customer_profile_states"  # the worker's table
#: the splits a profile remembers (a merge's hand-over may arrive after them)
SPLITS_KEPT: Final = 8
KINDS: Final = frozenset({"touchpoint", "conversion", "profile", "merged", "absorbed", "split",
                          "detached"})
PROFILE_COLUMNS: Final = (
    "person_id", "version", "updated_at", "first_seen", "last_seen", "identifiers",
    "attributes", "tags", "lifecycle_stage", "channels", "touchpoints", "conversions",
    "revenue_currencies", "revenue_amounts", "score_names", "score_values", "merged_into",
    "_topic", "_partition", "_offset", "_version")
CREDIT_COLUMNS: Final = (
    "person_id", "conversion_id", "conversion_at", "model", "model_version", "touchpoint_id",
    "channel", "campaign_id", "occurred_at", "credit", "revenue_credit", "currency", "_topic",
    "_partition", "_offset", "_version")


@dataclass(frozen=True, slots=True)
class ProfileStagePolicy:
    profile: fold.ProfilePolicy = fold.DEFAULT_PROFILE_POLICY
    half_life_ms: float = DEFAULT_HALF_LIFE_MS
    models: tuple[Model, ...] = field(default=RULE_MODELS)
    direct_channel: str = "direct"
    #: reads the ``customer_events`` rows a split re-resolves (None: they are not rewritten)
    history: split_events.History | None = None

    @property
    def model_version(self) -> str:
        """The models' parameters, in the credits' rows: a change of settings is a new version."""
        return (f"lb{self.profile.lookback_ms / DAY_MS:g}d-"
                f"hl{self.half_life_ms / DAY_MS:g}d")


def validate(raw: Raw, value: Mapping[str, Any]) -> None:
    if value["kind"] not in KINDS:
        raise InvalidMessage("invalid_field", f"unknown kind {value['kind']!r}")
    if not value["person_id"] or raw.key_str != value["person_id"]:
        raise InvalidMessage("invalid_field", f"key {raw.key_str!r} is not the person id "
                             f"{value['person_id']!r}")
    if value["kind"] in ("absorbed", "split", "detached") and not value["state"]:
        raise InvalidMessage("invalid_field", f"a {value['kind']} event carries its state")


def stage(policy: ProfileStagePolicy) -> Stage:
    return Stage(
        name=NAME,
        inputs=(Input(names.CUSTOMER_EVENTS, validate),),
        step=functools.partial(step, policy),
        tables=(Table(PROFILES, positioned=True),),
        sunk=(names.CUSTOMER_PROFILES_TABLE,),
    )


def credits_of(policy: ProfileStagePolicy, profile: Mapping[str, Any],
               conversion: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``attribution.credits`` values of one conversion (its journey: the profile's
    touchpoints within the lookback window before it)."""
    pid = profile["person_id"]
    conv = Conversion(conversion["event_id"], pid, conversion["occurred_at"],
                      float(conversion["value"] or 0.0), conversion["currency"] or "")
    touches = [Touchpoint(t["touchpoint_id"], pid, t["occurred_at"], t["channel"],
                          t["campaign_id"], t["type"]) for t in profile["journey"]]
    credits = attribute(conv, touches, policy.models, policy.profile.lookback_ms,
                        policy.half_life_ms, policy.direct_channel)
    version = policy.model_version
    return [{"person_id": pid, "conversion_id": c.conversion_id,
             "conversion_at": conv.occurred_at, "model": c.model, "model_version": version,
             "touchpoint_id": c.touchpoint_id, "channel": c.channel,
             "campaign_id": c.campaign_id, "occurred_at": c.occurred_at, "credit": c.credit,
             "revenue_credit": c.revenue_credit, "currency": c.currency} for c in credits]


def _credit(policy: ProfileStagePolicy, profile: Mapping[str, Any],
            conversion: Mapping[str, Any], raw: Raw, now_ms: int, credits: Columns) -> None:
    """Attribute ``conversion``; the rows' ``_version`` is the time of computing, so a later
    attribution of the same conversion, model and touchpoint supersedes an earlier one."""
    _rows(credits_of(policy, profile, conversion), raw, now_ms, credits)


def _rows(values: list[dict[str, Any]], raw: Raw, now_ms: int, credits: Columns) -> None:
    """``attribution_credits`` rows; the step's records are made from them at its end
    (``credit_records``)."""
    for credit in values:
        for name in CREDIT_COLUMNS[:12]:
            credits[name].append(credit[name])
        credits["_topic"].append(raw.topic)
        credits["_partition"].append(raw.partition)
        credits["_offset"].append(raw.offset)
        credits["_version"].append(now_ms)


def _absorbed_event(event: Mapping[str, Any], profile: Mapping[str, Any], into: str
                    ) -> dict[str, Any]:
    return {**event, "event_id": f"absorb:{profile['person_id']}:{into}", "kind": "absorbed",
            "person_id": into, "merged_into": into, "state": orjson.dumps(profile).decode()}


def _split(policy: ProfileStagePolicy, profile: fold.Profile, event: Mapping[str, Any],
           raw: Raw, now_ms: int, credits: Columns, outputs: list[OutputRecord],
           events: Columns) -> fold.Profile:
    """The holder's part of a split person; the other parts go out as ``detached`` events,
    every part's conversions are attributed again and the credits no journey holds any more
    are superseded by zero-credit rows; the person's past ``customer_events`` rows are
    re-resolved (``split_events``); the holder's part remembers the split."""
    pid = profile["person_id"]
    state = orjson.loads(event["state"])
    parts = fold.rebuild(profile, state["parts"], pid, policy.profile)
    if policy.history is not None:
        nodes = [n for members in state["parts"].values() for n in members]
        rows = policy.history([*nodes, *state.get("removed", ())])
        _extend(events, split_events.reresolved(rows, state["parts"], event["source_offset"]))
    old = {(c["conversion_id"], c["model"], c["touchpoint_id"]): c
           for conversion in profile["converted"]
           for c in credits_of(policy, profile, conversion)}
    new: set[tuple[str, str, str]] = set()
    for part in parts.values():
        for conversion in part["converted"]:
            values = credits_of(policy, part, conversion)
            new.update((c["conversion_id"], c["model"], c["touchpoint_id"]) for c in values)
            _rows(values, raw, now_ms, credits)
    stale = [{**c, "credit": 0.0, "revenue_credit": 0.0} for k, c in old.items() if k not in new]
    _rows(stale, raw, now_ms, credits)
    for other, part in sorted(parts.items()):
        if other != pid:
            outputs.append(OutputRecord(names.CUSTOMER_EVENTS, other, {
                **event, "event_id": f"detach:{event['event_id']}:{other}", "kind": "detached",
                "person_id": other, "state": orjson.dumps(part).decode()}))
    kept = parts.get(pid)
    if kept is None:  # its identifiers were all forgotten
        kept = fold.new_profile(pid)
        kept.update(version=profile["version"] + 1, seen=list(profile["seen"]))
    # remembered even when emptied: a part handed over before the split is divided by it
    kept["splits"] = [*profile.get("splits", ()), {
        "topic": event["source_topic"], "offset": event["source_offset"],
        "parts": state["parts"]}][-SPLITS_KEPT:]
    return kept


def _detached(policy: ProfileStagePolicy, profile: fold.Profile, event: Mapping[str, Any],
              raw: Raw, now_ms: int, credits: Columns, outputs: list[OutputRecord]
              ) -> fold.Profile:
    """A part of a split person (``detached``). Decided before this person was merged away,
    it goes on to the survivor as a hand-over; decided before this person split again, it is
    divided by those splits; else it is installed (``adopt``: over a person merged away
    before the split, its id comes back) and, when a hand-over was divided to make it,
    its conversions are attributed again."""
    part = orjson.loads(event["state"])
    at = (event["source_topic"], event["source_offset"])
    if handover.merged_later(profile, at):
        marker = f"absorb:{event['event_id']}"
        outputs.append(handover.forward({
            **event, "event_id": marker, "kind": "absorbed", "merged_into": None,
            "state": orjson.dumps({**part, "person_id": marker}).decode()},
            profile["merged_into"], profile["merged_at"]))
        return profile
    later = handover.later_splits(profile, at)
    if later:
        return _divided(policy, profile, part, later, event, raw, now_ms, credits, outputs)
    profile = fold.adopt(profile, part, event["event_id"], policy.profile)
    if event["attributes"].get(handover.REATTRIBUTE):
        for conversion in profile["converted"]:
            _credit(policy, profile, conversion, raw, now_ms, credits)
    return profile


def rejoined(converted: list[dict[str, Any]], other: Mapping[str, Any], lookback_ms: int
             ) -> list[dict[str, Any]]:
    """The conversions of a joined profile whose journeys a merge of ``other`` changed: its
    own, and those with one of its touchpoints in their lookback window (the journey kept
    whole: the caller attributes every conversion again when trimming could drop a touch)."""
    theirs = {c["event_id"] for c in other.get("converted", ())}
    times = sorted(t["occurred_at"] for t in other["journey"])
    out = []
    for conversion in converted:
        at = conversion["occurred_at"]
        i = bisect.bisect_left(times, at - lookback_ms)
        if conversion["event_id"] in theirs or (i < len(times) and times[i] <= at):
            out.append(conversion)
    return out


def _extend(into: Columns, more: Columns) -> None:
    for name, values in more.items():
        into[name].extend(values)


def _keys(values: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(c["conversion_id"], c["model"], c["touchpoint_id"]) for c in values}


def _handed_over(policy: ProfileStagePolicy, profile: fold.Profile, event: Mapping[str, Any],
                 raw: Raw, now_ms: int, credits: Columns, outputs: list[OutputRecord]) -> bool:
    """Fold in the profile a merge hands over (``absorbed``). A split of this person that
    came after the merge but before the hand-over divides it first (``handover.divide``)."""
    other = orjson.loads(event["state"])
    later = handover.later_splits(profile, (event["source_topic"], event["source_offset"]))
    if not later:
        room = len(profile["journey"]) + len(other["journey"]) <= policy.profile.journey_limit
        merged = fold.merge(profile, other, policy.profile)
        if merged:  # the conversions whose journeys the join changed are attributed again
            for conversion in (rejoined(profile["converted"], other, policy.profile.lookback_ms)
                               if room else profile["converted"]):
                _credit(policy, profile, conversion, raw, now_ms, credits)
        return merged
    _divided(policy, profile, other, later, event, raw, now_ms, credits, outputs)
    return True


def _divided(policy: ProfileStagePolicy, profile: fold.Profile, share: fold.Profile,
             later: list[dict[str, Any]], event: Mapping[str, Any], raw: Raw, now_ms: int,
             credits: Columns, outputs: list[OutputRecord]) -> fold.Profile:
    """A hand-over (``share``) that this person split after: divided by those splits, the
    other parts' shares sent on (attributed over their share here and again by the
    receiver), this person's share folded in (once: ``adopt`` by the record's id) and its
    conversions attributed again; the credits the sender wrote for the share that no new
    journey holds are superseded by zero rows."""
    pid = profile["person_id"]
    old = {(c["conversion_id"], c["model"], c["touchpoint_id"]): c
           for conversion in share["converted"] for c in credits_of(policy, share, conversion)}
    new: set[tuple[str, str, str]] = set()
    kept, sent = handover.divide(share, later, pid, event, policy.profile)
    for _, part, record in sent:
        for conversion in part["converted"]:
            values = credits_of(policy, part, conversion)
            new.update(_keys(values))
            _rows(values, raw, now_ms, credits)
        outputs.append(record)
    if kept is not None:
        if event["kind"] == "detached":  # a marker unique to the record: folded once
            kept["person_id"] = event["event_id"]
        fold.merge(profile, kept, policy.profile)
        for conversion in profile["converted"]:
            values = credits_of(policy, profile, conversion)
            new.update(_keys(values))
            _rows(values, raw, now_ms, credits)
    stale = [{**c, "credit": 0.0, "revenue_credit": 0.0} for k, c in old.items() if k not in new]
    _rows(stale, raw, now_ms, credits)
    return profile


def step(policy: ProfileStagePolicy, events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    """Fold a batch of customer events into the profiles they concern."""
    working: dict[str, fold.Profile] = {}
    last: dict[str, Raw] = {}
    credits: Columns = empty_columns(CREDIT_COLUMNS)
    resolved: Columns = empty_columns(split_events.COLUMNS)  # events re-resolved by splits
    outputs: list[OutputRecord] = []
    changed: set[str] = set()
    for raw, event in zip(events.raws, events.values, strict=True):
        pid = event["person_id"]
        profile = working.get(pid)
        if profile is None:
            stored = lookup(PROFILES, pid)
            profile = working[pid] = (fold.new_profile(pid) if stored is None
                                      else orjson.loads(stored["profile"]))
        last[pid] = raw
        kind = event["kind"]
        into = profile["merged_into"]
        if kind == "detached":  # a part of a split person: its id may come back from a merge
            working[pid] = _detached(policy, profile, event, raw, now_ms, credits, outputs)
            changed.add(pid)
            continue
        if into is not None and kind != "merged":
            # a late record of a person merged away: it belongs to the survivor
            if event["event_id"] not in profile["seen"]:
                outputs.append(handover.forward(event, into, profile.get("merged_at")))
            continue
        if kind == "merged":
            into = event["merged_into"]
            if profile["merged_into"] is None and into and into != pid:
                if profile["version"]:
                    outputs.append(OutputRecord(names.CUSTOMER_EVENTS, into,
                                                _absorbed_event(event, profile, into)))
                working[pid] = fold.retire(profile, into)
                working[pid]["merged_at"] = handover.merged_at(event)
                changed.add(pid)
            continue
        if kind == "split":
            working[pid] = _split(policy, profile, event, raw, now_ms, credits, outputs,
                                  resolved)
            changed.add(pid)
            continue
        if kind == "absorbed":
            if _handed_over(policy, profile, event, raw, now_ms, credits, outputs):
                changed.add(pid)
            continue
        at = handover.position(event)
        if at is not None:  # forwarded from a person merged away: this person's later splits
            target = handover.route(event, handover.later_splits(profile, at), pid)
            if target is not None:
                if target[0] and event["event_id"] not in profile["seen"]:
                    outputs.append(handover.forward(event, *target))
                continue
        if not fold.absorb(profile, event, policy.profile):
            continue
        changed.add(pid)
        if kind == "conversion":
            _credit(policy, profile, event, raw, now_ms, credits)
        elif kind == "touchpoint":  # late: conversions after it get it in their journeys
            for conversion in fold.reattributable(profile, event["occurred_at"],
                                                  policy.profile.lookback_ms):
                _credit(policy, profile, conversion, raw, now_ms, credits)
    rows: Columns = empty_columns(PROFILE_COLUMNS)
    table: dict[str, tuple[int, Value | None]] = {}
    for pid in sorted(changed, key=lambda p: last[p].offset):
        raw = last[pid]
        profile = working[pid]
        value = fold.record(profile)
        outputs.append(OutputRecord(names.CUSTOMER_PROFILES, pid, value))
        for name in PROFILE_COLUMNS[:12]:
            rows[name].append(value[name])
        revenue = sorted(value["revenue"].items())
        scores = sorted(value["scores"].items())
        rows["revenue_currencies"].append([k for k, _ in revenue])
        rows["revenue_amounts"].append([float(v) for _, v in revenue])
        rows["score_names"].append([k for k, _ in scores])
        rows["score_values"].append([float(v) for _, v in scores])
        rows["merged_into"].append(value["merged_into"])
        rows["_topic"].append(raw.topic)
        rows["_partition"].append(raw.partition)
        rows["_offset"].append(raw.offset)
        rows["_version"].append(profile["version"])
        table[pid] = (raw.partition, {"profile": orjson.dumps(profile).decode(),
                                      "merged_into": profile["merged_into"],
                                      "offset": raw.offset,
                                      "last_event_at": profile["updated_at"]})
    changes: Changes = {PROFILES: table}
    inserts = {names.CUSTOMER_PROFILES_TABLE: rows, names.ATTRIBUTION_CREDITS_TABLE: credits}
    if resolved["event_id"]:
        inserts[names.CUSTOMER_EVENTS_TABLE] = resolved
    result = BatchResult(inserts=inserts, outputs=[*outputs, *credit_records(credits)])
    return Outcome(result, changes)



def profile_of(lookup: Lookup, person_id: str, max_hops: int = 16) -> dict[str, Any] | None:
    """The ``customer.profiles`` value of a person from the stage's table, following merges
    to the surviving person (for the API: any identifier's person, resolved by the identity
    stage, may since have been merged)."""
    for _ in range(max_hops):
        stored = lookup(PROFILES, person_id)
        if stored is None:
            return None
        if stored["merged_into"] is None:
            return fold.record(orjson.loads(stored["profile"]))
        person_id = str(stored["merged_into"])
    return None
