"""The 360° profile as it is served: any identifier resolved to its person, the person's
profile, timeline, journey, insights and value, read from the tables the customer domain
writes (``customer_profiles``, ``customer_events``, ``customer_scores``, ``crm_tasks``).

Every function takes ``query(sql, params) -> rows`` (rows as mappings): parameterised SQL only,
values are bound by the engine and never put into the text. Lookups use the indexes of
migrations 0015 and 0016 (a projection of ``customer_events`` by person, bloom filters on the
profiles' identifiers and ``merged_into``).

Invariants:
- an identifier is read as the pipeline reads it (``identifiers.normalise``, emails and phones
  hashed when the pipeline hashes them); a bare value is tried as every identifier kind and as
  a person id, ``<kind>:<value>`` as that kind first;
- the person served is never one merged away: ``merged_into`` is followed to the survivor
  (at most ``max_hops``), and the survivor's timeline holds the events resolved, before the
  merge, to every person merged into it;
- the timeline is in time order (time, then kind, then id); a page holds the newest events
  before ``before`` and ``next_before`` is the bound of the next page, such that paging from
  the newest to the oldest returns every event exactly once, even when many share a millisecond;
- the latest row of a profile or a score is read with ``ORDER BY ..., _version DESC LIMIT 1 BY``
  (the row FINAL keeps: the highest ``_version``) instead of FINAL, which merges whole granules
  of every part; answers that may be empty are aggregates (one row always: an empty answer
  costs a second round trip for its column names);
- after the person is resolved, its scores and CRM tasks are read beside its events in a small
  shared thread pool (independent reads; the engine releases the GIL while it reads);
- events are read from the projection of ``customer_events`` by person (FINAL cannot read a
  projection): the versions of one event among the persons served collapse to the latest
  (``_version``), so a redelivered or re-resolved event shows once. A row a later resolution
  gave to a person outside that set shows until the engine merges the parts (the projection
  is rebuilt from the merged rows);
- nothing here masks: the caller decides who may see personal data.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, get_args

from streams.customer.identifiers import (
    DEFAULT_NORMALISATION,
    IdentifierKind,
    NormalisationPolicy,
    hash_value,
    normalise,
)

Row = Mapping[str, Any]
Query = Callable[[str, Mapping[str, Any]], Sequence[Row]]

KINDS: Final[tuple[IdentifierKind, ...]] = get_args(IdentifierKind)
HASHED_KINDS: Final = frozenset({"email", "phone"})
SCORE_KINDS: Final = ("lead", "churn", "clv", "next_best_action")
NOT_SCORED: Final = "not scored yet"
MAX_PAGE: Final = 500
#: the furthest future a page may start from (no bound given: everything)
NO_BOUND_MS: Final = 253_402_300_799_000  # 9999-12-31T23:59:59Z

_PROFILE_COLUMNS: Final = (
    "person_id, version, toUnixTimestamp64Milli(updated_at) AS updated_ms, "
    "toUnixTimestamp64Milli(first_seen) AS first_seen_ms, "
    "toUnixTimestamp64Milli(last_seen) AS last_seen_ms, identifiers, attributes, tags, "
    "lifecycle_stage, channels, touchpoints, conversions, revenue_currencies, revenue_amounts, "
    "merged_into")
#: the latest row of each person (``LIMIT 1 BY`` after ``_version DESC``: the row FINAL keeps,
#: without FINAL's merge of whole granules of every part)
_LATEST: Final = " ORDER BY person_id, _version DESC LIMIT 1 BY person_id"
#: the latest row of each person holding one of the keys (any version held it: the bloom
#: filter of 0015) or named so
RESOLVE_SQL: Final = (
    f"SELECT {_PROFILE_COLUMNS} FROM customer_profiles WHERE person_id IN ("
    "SELECT person_id FROM customer_profiles WHERE hasAny(identifiers, {keys:Array(String)}) "
    "UNION ALL SELECT arrayJoin({persons:Array(String)}))" + _LATEST)
PERSONS_SQL: Final = (f"SELECT {_PROFILE_COLUMNS} FROM customer_profiles "
                      "WHERE person_id IN {persons:Array(String)}" + _LATEST)
#: the persons whose latest row is merged into one of ``persons``, as one row (an aggregate
#: always answers one row: an empty answer costs the engine a second round trip for its names)
MERGED_SQL: Final = ("SELECT groupArray(person_id) AS merged FROM customer_profiles FINAL "
                     "WHERE merged_into IN {persons:Array(String)}")
_EVENT_COLUMNS: Final = (
    "toUnixTimestamp64Milli(occurred_at) AS at_ms, kind, event_id, type, channel, platform, "
    "campaign_id, value, currency, order_id, person_id AS resolved_as, identifiers, flags, "
    "attributes, _version")
#: a person's events in a time range [since, before), newest first, read from the projection
#: by person (without FINAL: versions of one event are collapsed here, ``_latest``)
EVENTS_SQL: Final = (
    f"SELECT {_EVENT_COLUMNS} FROM customer_events "
    "WHERE person_id IN {persons:Array(String)} "
    "AND occurred_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') "
    "AND occurred_at < fromUnixTimestamp64Milli({before:Int64}, 'UTC') "
    "ORDER BY occurred_at DESC, kind DESC, event_id DESC, _version DESC LIMIT {limit:UInt32}")
#: a page of the CRM tasks of some customer ids, as one row of arrays (see ``MERGED_SQL``)
TASKS_SQL: Final = (
    "SELECT groupArray((at_ms, task_id, task_type, conversation_id, team, priority, title, "
    "status, reasons, due_ms)) AS tasks FROM ("
    "SELECT toUnixTimestamp64Milli(created_at) AS at_ms, task_id, task_type, conversation_id, "
    "team, priority, title, status, reasons, toUnixTimestamp64Milli(due_at) AS due_ms "
    "FROM crm_tasks FINAL WHERE customer_id IN {customers:Array(String)} "
    "AND created_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') "
    "AND created_at < fromUnixTimestamp64Milli({before:Int64}, 'UTC') "
    "ORDER BY created_at DESC, task_id DESC LIMIT {limit:UInt32})")
TASK_FIELDS: Final = ("at_ms", "task_id", "task_type", "conversation_id", "team", "priority",
                      "title", "status", "reasons", "due_ms")
#: the person's latest row of each kind, as one row of arrays (see ``MERGED_SQL``)
SCORES_SQL: Final = (
    "SELECT groupArray((kind, score, probability, label, reasons, details, model_version, "
    "profile_version, toUnixTimestamp64Milli(scored_at))) AS scores FROM ("
    "SELECT * FROM customer_scores WHERE person_id = {person:String} "
    "ORDER BY kind, _version DESC LIMIT 1 BY kind)")
SCORE_FIELDS: Final = ("kind", "score", "probability", "label", "reasons", "details",
                       "model_version", "profile_version", "scored_ms")


@dataclass(frozen=True, slots=True)
class LookupPolicy:
    """How identifiers are read (as the pipeline reads them) and how much is served."""

    normalisation: NormalisationPolicy = DEFAULT_NORMALISATION
    #: the pipeline's salt when it stores emails and phones hashed, else None
    hash_salt: bytes | None = None
    recent_limit: int = 20
    max_hops: int = 16


DEFAULT_LOOKUP: Final = LookupPolicy()


@dataclass(frozen=True, slots=True)
class Resolved:
    """The person an identifier belongs to now, and every person merged into it."""

    person_id: str
    profile: Row
    merged: tuple[str, ...]

    @property
    def persons(self) -> list[str]:
        return [self.person_id, *self.merged]


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the timeline: ``items`` in time order, ``next_before`` the bound of the page
    before it (None when this one reaches the first event)."""

    items: list[dict[str, Any]]
    next_before: int | None


