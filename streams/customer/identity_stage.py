"""The identity stage: the single writer of the identity graph, which resolves every event to
a person and re-keys it by person id to ``customer.events``.

Why it is correct across partitions and workers. The inputs stage sends every observation
under one key to ``identity.observations``, so they all sit in one partition, consumed by one
worker of the group at a time, in log order; this stage's table is partitioned like its input,
so the graph moves with that partition on a rebalance. One writer, one order: the graph is the
same fold (``identity.apply``) over the same sequence whichever worker runs it, and a replay
after a crash folds the same events onto the state the changelog holds. An observation keyed
otherwise is dead-lettered rather than resolved beside the graph.

The table holds one entry per identifier node (``n:<kind>:<value>`` -> its person id and its
neighbours: an event whose identifiers are all known, of one person, and already joined to
its strongest one changes nothing and is resolved from these entries alone), one per person
(``p:<person id>`` -> its nodes, edges and creation time, as one JSON string: a worker holding
millions of them keeps one object each for the garbage collector to walk, not hundreds), and
``seq`` (the arrival counter person ids derive from). A batch loads only the persons its
identifiers touch, folds its events onto that part of the graph, and writes only what changed:
the persons it changed, the nodes whose person or neighbours changed (all of an absorbed
person's on a merge, at most ``max_component_size``), tombstones of absorbed persons, and
``seq`` once. Recovery is the table's changelog: nothing else to rebuild. Every entry carries
the offset reached (positioned), so the position guard replays from the state's position
after a crash.

What it emits per event: a ``customer_events`` row (the person it resolved to, empty when no
identifier is usable) and, when resolved, the event keyed by its person on
``customer.events``; per merge a notice (kind ``merged``) keyed by the absorbed person, so the
profile stage hands that person's profile to the survivor; per graph change an
``identity_links`` row and an ``identity.links`` record (links, merges, refused merges with
the guard rail's reason).

Explicit changes (``identity_changes``) ride the same topic and order: a ``match`` goes
through the same fold and guard rails as an event (its edge keeps the rule, probability and
field weights; it is no interaction, so no ``customer_events`` row); an ``unlink`` or
``forget`` removes an edge or a node (``identity.remove``), tombstones the removed node's
entry and a person left empty, and, when who-is-who changed, writes the ``split`` rows and
sends the profile stage one ``split`` notice. A node removed earlier in a batch is unknown to
the rest of it (its stored entry is stale).

What it costs: identity throughput is bounded by one worker's fold, whatever the number of
workers. ``python -m benchmarks.customer_stages`` (slice ``customer_stages``) measured about
15,000 observations per second of one core's CPU for this step (10,000 simulated people,
76,000 events, steps of 500, decoding included), against about 40,000 for the stateless
inputs stage; ``python -m benchmarks.customer_pipeline`` (one worker running all three stages
on the local broker, a loaded 2-core machine) about 2,400. The profile and attribution stage
after it scales with the partitions of ``customer.events``. Past this bound (the goal of
50,000 touchpoints/s per worker is well past it), the graph would be sharded by a hash of the
strongest identifier, with cross-shard merges sent as messages; not built.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from streams.customer import contract as names
from streams.customer.identifiers import (
    DEFAULT_NORMALISATION,
    IdentifierKind,
    NormalisationPolicy,
    hash_value,
    normalise,
)
from streams.customer.identity import (
    DEFAULT_POLICY,
    KIND_RANK,
    SAME_EVENT,
    IdentityPolicy,
    MergeRefused,
    apply,
    remove,
)
from streams.customer.identity_changes import (
    CHANGE_KINDS,
    FORGET,
    MATCH,
    UNLINK,
    changed_membership,
    link_value,
    match_weights,
    rekind,
    removal_rows,
    split_notice,
    targets,
)
from streams.customer.identity_queries import Explanation, person_of, why
from streams.customer.identity_state import FORMAT_VERSION, IdentityState, from_dict, node_key
from streams.kernel.errors import InvalidMessage
from streams.kernel.records import BatchResult, Columns, OutputRecord, Raw, empty_columns
from streams.kernel.stage import Changes, Events, Input, Lookup, Outcome, Stage, Table, Value

NAME: Final = "customer_identity"
GRAPH: Final = "identity_graph"
SEQ_KEY: Final = "seq"
EVENT_COLUMNS: Final = (
    "person_id", "event_id", "kind", "occurred_at", "type", "channel", "platform", "campaign_id",
    "value", "currency", "order_id", "identifiers", "flags", "attributes", "source_topic",
    "source_partition", "source_offset", "_topic", "_partition", "_offset", "_kafka_ts",
    "_version")
LINK_COLUMNS: Final = ("kind", "person_id", "a", "b", "rule", "reason", "other_person",
                       "source_event", "at", "probability", "weight_fields", "weight_values",
                       "members", "seq", "_topic", "_partition", "_offset", "_version")
#: the columns that are fields of the identity.links value as they are (weights: a map there)
LINK_FIELDS: Final = (*LINK_COLUMNS[:10], "members")


@dataclass(frozen=True, slots=True)
class IdentityStagePolicy:
    identity: IdentityPolicy = DEFAULT_POLICY


def validate(raw: Raw, value: Mapping[str, Any]) -> None:
    if raw.key_str != names.OBSERVATION_KEY:
        raise InvalidMessage("invalid_field", f"an observation is keyed {names.OBSERVATION_KEY!r}"
                             f" (one partition, one writer), not {raw.key_str!r}")
    if not value["event_id"]:
        raise InvalidMessage("invalid_field", "event_id is empty")
    if value["kind"] in CHANGE_KINDS:
        targets(value)
        if value["kind"] == MATCH:
            match_weights(value)


def stage(policy: IdentityStagePolicy) -> Stage:
    return Stage(
        name=NAME,
        inputs=(Input(names.IDENTITY_OBSERVATIONS, validate),),
        step=functools.partial(step, policy),
        tables=(Table(GRAPH, positioned=True),),
        sunk=(names.CUSTOMER_EVENTS_TABLE,),
    )


def usable_of(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(i["kind"], i["value"]) for i in event["identifiers"] if i["status"] == "ok"]


def person_doc(state: IdentityState, person_id: str) -> dict[str, Any]:
    """One person's part of the graph: its nodes (key, first seen, arrival number), the edges
    inside it, its creation time."""
    person = state.persons[state.person_roots[person_id]]
    edges: list[list[Any]] = []
    for k in person.members:
        for nb in state.adjacency[k]:
            if k < nb:
                e = state.edges[(k, nb)]
                edges.append([e.a, e.b, e.rule, e.source, e.at,
                              None if e.weights is None else dict(e.weights)])
    return {"person_id": person_id, "created_at": person.created_at,
            "nodes": sorted([k, *state.nodes[k]] for k in person.members), "edges": sorted(edges)}


def load(docs: Iterable[Mapping[str, Any]], seq: int) -> IdentityState:
    """The part of the graph made of ``docs`` (persons), with the arrival counter ``seq``."""
    nodes: list[Any] = []
    edges: list[Any] = []
    persons: list[Any] = []
    for doc in docs:
        nodes.extend(doc["nodes"])
        edges.extend(doc["edges"])
        persons.append([doc["person_id"], doc["created_at"], [n[0] for n in doc["nodes"]]])
    return from_dict({"version": FORMAT_VERSION, "seq": seq, "nodes": nodes, "edges": edges,
                      "persons": persons})


class _Links:
    def __init__(self) -> None:
        self.cols: Columns = empty_columns(LINK_COLUMNS)
        self.outputs: list[OutputRecord] = []

    def add(self, raw: Raw, seq: int, value: dict[str, Any]) -> None:
        for name in LINK_FIELDS:
            self.cols[name].append(value[name])
        weights = sorted(value["weights"].items())
        self.cols["weight_fields"].append([k for k, _ in weights])
        self.cols["weight_values"].append([float(v) for _, v in weights])
        self.cols["seq"].append(seq)
        self.cols["_topic"].append(raw.topic)
        self.cols["_partition"].append(raw.partition)
        self.cols["_offset"].append(raw.offset)
        self.cols["_version"].append(raw.offset)
        self.outputs.append(OutputRecord(names.IDENTITY_LINKS, value["person_id"], value))


def _event_row(cols: Columns, raw: Raw, event: Mapping[str, Any], person: str) -> None:
    for name in EVENT_COLUMNS[1:14]:
        cols[name].append(event[name])
    cols["person_id"].append(person)
    cols["identifiers"][-1] = [node_key(k, v) for k, v in usable_of(event)]
    for name in ("source_topic", "source_partition", "source_offset"):
        cols[name].append(event[name])
    cols["_topic"].append(raw.topic)
    cols["_partition"].append(raw.partition)
    cols["_offset"].append(raw.offset)
    cols["_kafka_ts"].append(raw.timestamp_ms)
    cols["_version"].append(raw.offset)


def _ordered(identifiers: Iterable[tuple[str, str]]) -> list[str]:
    """Node keys, strongest first (the first is the home ``identity.apply`` attaches to)."""
    unique = {(KIND_RANK.get(kind, len(KIND_RANK)), kind, value) for kind, value in identifiers}
    return [node_key(kind, value) for _, kind, value in sorted(unique)]


class _Graph:
    """The part of the graph a batch touches: persons loaded from the table on demand, and
    what their node entries said before the batch."""

    def __init__(self, lookup: Lookup, seq: int) -> None:
        self.lookup = lookup
        self.state = load((), seq)
        self.entries: dict[str, Value | None] = {}
        self.before: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.loaded: set[str] = set()
        #: nodes removed in this batch: their stored entries are stale
        self.removed: set[str] = set()

    def entry(self, key: str) -> Value | None:
        if key in self.removed:
            return None
        if key not in self.entries:
            self.entries[key] = self.lookup(GRAPH, "n:" + key)
        return self.entries[key]

    def settled(self, keys: list[str]) -> str | None:
        """The person of ``keys`` when they would change nothing: all known, of one person
        not loaded in this batch, each joined to the home by an edge already."""
        if not keys:
            return None
        parent = self.state.parent
        home = self.entry(keys[0]) if keys[0] not in parent else None
        if home is None:
            return None
        person = str(home["person"])
        joined = home.get("edges", ())
        for key in keys[1:]:
            other = self.entry(key) if key not in parent else None
            if other is None or other["person"] != person or key not in joined:
                return None
        return person

    def bring(self, keys: list[str]) -> None:
        """Load the stored persons of ``keys`` that are not in the state yet."""
        state = self.state
        for key in keys:
            if key in state.parent:
                continue
            found = self.entry(key)
            if found is None:
                continue
            pid = str(found["person"])
            stored = self.lookup(GRAPH, "p:" + pid)
            if stored is None:
                raise KeyError(f"identity graph: node {key} names person {pid}, not stored")
            part = load([orjson.loads(stored["doc"])], 0)
            state.parent.update(part.parent)
            state.nodes.update(part.nodes)
            state.adjacency.update(part.adjacency)
            state.edges.update(part.edges)
            state.persons.update(part.persons)
            state.person_roots.update(part.person_roots)
            self.loaded.add(pid)
            for node, nbrs in part.adjacency.items():
                self.before[node] = (pid, tuple(sorted(nbrs)))


def step(policy: IdentityStagePolicy, events: Events, lookup: Lookup, now_ms: int) -> Outcome:
    """Resolve a batch of observations against the part of the graph they touch: an event
    whose identifiers would change nothing is resolved from the node entries alone; the others
    load their persons and go through the fold."""
    if not events.raws:
        return Outcome()
    partition = events.raws[-1].partition
    offset = events.raws[-1].offset
    meta = lookup(GRAPH, SEQ_KEY)
    graph_part = _Graph(lookup, 0 if meta is None else int(meta["seq"]))
    rows: Columns = empty_columns(EVENT_COLUMNS)
    links = _Links()
    outputs: list[OutputRecord] = []
    changed: set[str] = set()
    absorbed: set[str] = set()
    gone: set[str] = set()
    for raw, event in zip(events.raws, events.values, strict=True):
        if event["kind"] in (UNLINK, FORGET):
            for n, (value, notice) in enumerate(_remove(graph_part, event, raw, changed, gone)):
                links.add(raw, n, value)
                if notice is not None:
                    outputs.append(notice)
            continue
        event = rekind(event)
        identifiers = usable_of(event)
        keys = _ordered(identifiers)
        settled = graph_part.settled(keys) if event["kind"] != MATCH else None
        if settled is not None:
            resolved = {**event, "person_id": settled}
            _event_row(rows, raw, resolved, settled)
            outputs.append(OutputRecord(names.CUSTOMER_EVENTS, settled, resolved))
            continue
        graph_part.bring(keys)
        source, at = event["event_id"], event["occurred_at"]
        rule, probability, weights = (match_weights(event) if event["kind"] == MATCH
                                      else (SAME_EVENT, None, {}))
        state, effects = apply(graph_part.state, identifiers, source, at, policy=policy.identity,
                               rule=rule, weights={**weights, "probability": probability}
                               if probability is not None else None)
        person = effects.person_id
        resolved = _resolved(event, person, effects.refusals)
        if event["kind"] != MATCH:
            _event_row(rows, raw, resolved, person or "")
        n = 0
        for link in effects.links:
            links.add(raw, n, link_value("link", person or "", source, at, a=link.a, b=link.b,
                                         rule=link.rule, probability=probability,
                                         weights=weights))
            n += 1
        for merge in effects.merges:
            links.add(raw, n, link_value("merge", merge.into_person, source, at,
                                    other_person=merge.from_person))
            n += 1
            absorbed.add(merge.from_person)
            changed.discard(merge.from_person)
            outputs.append(OutputRecord(names.CUSTOMER_EVENTS, merge.from_person, _merge_notice(
                event, merge.from_person, merge.into_person, raw)))
        for refusal in effects.refusals:
            links.add(raw, n, link_value("refused", refusal.into_person, source, at,
                                    a=refusal.identifier, reason=refusal.reason,
                                    other_person=refusal.person))
            n += 1
        if person is None:
            continue
        if effects.created or effects.links or effects.merges:
            changed.add(person)
        if event["kind"] == MATCH:  # a change of the graph, not an interaction of the person
            continue
        outputs.append(OutputRecord(names.CUSTOMER_EVENTS, person, resolved))

    state = graph_part.state
    graph: dict[str, tuple[int, Value | None]] = {}
    mark = {"offset": offset, "last_event_at": events.values[-1]["occurred_at"]}
    for pid in sorted(changed):
        doc = person_doc(state, pid)
        graph["p:" + pid] = (partition, {"doc": orjson.dumps(doc).decode(), **mark})
        for node in doc["nodes"]:
            now = (pid, tuple(sorted(state.adjacency[node[0]])))
            if graph_part.before.get(node[0]) != now:
                graph["n:" + node[0]] = (partition, {"person": pid, "edges": list(now[1]),
                                                     **mark})
    for pid in sorted((absorbed | gone) & graph_part.loaded - changed):
        graph["p:" + pid] = (partition, None)
    for node in sorted(graph_part.removed - set(state.parent)):
        graph["n:" + node] = (partition, None)
    graph[SEQ_KEY] = (partition, {"seq": state.seq, **mark})
    changes: Changes = {GRAPH: graph}
    result = BatchResult(inserts={names.CUSTOMER_EVENTS_TABLE: rows,
                                  names.IDENTITY_LINKS_TABLE: links.cols},
                         outputs=[*outputs, *links.outputs])
    return Outcome(result, changes)


def _remove(graph_part: _Graph, event: Mapping[str, Any], raw: Raw, changed: set[str],
            gone: set[str]) -> list[tuple[dict[str, Any], OutputRecord | None]]:
    """An unlink or forget applied to the graph: its ``identity.links`` values, each with the
    split notice to send (on the first split row) when the person fell apart."""
    ids = targets(event)
    graph_part.bring([node_key(*i) for i in ids])
    state = graph_part.state
    before = person_of(state, ids[0])
    target: Any = ids[0] if event["kind"] == FORGET else (ids[0], ids[1])
    state, effects = remove(state, target)
    graph_part.removed.update(effects.removed_nodes)
    changed.update(p for p in effects.affected if p not in effects.gone)
    changed.difference_update(effects.gone)
    gone.update(effects.gone)
    rows = removal_rows(state, event, before, effects)
    notice = None
    if before is not None and changed_membership(effects):
        notice = OutputRecord(names.CUSTOMER_EVENTS, before, split_notice(
            state, event, before, effects, raw.topic, raw.partition, raw.offset))
    return [(row, notice if i == 1 else None) for i, row in enumerate(rows)]


def _resolved(event: Mapping[str, Any], person: str | None, refusals: Iterable[MergeRefused]
              ) -> dict[str, Any]:
    """The event keyed by its person; an identifier a guard rail kept out is marked
    ``refused`` (with the rule), so nothing downstream counts it as the person's."""
    refused = {r.identifier: r.reason for r in refusals}
    identifiers = event["identifiers"]
    if refused:
        identifiers = [
            {**i, "status": "refused", "reason": refused[key]} if (
                key := node_key(i["kind"], i["value"])) in refused and i["status"] == "ok"
            else i for i in identifiers]
    return {**event, "person_id": person, "identifiers": identifiers}


