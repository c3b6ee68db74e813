"""The unified (360°) profile of a person as a fold over the person's customer events.

A profile is a JSON object (a table value of the profile stage): identifiers, CRM attributes
and tags, every interaction folded into counters, revenue per currency, the channel
progression, the lifecycle stage, a place for scores, a bounded list of recent interactions
(the full history is ``customer_events`` in ClickHouse) and the touchpoints attribution needs
(``journey``: those within the lookback window of the latest event, at most
``journey_limit``), with the conversions of that window (``converted``), which are attributed
again when a merge or a late touchpoint changes their journeys.

Invariants:
- ``absorb`` and ``merge`` never change their arguments' containers in place except the
  working profile they are given (``thaw`` makes one from a stored value);
- an event already absorbed (its id among the last ``seen_limit`` ids) changes nothing, so a
  redelivered event is not counted twice; an absorbed person is merged once;
- ``recent`` and ``journey`` are in time order (occurred_at, then event id) whatever the
  arrival order; ``channels`` collapses repeats of the touchpoint channels in arrival order;
- the lifecycle stage only moves forward along anonymous < known < lead < mql < sql <
  customer, except that the CRM may set at_risk or churned, which a later purchase lifts;
- ``version`` grows by one per change; a merged person keeps ``merged_into``.
- every interaction kept (``recent``, ``journey``, ``converted``) carries the usable
  identifiers of its event (``ids``, strongest first); the counters, revenue and conversion
  stages are also kept per set of identifiers (``ledger``) and the CRM attributes per CRM
  record (``crm``), so that a split (``rebuild``) gives each part what its own identifiers
  brought: an event belongs to the part holding its strongest remaining identifier, and an
  event none of whose identifiers remains (all forgotten) to no part. What is older than the
  kept lists (``recent``, the lookback window) is exact in the counters, not in the lists.
- a chat session's ``recent`` entry keeps its event's ``attributes`` (the conversation's
  figures) wherever it goes (merge, split, adoption); a touchpoint's or conversion's entry
  keeps only the item ids among them (``ITEM_ATTRIBUTES``: the products and content it was
  about, which personalisation recommends from), and no other entry carries attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from streams.customer.attribution import DAY_MS
from streams.customer.identity import KIND_RANK

Profile = dict[str, Any]

STAGES: Final = ("anonymous", "known", "lead", "mql", "sql", "customer")
OFF_TRACK: Final = frozenset({"at_risk", "churned"})
#: CRM lifecycle values (HubSpot's and plain ones) -> stage
CRM_STAGES: Final[Mapping[str, str]] = {
    "subscriber": "known", "known": "known", "lead": "lead", "marketingqualifiedlead": "mql",
    "mql": "mql", "salesqualifiedlead": "sql", "sql": "sql", "opportunity": "sql",
    "customer": "customer", "evangelist": "customer", "at_risk": "at_risk",
    "churned": "churned",
}
#: conversion type -> the stage it shows at least
CONVERSION_STAGES: Final[Mapping[str, str]] = {
    "signup": "known", "lead": "lead", "demo_request": "mql", "trial": "mql",
    "purchase": "customer", "order": "customer", "subscription": "customer",
}
KNOWN_KINDS: Final = frozenset({"customer_id", "email", "phone"})
INTERACTION_FIELDS: Final = ("event_id", "kind", "occurred_at", "type", "channel", "campaign_id",
                             "value", "currency")
#: the channel of the chat-session touchpoints (``inputs_stage`` makes them from ended
#: conversations); only their interactions keep the event's ``attributes``: the conversation's
#: figures the lead and churn features read, a handful of short strings. Other events'
#: attributes (ad and conversion properties, CRM fields) nothing reads from an interaction.
CHAT_CHANNEL: Final = "chat"
#: the event properties naming what an interaction was about (``touchpoints`` and
#: ``conversions`` ``properties``, ``customer_events`` ``attributes``): kept on its ``recent``
#: entry so that recommendations in the stream are by product, not by campaign
ITEM_ATTRIBUTES: Final = ("product_id", "product_ids", "content_id")
ITEM_KINDS: Final = frozenset({"touchpoint", "conversion"})


@dataclass(frozen=True, slots=True)
class ProfilePolicy:
    recent_limit: int = 50
    journey_limit: int = 200
    channels_limit: int = 50
    seen_limit: int = 500
    lookback_ms: int = 30 * DAY_MS


DEFAULT_PROFILE_POLICY: Final = ProfilePolicy()


def new_profile(person_id: str) -> Profile:
    return {"person_id": person_id, "version": 0, "updated_at": 0, "first_seen": 0,
            "last_seen": 0, "identifiers": [], "attributes": {}, "attributes_at": 0,
            "tags": [], "crm_stage": None, "lifecycle_stage": "anonymous", "channels": [],
            "touchpoints": 0, "conversions": 0, "revenue": {}, "scores": {}, "recent": [],
            "journey": [], "converted": [], "seen": [], "absorbed": [], "merged_into": None,
            "ledger": {}, "crm": {}}


def thaw(stored: Mapping[str, Any] | None, person_id: str) -> Profile:
    """A working copy of a stored profile (or a new one): its containers are its own."""
    if stored is None:
        return new_profile(person_id)
    return {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
            for k, v in stored.items()}


def _rank(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else -1


def advance(current: str, candidate: str | None, *, crm: bool = False) -> str:
    """The stage after ``candidate`` is seen (see the module's invariants)."""
    if candidate is None:
        return current
    if candidate in OFF_TRACK:
        return candidate if crm else current
    if current in OFF_TRACK:
        return candidate if candidate == "customer" or crm else current
    return candidate if _rank(candidate) > _rank(current) else current


def _by_time(items: Iterable[Mapping[str, Any]], key: str) -> list[Any]:
    return sorted(items, key=lambda i: (i["occurred_at"], i[key]))


def _ordered(items: list[Any], key: str) -> list[Any]:
    """``items`` in time order; sorted only when the last one arrived out of order."""
    if len(items) > 1 and (items[-1]["occurred_at"], items[-1][key]) < (
            items[-2]["occurred_at"], items[-2][key]):
        return _by_time(items, key)
    return items


def _trim(profile: Profile, policy: ProfilePolicy) -> None:
    profile["recent"] = _ordered(profile["recent"], "event_id")[-policy.recent_limit:]
    horizon = profile["last_seen"] - policy.lookback_ms
    journey = _ordered(profile["journey"], "touchpoint_id")
    if journey and journey[0]["occurred_at"] < horizon:
        journey = [t for t in journey if t["occurred_at"] >= horizon]
    profile["journey"] = journey[-policy.journey_limit:]
    profile["channels"] = profile["channels"][-policy.channels_limit:]
    profile["converted"] = [c for c in profile.get("converted", ()) if c["occurred_at"] >= horizon]
    profile["seen"] = profile["seen"][-policy.seen_limit:]


def event_ids(event: Mapping[str, Any]) -> list[str]:
    """The usable identifiers of an event as node keys, strongest first."""
    keys = {(KIND_RANK.get(i["kind"], len(KIND_RANK)), f"{i['kind']}:{i['value']}")
            for i in event["identifiers"] if i["status"] == "ok"}
    return [k for _, k in sorted(keys)]


def _ledger_entry(profile: Profile, ids: list[str], at: int) -> dict[str, Any]:
    entry: dict[str, Any] = profile.setdefault("ledger", {}).setdefault(
        "|".join(ids), {"t": 0, "c": 0, "r": {}, "first": at, "last": at, "stage": None})
    entry["first"] = min(entry["first"], at)
    entry["last"] = max(entry["last"], at)
    return entry


def absorb(profile: Profile, event: Mapping[str, Any], policy: ProfilePolicy) -> bool:
    """Fold one touchpoint, conversion or CRM update into the working ``profile``; False when
    it was absorbed before (nothing changes)."""
    event_id = event["event_id"]
    if event_id in profile["seen"]:
        return False
    profile["seen"].append(event_id)
    at = event["occurred_at"]
    ids = event_ids(event)
    entry = _ledger_entry(profile, ids, at)
    profile["first_seen"] = at if not profile["first_seen"] else min(profile["first_seen"], at)
    profile["last_seen"] = max(profile["last_seen"], at)
    profile["updated_at"] = profile["last_seen"]
    usable = {f"{i['kind']}:{i['value']}" for i in event["identifiers"] if i["status"] == "ok"}
    profile["identifiers"] = sorted(set(profile["identifiers"]) | usable)
    kind = event["kind"]
    if kind == "touchpoint":
        profile["touchpoints"] += 1
        entry["t"] += 1
        channel = event["channel"] or "unknown"
        if not profile["channels"] or profile["channels"][-1] != channel:
            profile["channels"].append(channel)
        profile["journey"].append({"touchpoint_id": event_id, "occurred_at": at,
                                   "channel": channel, "campaign_id": event["campaign_id"],
                                   "type": event["type"] or "", "ids": ids})
    elif kind == "conversion":
        profile["conversions"] += 1
        entry["c"] += 1
        currency = event["currency"] or ""
        profile["revenue"][currency] = profile["revenue"].get(currency, 0.0) + (event["value"] or 0.0)
        entry["r"][currency] = entry["r"].get(currency, 0.0) + (event["value"] or 0.0)
        stage = CONVERSION_STAGES.get((event["type"] or "").lower())
        profile["lifecycle_stage"] = advance(profile["lifecycle_stage"], stage)
        entry["stage"] = advance(entry["stage"] or "anonymous", stage)
        profile.setdefault("converted", []).append(
            {"event_id": event_id, "occurred_at": at, "value": event["value"],
             "currency": event["currency"], "ids": ids})
    elif kind == "profile":
        _crm_entry(profile, ids, event)
        if at >= profile["attributes_at"]:
            profile["attributes"].update(event["attributes"])
            profile["tags"] = sorted(set(event["tags"]))
            profile["attributes_at"] = at
            if event["deleted"]:
                profile["attributes"]["crm_deleted"] = "true"
            stage = CRM_STAGES.get((event["lifecycle_stage"] or "").lower().replace(" ", ""))
            if stage is not None:
                profile["crm_stage"] = stage
                profile["lifecycle_stage"] = advance(profile["lifecycle_stage"], stage, crm=True)
        else:  # an older update only fills what is missing
            for k, v in event["attributes"].items():
                profile["attributes"].setdefault(k, v)
    if any(k.split(":", 1)[0] in KNOWN_KINDS for k in profile["identifiers"]):
        profile["lifecycle_stage"] = advance(profile["lifecycle_stage"], "known")
    profile["recent"].append(interaction(event, ids))
    profile["version"] += 1
    _trim(profile, policy)
    return True


def interaction(event: Mapping[str, Any], ids: list[str]) -> dict[str, Any]:
    """The ``recent`` entry of an event: its ``INTERACTION_FIELDS``, its identifiers and, for a
    chat session, its attributes (a copy); for another touchpoint or a conversion, its item
    ids (``ITEM_ATTRIBUTES``) when it has some."""
    kept = {**{name: event[name] for name in INTERACTION_FIELDS}, "ids": ids}
    attributes = event["attributes"]
    if not attributes:
        return kept
    if event["kind"] == "touchpoint" and event["channel"] == CHAT_CHANNEL:
        kept["attributes"] = dict(attributes)
    elif event["kind"] in ITEM_KINDS:
        items = {k: attributes[k] for k in ITEM_ATTRIBUTES if attributes.get(k)}
        if items:
            kept["attributes"] = items
    return kept


def _crm_entry(profile: Profile, ids: list[str], event: Mapping[str, Any]) -> None:
    """The latest state of one CRM record (its identifiers' key) for ``rebuild``."""
    crm = profile.setdefault("crm", {})
    key = "|".join(ids)
    at = event["occurred_at"]
    old = crm.get(key)
    if old is not None and old["at"] > at:  # an older update only fills what is missing
        old["attributes"] = {**event["attributes"], **old["attributes"]}
        return
    stage = CRM_STAGES.get((event["lifecycle_stage"] or "").lower().replace(" ", ""))
    crm[key] = {"at": at, "attributes": {**(old or {}).get("attributes", {}),
                                         **event["attributes"]},
                "tags": sorted(set(event["tags"])), "stage": stage, "deleted": event["deleted"]}


def merge(profile: Profile, other: Mapping[str, Any], policy: ProfilePolicy) -> bool:
    """Fold the profile of a person merged into this one; False when it was merged before."""
    pid = other["person_id"]
    if pid in profile["absorbed"] or pid == profile["person_id"]:
        return False
    profile["absorbed"].append(pid)
    firsts = [t for t in (profile["first_seen"], other["first_seen"]) if t]
    profile["first_seen"] = min(firsts) if firsts else 0
    profile["last_seen"] = max(profile["last_seen"], other["last_seen"])
    profile["updated_at"] = profile["last_seen"]
    profile["identifiers"] = sorted(set(profile["identifiers"]) | set(other["identifiers"]))
    newer, older = ((other, profile) if other["attributes_at"] > profile["attributes_at"]
                    else (profile, other))
    profile["attributes"] = {**older["attributes"], **newer["attributes"]}
    profile["tags"] = list(newer["tags"])
    profile["attributes_at"] = newer["attributes_at"]
    profile["crm_stage"] = newer["crm_stage"] or older["crm_stage"]
    stage = profile["lifecycle_stage"]
    for candidate in (other["lifecycle_stage"], profile["crm_stage"]):
        stage = advance(stage, candidate, crm=candidate in OFF_TRACK)
    profile["lifecycle_stage"] = stage
    profile["touchpoints"] += other["touchpoints"]
    profile["conversions"] += other["conversions"]
    for currency, value in other["revenue"].items():
        profile["revenue"][currency] = profile["revenue"].get(currency, 0.0) + value
    for name, score in other["scores"].items():
        profile["scores"].setdefault(name, score)
    seen = {e["event_id"] for e in profile["recent"]}
    profile["recent"].extend(e for e in other["recent"] if e["event_id"] not in seen)
    touched = {t["touchpoint_id"] for t in profile["journey"]}
    profile["journey"].extend(t for t in other["journey"] if t["touchpoint_id"] not in touched)
    converted = {c["event_id"] for c in profile.setdefault("converted", [])}
    profile["converted"].extend(c for c in other.get("converted", ())
                                if c["event_id"] not in converted)
    profile["channels"] = [*other["channels"], *profile["channels"]]
    profile["seen"] = [*other["seen"], *profile["seen"]]
    profile["absorbed"].extend(p for p in other["absorbed"] if p not in profile["absorbed"])
    profile.setdefault("ledger", {})
    for key, theirs in other.get("ledger", {}).items():
        _add_entry(profile, key, theirs)
    crm = profile.setdefault("crm", {})
    for key, theirs in other.get("crm", {}).items():
        if key not in crm or crm[key]["at"] < theirs["at"]:
            crm[key] = theirs
    profile["version"] += 1
    profile["recent"] = _by_time(profile["recent"], "event_id")
    profile["journey"] = _by_time(profile["journey"], "touchpoint_id")
    _trim(profile, policy)
    return True


def reattributable(profile: Mapping[str, Any], touch_at: int, lookback_ms: int
                   ) -> list[dict[str, Any]]:
    """The conversions a touchpoint at ``touch_at`` that arrived after them belongs to: those
    within the lookback window after it (their journeys change)."""
    return [c for c in profile.get("converted", ())
            if touch_at <= c["occurred_at"] <= touch_at + lookback_ms]


def retire(profile: Profile, into: str) -> Profile:
    """What stays of a person merged into ``into``: the id, the pointer, the version, the
    events seen (a late duplicate is still recognised); the rest went to the survivor."""
    kept = new_profile(profile["person_id"])
    kept.update(version=profile["version"] + 1, merged_into=into, seen=list(profile["seen"]),
                first_seen=profile["first_seen"], last_seen=profile["last_seen"],
                updated_at=profile["updated_at"], lifecycle_stage=profile["lifecycle_stage"])
    return kept


def record(profile: Mapping[str, Any]) -> dict[str, Any]:
    """The ``customer.profiles`` value (``customer_profile.v2.avsc``); an interaction without
    attributes (neither a chat session nor one naming items, or kept before v2) has an empty
    map."""
    return {"person_id": profile["person_id"], "version": profile["version"],
            "updated_at": profile["updated_at"], "first_seen": profile["first_seen"],
            "last_seen": profile["last_seen"], "identifiers": list(profile["identifiers"]),
            "attributes": dict(profile["attributes"]), "tags": list(profile["tags"]),
            "lifecycle_stage": profile["lifecycle_stage"],
            "channels": list(profile["channels"]), "touchpoints": profile["touchpoints"],
            "conversions": profile["conversions"], "revenue": dict(profile["revenue"]),
            "scores": dict(profile["scores"]),
            "recent": [{**{k: v for k, v in i.items() if k != "ids"},
                        "attributes": dict(i.get("attributes") or {})}
                       for i in profile["recent"]],
            "merged_into": profile["merged_into"]}


def _residual(profile: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the counters hold beyond the ledger (a profile kept before the ledger existed)."""
    ledger = profile.get("ledger", {}).values()
    t = profile["touchpoints"] - sum(e["t"] for e in ledger)
    c = profile["conversions"] - sum(e["c"] for e in ledger)
    r = {cur: v - sum(e["r"].get(cur, 0.0) for e in ledger)
         for cur, v in profile["revenue"].items()}
    r = {cur: v for cur, v in r.items() if abs(v) > 1e-9}
    if not (t or c or r):
        return None
    return {"t": t, "c": c, "r": r, "first": profile["first_seen"],
            "last": profile["last_seen"], "stage": None}


def _kept(key: str, part_of: Mapping[str, str]) -> str:
    """A ledger or CRM key without the identifiers that belong to no part any more."""
    return "|".join(i for i in key.split("|") if i in part_of) if key else key


def _add_entry(profile: Profile, key: str, entry: Mapping[str, Any]) -> None:
    ours = profile["ledger"].get(key)
    if ours is None:
        profile["ledger"][key] = {**entry, "r": dict(entry["r"])}
        return
    ours["t"] += entry["t"]
    ours["c"] += entry["c"]
    for currency, value in entry["r"].items():
        ours["r"][currency] = ours["r"].get(currency, 0.0) + value
    ours["first"], ours["last"] = min(ours["first"], entry["first"]), max(ours["last"],
                                                                          entry["last"])
    ours["stage"] = advance(ours["stage"] or "anonymous", entry["stage"])


def rebuild(profile: Mapping[str, Any], parts: Mapping[str, Iterable[str]], holder: str,
            policy: ProfilePolicy = DEFAULT_PROFILE_POLICY) -> dict[str, Profile]:
    """The profiles of the parts a person was split into (``parts``: person id -> its
    identifiers), from the profile that ``holder`` (one of them, or a person left with no
    part) held. Each interaction, ledger entry and CRM record goes to the part holding its
    strongest remaining identifier; what carries no identifiers (kept before they were
    recorded) stays with the holder; what only forgotten identifiers carried goes nowhere."""
    part_of = {node: pid for pid, nodes in parts.items() for node in nodes}

    def owner(ids: Iterable[str]) -> str | None:
        listed = list(ids)
        if not listed:
            return holder if holder in parts else None
        return next((part_of[i] for i in listed if i in part_of), None)

    out: dict[str, Profile] = {}
    for pid, nodes in parts.items():
        p = out[pid] = new_profile(pid)
        p.update(identifiers=sorted(nodes), version=profile["version"] + 1,
                 seen=list(profile["seen"]))
        if pid == holder:
            p.update(absorbed=list(profile["absorbed"]), scores=dict(profile["scores"]))
    ledger = dict(profile.get("ledger", {}))
    residual = _residual(profile)
    if residual is not None:
        ledger[""] = residual
    for key, entry in ledger.items():
        target = out.get(owner(key.split("|") if key else []) or "")
        if target is None:
            continue
        _add_entry(target, _kept(key, part_of), entry)
        target["touchpoints"] += entry["t"]
        target["conversions"] += entry["c"]
        for currency, value in entry["r"].items():
            target["revenue"][currency] = target["revenue"].get(currency, 0.0) + value
        target["first_seen"] = min(t for t in (target["first_seen"], entry["first"]) if t) \
            if entry["first"] else target["first_seen"]
        target["last_seen"] = max(target["last_seen"], entry["last"])
        target["lifecycle_stage"] = advance(target["lifecycle_stage"], entry["stage"])
    for name in ("recent", "journey", "converted"):
        for item in profile.get(name, ()):
            target = out.get(owner(item.get("ids", ())) or "")
            if target is not None:  # a forgotten identifier leaves no trace
                target[name].append({**item, "ids": [i for i in item.get("ids", ())
                                                     if i in part_of]})
    crm = profile.get("crm")
    for pid, p in out.items():
        p["updated_at"] = p["last_seen"]
        if crm is None and pid == holder:  # kept before CRM records were: the holder's
            p.update(attributes=dict(profile["attributes"]), tags=list(profile["tags"]),
                     attributes_at=profile["attributes_at"], crm_stage=profile["crm_stage"])
        moved = len(p["journey"]) != len(profile["journey"])
        if pid != holder or moved:  # the progression of what it kept, in time order
            for t in p["journey"]:
                if not p["channels"] or p["channels"][-1] != t["channel"]:
                    p["channels"].append(t["channel"])
        else:
            p["channels"] = list(profile["channels"])
    for key, record in sorted((crm or {}).items(), key=lambda kv: kv[1]["at"]):
        target = out.get(owner(key.split("|") if key else []) or "")
        if target is None:
            continue
        target["crm"][_kept(key, part_of)] = record
        target["attributes"].update(record["attributes"])
        if record["deleted"]:
            target["attributes"]["crm_deleted"] = "true"
        target.update(tags=list(record["tags"]), attributes_at=record["at"],
                      crm_stage=record["stage"] or target["crm_stage"])
    for p in out.values():
        p["lifecycle_stage"] = advance(p["lifecycle_stage"], p["crm_stage"], crm=True)
        if any(k.split(":", 1)[0] in KNOWN_KINDS for k in p["identifiers"]):
            p["lifecycle_stage"] = advance(p["lifecycle_stage"], "known")
        _trim(p, policy)
    return out


def adopt(profile: Profile, part: Mapping[str, Any], marker: str,
          policy: ProfilePolicy = DEFAULT_PROFILE_POLICY) -> Profile:
    """The profile of a person that a split gave ``part``: the part itself when the person
    holds nothing yet or was merged away before (its id comes back), else the part folded
    into what arrived first (``marker``, unique per split, makes that fold happen once)."""
    if profile["version"] == 0 or profile["merged_into"] is not None:
        adopted = thaw(part, part["person_id"])
        adopted["version"] = max(profile["version"], part["version"]) + 1
        adopted["seen"] = [*profile["seen"], *(s for s in part["seen"]
                                               if s not in profile["seen"])]
        _trim(adopted, policy)
        return adopted
    merge(profile, {**part, "person_id": marker}, policy)
    return profile