# --- reads side by side ------------------------------------------------------------------------

_POOL_LOCK: Final = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _beside(query: Query, sql: str, params: Mapping[str, Any]) -> Future[Sequence[Row]]:
    """``query(sql, params)`` in a small shared pool, while the caller reads something else:
    the engine releases the GIL while it reads, so independent reads of one lookup overlap
    (its threads keep their engine sessions from one lookup to the next)."""
    global _pool
    with _POOL_LOCK:
        if _pool is None:
            _pool = ThreadPoolExecutor(4, thread_name_prefix="profile-reads")
        pool = _pool
    return pool.submit(query, sql, params)


# --- identifiers -----------------------------------------------------------------------------


def node_key(kind: IdentifierKind, raw: str, policy: LookupPolicy) -> str | None:
    """The node key the pipeline stores for ``raw`` read as ``kind`` (None when the pipeline
    would not merge on it: malformed or blocked values are never a person's identifier)."""
    found = normalise(kind, raw, policy.normalisation)
    if not found.usable:
        return None
    value = found.value
    if policy.hash_salt and kind in HASHED_KINDS:
        value = hash_value(value, policy.hash_salt)
    return f"{kind}:{value}"


def candidates(identifier: str, policy: LookupPolicy = DEFAULT_LOOKUP) -> tuple[str, ...]:
    """The node keys an identifier as typed may be: ``kind:value`` as that kind first, then
    the whole text as every kind (a customer id may hold a colon)."""
    text = identifier.strip()
    if not text:
        return ()
    keys: dict[str, None] = {}
    prefix, sep, rest = text.partition(":")
    if sep and prefix in KINDS and rest.strip():
        key = node_key(prefix, rest, policy)  # type: ignore[arg-type]  # checked: in KINDS
        if key is not None:
            keys[key] = None
    for kind in KINDS:
        key = node_key(kind, text, policy)
        if key is not None:
            keys[key] = None
    return tuple(keys)


