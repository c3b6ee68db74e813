"""Operator commands on identity resolution: explain a person, undo a join, match CRM records.

``why`` reads ClickHouse only (``identity_links``, ``customer_events``; through the worker when
it holds the embedded store): the graph's history is the ``identity_links`` rows in log order
(identity.observations has one partition, so ``_offset`` is that order), folded here:
``link`` adds an edge, ``unlink`` removes one, ``forget`` removes an identifier with its
edges. The person of an identifier is its connected component; the person id is that of the
latest ``link`` row or ``split`` row (whose ``members`` list its part) touching the component,
or, for an identifier never joined to another, that of its latest ``customer_events`` row.

``unlink``, ``forget`` and ``match`` do not change anything themselves: they produce
observations to ``identity.observations``, which the identity stage (the single writer of the
graph) applies in log order under its guard rails.

``match``: the latest state of every CRM record in ``customer_events`` (kind ``profile``) is
compared by the Fellegi-Sunter matcher (``streams.customer.matching``: blocking, EM without
labels, field weights); each pair at or above the threshold becomes a ``match`` observation
between the two records' CRM ids, except pairs an operator unlinked and records whose id was
forgotten after their latest update (an undone join stays undone).
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from streams.contract.codec import AvroCodec
from streams.customer import contract as names
from streams.customer import identity_changes as changes
from streams.customer import matching
from streams.customer.identifiers import PERSON_IDENTIFIER_FIELDS, IdentifierKind
from streams.customer.identity_stage import node_of
from streams.customer.matching_model import FellegiSunterModel
from streams.io.producer import produce_records
from streams.io.query import Querier
from streams.kernel.records import OutputRecord
from streams.settings import Settings

KINDS: Final[tuple[IdentifierKind, ...]] = (*PERSON_IDENTIFIER_FIELDS, "record_id")
LINK_SELECT: Final = (
    "SELECT kind, person_id, a, b, rule, reason, other_person, source_event, "
    "toUnixTimestamp64Milli(at) AS at_ms, probability, weight_fields, weight_values, members, "
    "_offset, seq "
    "FROM identity_links FINAL ")
ROW_FIELDS: Final = ("kind", "person_id", "a", "b", "rule", "reason", "other_person",
                     "source_event", "at", "probability", "weight_fields", "weight_values",
                     "members", "offset", "seq")
#: most rounds of fetching the rows around a component (each round one query)
MAX_ROUNDS: Final = 64

Row = dict[str, Any]


def parse_identifier(text: str, settings: Settings) -> str:
    """The node key of an identifier as an operator types it: ``kind:value``, or an email or
    phone number on its own; normalised (and hashed) as the pipeline stores it."""
    kind, sep, value = text.partition(":")
    if sep and kind in KINDS:
        found: IdentifierKind = next(k for k in KINDS if k == kind)
    elif "@" in text:
        found, value = "email", text
    elif text.strip().startswith("+"):
        found, value = "phone", text
    else:
        raise ValueError(f"{text!r}: say which kind it is, as kind:value (kinds: "
                         f"{', '.join(KINDS)})")
    salt = settings.customer_hash_salt
    hash_salt = (salt.get_secret_value().encode()
                 if settings.customer_hash_identifiers and salt is not None else None)
    return node_of(found, value, hash_salt=hash_salt)


def _pair(node: str) -> tuple[str, str]:
    kind, _, value = node.partition(":")
    return kind, value


def change_record(kind: str, nodes: Sequence[str], reason: str | None,
                  now_ms: int | None = None) -> OutputRecord:
    """An ``unlink`` (two nodes) or ``forget`` (one node) observation, keyed ``identity``."""
    at = int(time.time() * 1000) if now_ms is None else now_ms
    value = changes.observation(kind, [_pair(n) for n in nodes],
                                f"{kind}:{at}:{uuid.uuid4().hex[:8]}", at,
                                {"reason": reason} if reason else {})
    return OutputRecord(names.IDENTITY_OBSERVATIONS, names.OBSERVATION_KEY, value)


def match_record(match: matching.Match, now_ms: int) -> OutputRecord:
    """A ``match`` observation joining two records' node keys (``Match.left``/``right``)."""
    weights = {**dict(match.field_weights), "total": round(match.weight, 4)}
    value = changes.observation(
        changes.MATCH, [_pair(match.left), _pair(match.right)],
        f"match:{match.left}|{match.right}", now_ms,
        changes.match_attributes(round(match.probability, 6), weights),
        source="touchstream identity match")
    return OutputRecord(names.IDENTITY_OBSERVATIONS, names.OBSERVATION_KEY, value)