def _merge_notice(event: Mapping[str, Any], from_person: str, into: str, raw: Raw
                  ) -> dict[str, Any]:
    return {**event, "event_id": f"merge:{from_person}:{into}", "kind": "merged",
            "person_id": from_person, "merged_into": into, "identifiers": [], "flags": [],
            "source_topic": raw.topic, "source_partition": raw.partition,
            "source_offset": raw.offset, "type": None, "channel": None, "platform": None,
            "campaign_id": None, "value": None, "currency": None, "order_id": None,
            "lifecycle_stage": None, "attributes": {}, "tags": [], "deleted": False,
            "state": None}


# --- questions to the stage's table (for the API and the CLI) ------------------------------


def node_of(kind: IdentifierKind, raw: str, normalisation: NormalisationPolicy =
            DEFAULT_NORMALISATION, hash_salt: bytes | None = None) -> str:
    """The node key of an identifier as a person would type it: normalised as the inputs
    stage does (and hashed when emails and phones are stored hashed)."""
    value = normalise(kind, raw, normalisation).value
    if hash_salt and kind in ("email", "phone"):
        value = hash_value(value, hash_salt)
    return node_key(kind, value)


def person_of_node(lookup: Lookup, node: str) -> str | None:
    """The person an identifier (a node key) belongs to now, from the node entries."""
    entry = lookup(GRAPH, "n:" + node)
    return None if entry is None else str(entry["person"])


def explain(lookup: Lookup, node: str) -> Explanation | None:
    """``identity.why`` for an identifier (a node key), from the stage's table: the person,
    its identifiers and every edge with the rule and source event that made it."""
    pid = person_of_node(lookup, node)
    if pid is None:
        return None
    stored = lookup(GRAPH, "p:" + pid)
    if stored is None:
        return None
    state = load([orjson.loads(stored["doc"])], 0)
    kind, value = node.split(":", 1)
    return why(state, (kind, value))