def choose(rows: Iterable[Row], keys: Sequence[str], person: str | None
           ) -> tuple[str | None, list[str]]:
    """From the latest profile rows of the candidates: the person to start from, or the
    persons still to fetch (merge targets not among ``rows``). A person named by its id wins;
    then a live person whose identifiers hold a key now (the most recently updated, after a
    split); then one that held a key and was merged away, followed to its survivor."""
    by_id = {str(r["person_id"]): r for r in rows}
    wanted = set(keys)
    start: list[Row]
    if person is not None and person in by_id:
        start = [by_id[person]]
    elif wanted:
        start = [r for r in by_id.values() if r["merged_into"] is None
                 and wanted.intersection(r["identifiers"])]
        start = start or [r for r in by_id.values() if r["merged_into"] is not None]
    else:  # merge targets being followed
        start = list(by_id.values())
    if not start:
        return None, []
    live = [r for r in start if r["merged_into"] is None]
    if live:
        best = max(live, key=lambda r: (r["updated_ms"], r["version"], r["person_id"]))
        return str(best["person_id"]), []
    targets = sorted({str(r["merged_into"]) for r in start})
    return None, targets


def resolve(query: Query, identifier: str, policy: LookupPolicy = DEFAULT_LOOKUP
            ) -> Resolved | None:
    """The person ``identifier`` (any identifier or a person id) belongs to now, or None."""
    text = identifier.strip()
    if not text:
        return None
    keys = candidates(text, policy)
    rows = list(query(RESOLVE_SQL, {"keys": list(keys), "persons": [text]}))
    fetched: dict[str, Row] = {str(r["person_id"]): r for r in rows}
    person: str | None = text
    for _ in range(policy.max_hops):
        chosen, targets = choose(rows, keys, person)
        if chosen is not None:
            return Resolved(chosen, fetched[chosen], merged_into(query, chosen, policy))
        if not targets:
            return None
        missing = [t for t in targets if t not in fetched]
        if missing:
            for r in query(PERSONS_SQL, {"persons": missing}):
                fetched[str(r["person_id"])] = r
        rows = [fetched[t] for t in targets if t in fetched]
        person = targets[0] if len(targets) == 1 else None
        keys = ()
    return None


def merged_into(query: Query, person_id: str, policy: LookupPolicy = DEFAULT_LOOKUP
                ) -> tuple[str, ...]:
    """Every person merged into ``person_id``, directly or through another merged one."""
    found: dict[str, None] = {}
    frontier = [person_id]
    for _ in range(policy.max_hops):
        rows = query(MERGED_SQL, {"persons": frontier})
        frontier = [p for p in (str(m) for r in rows for m in r["merged"])
                    if p not in found and p != person_id]
        if not frontier:
            break
        found.update(dict.fromkeys(frontier))
    return tuple(sorted(found))


# --- the timeline ------------------------------------------------------------------------------


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds")


def _event(row: Row) -> dict[str, Any]:
    return {"occurred_at": iso(int(row["at_ms"])), "at_ms": int(row["at_ms"]),
            "kind": row["kind"], "type": row["type"], "channel": row["channel"],
            "platform": row["platform"], "campaign_id": row["campaign_id"],
            "value": row["value"], "currency": row["currency"], "order_id": row["order_id"],
            "event_id": row["event_id"], "resolved_as": row["resolved_as"],
            "identifiers": list(row["identifiers"]), "flags": list(row["flags"]),
            "attributes": dict(row["attributes"])}