def send(settings: Settings, records: Iterable[OutputRecord]) -> int:
    """Produce observations to ``identity.observations``; the number acknowledged."""
    report = produce_records(settings, records, encode=AvroCodec.from_settings(settings).encode)
    return report.total


# --- why -----------------------------------------------------------------------------------


@dataclass
class Explained:
    node: str
    person_id: str | None
    identifiers: list[str] = field(default_factory=list)
    edges: list[Row] = field(default_factory=list)
    """The live edges inside the person, each the ``link`` row that made it."""
    removals: list[Row] = field(default_factory=list)
    """unlink, forget and split rows touching the person's identifiers."""
    refused: list[Row] = field(default_factory=list)
    sources: dict[str, Row] = field(default_factory=dict)
    """source event id -> its customer_events row (kind, time, input topic and offset)."""
    forgotten_at: int | None = None
    """The offset of the forget that removed ``node``, when it has not been linked since."""


def fold_links(rows: Iterable[Row]) -> tuple[dict[tuple[str, str], Row], dict[str, int]]:
    """The live edges (each with the row that made it) after ``rows`` in log order, and the
    identifiers forgotten since they were last linked (with the offset of the forget)."""
    edges: dict[tuple[str, str], Row] = {}
    forgotten: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: (r["offset"], r["seq"])):
        a, b = row["a"], row["b"]
        if row["kind"] == "link" and a and b:
            edges[min(a, b), max(a, b)] = row
            forgotten.pop(a, None)
            forgotten.pop(b, None)
        elif row["kind"] == "unlink" and a and b:
            edges.pop((min(a, b), max(a, b)), None)
        elif row["kind"] == "forget" and a and "nothing to remove" not in (row["reason"] or ""):
            edges = {k: v for k, v in edges.items() if a not in k}
            forgotten[a] = row["offset"]
    return edges, forgotten


def component(node: str, edges: Mapping[tuple[str, str], Row]) -> set[str]:
    adjacency: dict[str, set[str]] = {}
    for a, b in edges:
        adjacency.setdefault(a, set()).add(b)
        adjacency.setdefault(b, set()).add(a)
    seen = {node}
    queue = deque([node])
    while queue:
        for nb in adjacency.get(queue.popleft(), ()):
            if nb not in seen:
                seen.add(nb)
                queue.append(nb)
    return seen


def explain_rows(node: str, rows: Iterable[Row]) -> Explained:
    """The person of ``node`` from the ``identity_links`` rows around it (pure)."""
    rows = sorted(rows, key=lambda r: (r["offset"], r["seq"]))
    edges, forgotten = fold_links(rows)
    members = component(node, edges)
    inside = sorted((r for k, r in edges.items() if k[0] in members),
                    key=lambda r: (r["offset"], r["seq"]))
    touching = sorted([*inside, *(r for r in rows if r["kind"] == "split"
                                  and members & set(r["members"] or ()))],
                      key=lambda r: (r["offset"], r["seq"]))
    person = touching[-1]["person_id"] if touching else None
    removals = [r for r in rows if r["kind"] in ("unlink", "forget", "split")
                and ({r["a"], r["b"]} & members or members & set(r["members"] or ()))]
    explained = Explained(node, person, sorted(members), inside, removals)
    explained.forgotten_at = forgotten.get(node)
    return explained


def _rows(querier: Querier, where: str, parameters: Mapping[str, Any]) -> list[Row]:
    result = querier.sql(LINK_SELECT + where, parameters)
    rows = [dict(zip(ROW_FIELDS, r, strict=True)) for r in result.rows]
    for row in rows:
        row["weights"] = dict(zip(row.pop("weight_fields"), row.pop("weight_values"),
                                  strict=True))
    return rows