def _task(row: Row) -> dict[str, Any]:
    return {"occurred_at": iso(int(row["at_ms"])), "at_ms": int(row["at_ms"]),
            "kind": "crm_task", "type": row["task_type"], "channel": None, "platform": None,
            "campaign_id": None, "value": None, "currency": None, "order_id": None,
            "event_id": row["task_id"], "resolved_as": None, "identifiers": [], "flags": [],
            "attributes": {"title": row["title"], "team": row["team"],
                           "priority": row["priority"], "status": row["status"],
                           "conversation_id": row["conversation_id"],
                           "reasons": ", ".join(row["reasons"]),
                           "due_at": iso(row["due_ms"]) or ""}}


def _order(item: Mapping[str, Any]) -> tuple[int, str, str]:
    return (item["at_ms"], item["kind"], item["event_id"])


def customer_ids(identifiers: Iterable[str]) -> list[str]:
    """The customer ids among a person's node keys (what CRM tasks are keyed by)."""
    return sorted(k.split(":", 1)[1] for k in identifiers if k.startswith("customer_id:"))


def _latest(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """One item per event (its latest resolution among ``rows``), newest first."""
    best: dict[tuple[str, str], Row] = {}
    for r in rows:
        key = (str(r["kind"]), str(r["event_id"]))
        if key not in best or r["_version"] > best[key]["_version"]:
            best[key] = r
    return sorted((_event(r) for r in best.values()), key=_order, reverse=True)


def _floor(fetched: Sequence[Mapping[str, Any]], asked: int) -> int | None:
    """Above which millisecond a query cut by its LIMIT returned everything: when it returned
    ``asked`` rows, more may share its oldest millisecond (None: it returned everything)."""
    return int(fetched[-1]["at_ms"]) if fetched and len(fetched) >= asked else None


def newest(query: Query, persons: Sequence[str], customers: Sequence[str], since: int,
           before: int, n: int) -> tuple[list[dict[str, Any]], bool]:
    """The newest interactions in [since, before), newest first, each exactly once: at least
    ``n`` of them when there are, and every one newer than the oldest returned; and whether
    older ones may exist."""
    asked = n + 8  # a few rows may be other versions of one event
    while True:
        params = {"persons": list(persons), "since": since, "before": before, "limit": asked}
        # the CRM tasks are read beside the events (independent reads, side by side)
        found = (_beside(query, TASKS_SQL, {**params, "customers": list(customers)})
                 if customers else None)
        rows = list(query(EVENTS_SQL, params))
        floors = [_floor(rows, asked)]
        items = _latest(rows)
        if found is not None:
            tasks = [_task(dict(zip(TASK_FIELDS, t, strict=True)))
                     for r in found.result() for t in r["tasks"]]
            floors.append(_floor(tasks, asked))
            items = sorted(items + tasks, key=_order, reverse=True)
        # each source is complete above its own floor; together, above the higher one
        floor = max((f for f in floors if f is not None), default=None)
        if floor is None:
            return items, False
        items = [i for i in items if i["at_ms"] > floor]
        if len(items) >= n:
            return items, True
        asked *= 4


def timeline(query: Query, persons: Sequence[str], customers: Sequence[str] = (), *,
             before: int | None = None, limit: int = 50) -> Page:
    """A page of the interactions of ``persons`` (and the CRM tasks of ``customers``) before
    ``before`` (ms, exclusive; None: the newest), in time order."""
    if not persons:
        return Page([], None)
    limit = max(1, min(int(limit), MAX_PAGE))
    bound = NO_BOUND_MS if before is None else int(before)
    items, _ = newest(query, persons, customers, 0, bound, limit + 1)
    if len(items) <= limit:  # fewer than asked: there is nothing older
        return Page(sorted(items, key=_order), None)
    m = int(items[limit]["at_ms"])
    page = [i for i in items if i["at_ms"] > m]
    if page:  # the items of millisecond m, cut off, all come on the next page
        return Page(sorted(page, key=_order), m + 1)
    # more than ``limit`` items in one millisecond: that millisecond is the page
    whole, _ = newest(query, persons, customers, m, m + 1, MAX_PAGE)
    return Page(sorted(whole, key=_order), m if m > 0 else None)


# --- insights, value, the profile ---------------------------------------------------------------


def scores(query: Query, person_id: str) -> list[dict[str, Any]]:
    """The person's rows of ``customer_scores`` (latest per kind), in the order of
    ``SCORE_KINDS``, other kinds after them."""
    return _scores(query(SCORES_SQL, {"person": person_id}))


def _scores(answer: Sequence[Row]) -> list[dict[str, Any]]:
    found = [dict(zip(SCORE_FIELDS, t, strict=True)) for r in answer for t in r["scores"]]
    rows = [{"kind": r["kind"], "score": r["score"], "probability": r["probability"],
             "label": r["label"], "reasons": list(r["reasons"]), "details": dict(r["details"]),
             "model_version": r["model_version"], "profile_version": r["profile_version"],
             "scored_at": iso(int(r["scored_ms"]))} for r in found]
    rank = {k: i for i, k in enumerate(SCORE_KINDS)}
    return sorted(rows, key=lambda r: (rank.get(r["kind"], len(rank)), r["kind"]))


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def value_of(revenue: Mapping[str, float], insights: Sequence[Mapping[str, Any]]
             ) -> dict[str, Any]:
    """Historical revenue per currency; predicted (the clv row's 12-month value) and potential
    from the clv row's details when there is one."""
    clv = next((s for s in insights if s["kind"] == "clv"), None)
    details: Mapping[str, str] = clv["details"] if clv else {}
    predicted = next((v for k in ("predicted_value", "expected_value", "predicted")
                      if (v := _number(details.get(k))) is not None), None)
    if clv is not None and predicted is None:
        predicted = float(clv["score"])
    potential = next((v for k in ("potential_value", "potential")
                      if (v := _number(details.get(k))) is not None), None)
    return {"historical": dict(revenue), "predicted": predicted, "potential": potential,
            "currency": details.get("currency"),
            "model_version": clv["model_version"] if clv else None}


def _identifiers(keys: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in sorted(keys):
        kind, _, value = key.partition(":")
        out.setdefault(kind, []).append(value)
    return out


def shape(resolved: Resolved, recent: Page, insights: list[dict[str, Any]], identifier: str
          ) -> dict[str, Any]:
    """The JSON profile from what was read (pure)."""
    p = resolved.profile
    revenue = dict(zip(p["revenue_currencies"], (float(a) for a in p["revenue_amounts"]),
                       strict=True))
    return {
        "person_id": resolved.person_id, "looked_up": identifier,
        "merged_persons": list(resolved.merged), "version": p["version"],
        "updated_at": iso(p["updated_ms"]),
        "identifiers": _identifiers(p["identifiers"]),
        "attributes": dict(sorted(p["attributes"].items())), "tags": list(p["tags"]),
        "lifecycle_stage": p["lifecycle_stage"],
        "journey": {"lifecycle_stage": p["lifecycle_stage"], "channels": list(p["channels"]),
                    "first_seen": iso(p["first_seen_ms"]), "last_seen": iso(p["last_seen_ms"])},
        "counts": {"touchpoints": p["touchpoints"], "conversions": p["conversions"]},
        "value": value_of(revenue, insights),
        "insights": {"status": "scored" if insights else NOT_SCORED, "scores": insights},
        "recent": recent.items, "recent_next_before": recent.next_before,
    }


def profile(query: Query, identifier: str, policy: LookupPolicy = DEFAULT_LOOKUP
            ) -> dict[str, Any] | None:
    """The JSON profile of the person ``identifier`` belongs to, or None."""
    got = profile_page(query, identifier, None, policy.recent_limit, policy)
    return None if got is None else got[0]


def customer_timeline(query: Query, identifier: str, before: int | None, limit: int,
                      policy: LookupPolicy = DEFAULT_LOOKUP) -> dict[str, Any] | None:
    """A page of the timeline of the person ``identifier`` belongs to, or None."""
    resolved = resolve(query, identifier, policy)
    if resolved is None:
        return None
    page = timeline(query, resolved.persons, customer_ids(resolved.profile["identifiers"]),
                    before=before, limit=limit)
    return {"person_id": resolved.person_id, "merged_persons": list(resolved.merged),
            "items": page.items, "next_before": page.next_before}


def profile_page(query: Query, identifier: str, before: int | None, limit: int,
                 policy: LookupPolicy = DEFAULT_LOOKUP) -> tuple[dict[str, Any], Page] | None:
    """The profile and a page of the timeline, for the customer page, resolved once (the
    profile's recent list is that page)."""
    resolved = resolve(query, identifier, policy)
    if resolved is None:
        return None
    insights = _beside(query, SCORES_SQL, {"person": resolved.person_id})
    page = timeline(query, resolved.persons, customer_ids(resolved.profile["identifiers"]),
                    before=before, limit=limit)
    return shape(resolved, page, _scores(insights.result()), identifier), page