def why(querier: Querier, node: str) -> Explained:
    """``explain_rows`` over the rows read from ClickHouse, fetched round by round until the
    component stops growing; with the refused merges and the source events."""
    rows: dict[tuple[int, int], Row] = {}
    asked: set[str] = set()
    frontier = {node}
    for _ in range(MAX_ROUNDS):
        if not frontier:
            break
        asked |= frontier
        found = _rows(querier, "WHERE kind IN ('link', 'unlink', 'forget', 'split') AND "
                      "(a IN {n:Array(String)} OR b IN {n:Array(String)} OR "
                      "hasAny(members, {n:Array(String)}))", {"n": sorted(frontier)})
        for r in found:
            rows[r["offset"], r["seq"]] = r
        frontier = component(node, fold_links(rows.values())[0]) - asked
    explained = explain_rows(node, rows.values())
    if explained.person_id is None:  # never joined to another identifier (since forgotten)
        latest = querier.sql(
            "SELECT person_id FROM customer_events FINAL WHERE has(identifiers, {n:String}) "
            "AND person_id != '' AND _offset > {f:Int64} ORDER BY _offset DESC LIMIT 1",
            {"n": node, "f": -1 if explained.forgotten_at is None
             else explained.forgotten_at}).rows
        explained.person_id = str(latest[0][0]) if latest else None
        if latest:
            explained.identifiers = [node]
    if explained.person_id is not None:
        explained.refused = _rows(
            querier, "WHERE kind = 'refused' AND (a IN {n:Array(String)} OR person_id = {p:String}"
            " OR other_person = {p:String}) ORDER BY _offset, seq",
            {"n": explained.identifiers, "p": explained.person_id})
    events = sorted({r["source_event"] for r in (*explained.edges, *explained.refused)})
    if events:
        result = querier.sql(
            "SELECT event_id, kind, toUnixTimestamp64Milli(occurred_at), source_topic, "
            "source_partition, source_offset FROM customer_events FINAL "
            "WHERE event_id IN {e:Array(String)}", {"e": events})
        for event_id, kind, at, topic, partition, offset in result.rows:
            explained.sources[str(event_id)] = {"kind": kind, "at": at, "topic": topic,
                                                "partition": partition, "offset": offset}
    return explained


# --- match ---------------------------------------------------------------------------------


def crm_records(querier: Querier) -> tuple[list[matching.ProfileRecord], dict[str, int]]:
    """The latest state of every CRM record (a record: the profile events of one CRM id,
    its ``record_id`` or ``customer_id`` node), with the offset of that latest event."""
    result = querier.sql(
        "SELECT identifiers, attributes, _offset FROM customer_events FINAL "
        "WHERE kind = 'profile' ORDER BY occurred_at, _offset", {})
    latest: dict[str, tuple[Mapping[str, str], str | None, int]] = {}
    for identifiers, attributes, offset in result.rows:
        ids = list(identifiers)
        record = next((i for i in ids if i.startswith("record_id:")), None) or next(
            (i for i in ids if i.startswith("customer_id:")), None)
        if record is None:
            continue
        phone = next((i.split(":", 1)[1] for i in ids if i.startswith("phone:+")), None)
        latest[record] = (attributes, phone, int(offset))
    records = [matching.profile_from_attributes(r, a, p) for r, (a, p, _) in latest.items()]
    return records, {r: o for r, (_, _, o) in latest.items()}


def undone(querier: Querier) -> tuple[set[tuple[str, str]], dict[str, int]]:
    """Pairs an operator unlinked, and forgotten identifiers with the offset of the forget."""
    result = querier.sql("SELECT kind, a, b, _offset FROM identity_links FINAL "
                         "WHERE kind IN ('unlink', 'forget')", {})
    pairs: set[tuple[str, str]] = set()
    forgotten: dict[str, int] = {}
    for kind, a, b, offset in result.rows:
        if kind == "unlink" and a and b:
            pairs.add((min(a, b), max(a, b)))
        elif kind == "forget" and a:
            forgotten[a] = max(forgotten.get(a, -1), int(offset))
    return pairs, forgotten


@dataclass(frozen=True)
class MatchRun:
    records: int
    matches: list[matching.Match]
    skipped: int
    model: FellegiSunterModel | None


def match(querier: Querier, policy: matching.MatchingPolicy = matching.DEFAULT_MATCHING
          ) -> MatchRun:
    """Match the CRM records in ClickHouse; the pairs to send (undone ones left out)."""
    records, offsets = crm_records(querier)
    if len(records) < 2:
        return MatchRun(len(records), [], 0, None)
    model, found = matching.link(records, policy)
    pairs, forgotten = undone(querier)
    keep = [m for m in found if (m.left, m.right) not in pairs
            and all(forgotten.get(r, -1) < offsets[r] for r in (m.left, m.right))]
    return MatchRun(len(records), keep, len(found) - len(keep), model)
