"""The identity graph: which identifiers belong to one person, as a fold over sightings.

Nodes are typed identifiers, keyed ``"<kind>:<value>"`` (values already normalised, see
``identifiers.py``). An edge joins two nodes and records the rule, the source event, the event
time and, for probabilistic matches, the per-field weights that made it. A person is a connected
component; ``apply`` adds the identifiers seen together on one event, ``remove`` takes a node or
an edge away, ``why`` explains a person.

Invariants:
- Every edge lies inside one person: edges are added only between nodes that end up joined, and
  a refused merge adds no edge. So the persons are exactly the connected components.
- Person ids are deterministic: a new person's id is a hash of its anchor (its oldest node, by
  arrival order in the state) and that node's arrival number. A merge keeps the id of the older
  person (the one whose anchor arrived first); a split keeps the id for the part holding the
  oldest remaining node and gives the other parts ids derived from their own anchors. The same
  sequence of calls always yields the same ids.
- Guard rails (``IdentityPolicy``), checked before every merge: at most N identifiers of each
  kind per person, at most ``max_component_size`` nodes, and never two persons that each carry
  a customer_id. A refused identifier is reported with its reason and does not join; the event
  attaches to the person of its strongest identifier.
- Without a guard rail firing, the final partition is independent of arrival order (it is the
  connected components of all edges ever added).

Ownership: the state is a mutable object owned by the fold. ``apply`` and ``remove`` return the
updated state, which is the same object (union-find path compression and O(1) updates need it);
use ``copy_state`` first to keep the previous one. No I/O, no clock, no randomness.
"""

from __future__ import annotations

import functools
import hashlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from streams.customer.identifiers import (
    DEFAULT_NORMALISATION,
    NormalisationPolicy,
    Normalised,
    normalise_identifiers,
    usable,
)
from streams.customer.identity_effects import ApplyEffects as ApplyEffects
from streams.customer.identity_effects import LinkAdded as LinkAdded
from streams.customer.identity_effects import MergeRefused as MergeRefused
from streams.customer.identity_effects import PersonMerged as PersonMerged
from streams.customer.identity_effects import RemoveEffects as RemoveEffects
from streams.customer.identity_queries import Explanation as Explanation
from streams.customer.identity_queries import members as members
from streams.customer.identity_queries import partition as partition
from streams.customer.identity_queries import path as path
from streams.customer.identity_queries import person_of as person_of
from streams.customer.identity_queries import why as why
from streams.customer.identity_state import Edge as Edge
from streams.customer.identity_state import IdentityState as IdentityState
from streams.customer.identity_state import Person, edge_key, find, kind_of, node_key
from streams.customer.identity_state import copy_state as copy_state
from streams.customer.identity_state import from_dict as from_dict
from streams.customer.identity_state import to_dict as to_dict

Identifier = tuple[str, str]
"""``(kind, value)``, value already normalised."""

# Strength decides which identifier an event attaches to; stronger identifies a person better.
KIND_RANK: Final[Mapping[str, int]] = {
    "customer_id": 0,
    "email": 1,
    "phone": 2,
    "record_id": 3,
    "device_id": 4,
    "anonymous_id": 5,
}
SAME_EVENT: Final = "same_event"
PROBABILISTIC: Final = "probabilistic"


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    """Guard rails on merging (after Segment Unify's identity limits and PostHog's merge rules)."""

    max_customer_ids: int = 1
    max_emails: int = 5
    max_phones: int = 5
    max_anonymous_ids: int = 50
    max_device_ids: int = 10
    max_record_ids: int = 100
    max_component_size: int = 200
    unknown_kind_limit: int = 10

    def limit(self, kind: str) -> int:
        return _limits(self).get(kind, self.unknown_kind_limit)


@functools.lru_cache(maxsize=64)
def _limits(policy: IdentityPolicy) -> Mapping[str, int]:
    return {
        "customer_id": policy.max_customer_ids,
        "email": policy.max_emails,
        "phone": policy.max_phones,
        "anonymous_id": policy.max_anonymous_ids,
        "device_id": policy.max_device_ids,
        "record_id": policy.max_record_ids,
    }


DEFAULT_POLICY: Final = IdentityPolicy()


def new_state() -> IdentityState:
    return IdentityState()


def _person_id(state: IdentityState, anchor: str) -> str:
    seq = state.nodes[anchor][1]
    pid = "p_" + hashlib.sha256(f"{seq}:{anchor}".encode()).hexdigest()[:20]
    while pid in state.person_roots:  # never expected; keeps ids unique whatever happens
        pid = "p_" + hashlib.sha256(f"{pid}:{state.seq}".encode()).hexdigest()[:20]
    return pid


def _add_node(state: IdentityState, key: str, at: int) -> None:
    state.seq += 1
    state.nodes[key] = (at, state.seq)
    state.parent[key] = key
    state.adjacency[key] = set()


def _create_person(state: IdentityState, key: str, at: int) -> Person:
    kind = kind_of(key)
    person = Person(_person_id(state, key), at, key, [key], {kind: 1},
                    [key] if kind == "customer_id" else [])
    state.persons[key] = person
    state.person_roots[person.person_id] = key
    return person


def _refusal(into: Person, other: Person, policy: IdentityPolicy) -> str | None:
    if into.customer_ids and other.customer_ids:
        return "customer_id_conflict"
    for kind, n in other.counts.items():
        if into.counts.get(kind, 0) + n > policy.limit(kind):
            return f"limit:{kind}"
    if len(into.members) + len(other.members) > policy.max_component_size:
        return "max_component_size"
    return None


def _older(state: IdentityState, a: Person, b: Person) -> bool:
    return state.nodes[a.anchor][1] < state.nodes[b.anchor][1]


def _union(state: IdentityState, ra: str, rb: str) -> tuple[str, Person, Person]:
    """Joins the persons rooted at ra and rb; returns (new root, survivor, absorbed)."""
    pa, pb = state.persons[ra], state.persons[rb]
    survivor, absorbed = (pa, pb) if _older(state, pa, pb) else (pb, pa)
    # Union by size for short trees; the person record follows the older anchor, not the root.
    big, small = (ra, rb) if len(pa.members) >= len(pb.members) else (rb, ra)
    state.parent[small] = big
    members = state.persons[big].members
    members.extend(state.persons[small].members)
    for kind, n in absorbed.counts.items():
        survivor.counts[kind] = survivor.counts.get(kind, 0) + n
    survivor.customer_ids.extend(absorbed.customer_ids)
    survivor.members = members
    del state.persons[small]
    state.persons[big] = survivor
    del state.person_roots[absorbed.person_id]
    state.person_roots[survivor.person_id] = big
    return big, survivor, absorbed


def _add_edge(state: IdentityState, a: str, b: str, rule: str, source: str, at: int,
              weights: Mapping[str, float] | None) -> LinkAdded | None:
    key = edge_key(a, b)
    if a == b or key in state.edges:
        return None
    state.edges[key] = Edge(key[0], key[1], rule, source, at,
                            tuple(sorted(weights.items())) if weights else None)
    state.adjacency[a].add(b)
    state.adjacency[b].add(a)
    return LinkAdded(key[0], key[1], rule, source)


def _ordered(identifiers: Iterable[Identifier]) -> list[str]:
    unique = {(KIND_RANK.get(kind, len(KIND_RANK)), kind, value) for kind, value in identifiers}
    return [node_key(kind, value) for _, kind, value in sorted(unique)]


def apply(
    state: IdentityState,
    identifiers: Sequence[Identifier],
    source: str,
    at: int,
    *,
    rule: str = SAME_EVENT,
    weights: Mapping[str, float] | None = None,
    policy: IdentityPolicy = DEFAULT_POLICY,
) -> tuple[IdentityState, ApplyEffects]:
    """Absorbs the usable identifiers seen together on one event (or one probabilistic match).

    Each identifier, strongest first, joins the person of the strongest one (the home) unless a
    guard rail refuses it; joined identifiers get an edge to the home node.
    """
    keys = _ordered(identifiers)
    if not keys:
        return state, ApplyEffects(None)
    parent = state.parent
    home = keys[0]
    fresh: set[str] = set()
    if home in parent:
        root = find(parent, home)
    else:
        _add_node(state, home, at)
        root = home
        fresh.add(_create_person(state, home, at).person_id)
    links: list[LinkAdded] = []
    merges: list[PersonMerged] = []
    refused: list[tuple[str, str | None, str]] = []
    for key in keys[1:]:
        into = state.persons[root]
        if key in parent:
            other_root = find(parent, key)
            if other_root != root:
                other = state.persons[other_root]
                reason = _refusal(into, other, policy)
                if reason is not None:
                    refused.append((key, other.person_id, reason))
                    continue
                root, survivor, absorbed = _union(state, root, other_root)
                if absorbed.person_id in fresh:  # a new home joins an existing (older) person
                    fresh.discard(absorbed.person_id)
                else:
                    merges.append(PersonMerged(absorbed.person_id, survivor.person_id, source))
        else:
            kind = kind_of(key)
            if into.customer_ids and kind == "customer_id":
                reason = "customer_id_conflict"
            elif into.counts.get(kind, 0) + 1 > policy.limit(kind):
                reason = f"limit:{kind}"
            elif len(into.members) + 1 > policy.max_component_size:
                reason = "max_component_size"
            else:
                reason = None
            if reason is not None:
                refused.append((key, None, reason))
                continue
            _add_node(state, key, at)
            parent[key] = root
            into.members.append(key)
            into.counts[kind] = into.counts.get(kind, 0) + 1
            if kind == "customer_id":
                into.customer_ids.append(key)
        link = _add_edge(state, home, key, rule, source, at, weights)
        if link is not None:
            links.append(link)
    person_id = state.persons[find(parent, home)].person_id
    refusals = tuple(MergeRefused(key, other, person_id, reason, source) for key, other, reason in refused)
    return state, ApplyEffects(person_id, tuple(sorted(fresh)), tuple(links), tuple(merges), refusals)


def observe(
    state: IdentityState,
    raw: Mapping[str, object],
    source: str,
    at: int,
    *,
    policy: IdentityPolicy = DEFAULT_POLICY,
    normalisation: NormalisationPolicy = DEFAULT_NORMALISATION,
) -> tuple[IdentityState, ApplyEffects, tuple[Normalised, ...]]:
    """Normalises a ``PersonIdentifiers`` record and applies its usable values.

    Also returns every normalised value, flagged ones included, so the caller can keep them on
    the record (they never reach the graph).
    """
    normalised = normalise_identifiers(raw, normalisation)
    state, effects = apply(state, usable(normalised), source, at, policy=policy)
    return state, effects, normalised


def _component(state: IdentityState, start: str, allowed: set[str]) -> list[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nb in state.adjacency[queue.popleft()]:
            if nb in allowed and nb not in seen:
                seen.add(nb)
                queue.append(nb)
    return sorted(seen, key=lambda k: state.nodes[k][1])


def _split(state: IdentityState, root: str, removed: str | None) -> RemoveEffects:
    """Recomputes the components of the person rooted at ``root`` (only its members)."""
    person = state.persons.pop(root)
    del state.person_roots[person.person_id]
    remaining = [k for k in person.members if k != removed]
    if not remaining:
        return RemoveEffects(affected=(person.person_id,), gone=(person.person_id,))
    todo = set(remaining)
    parts: list[list[str]] = []
    for key in sorted(remaining, key=lambda k: state.nodes[k][1]):
        if key in todo:
            part = _component(state, key, todo)
            todo.difference_update(part)
            parts.append(part)
    new_ids: list[str] = []
    for i, part in enumerate(parts):  # parts are in the order of their anchors' arrival
        anchor = part[0]
        counts: dict[str, int] = {}
        for k in part:
            state.parent[k] = anchor
            counts[kind_of(k)] = counts.get(kind_of(k), 0) + 1
        pid = person.person_id if i == 0 else _person_id(state, anchor)
        created_at = person.created_at if i == 0 else state.nodes[anchor][0]
        state.persons[anchor] = Person(pid, created_at, anchor, part, counts,
                                       [k for k in part if kind_of(k) == "customer_id"])
        state.person_roots[pid] = anchor
        if i:
            new_ids.append(pid)
    return RemoveEffects(affected=(person.person_id, *new_ids), kept=person.person_id,
                         new_persons=tuple(new_ids))


def remove(
    state: IdentityState, target: Identifier | tuple[Identifier, Identifier]
) -> tuple[IdentityState, RemoveEffects]:
    """Removes a node (with its edges) or one edge and splits its person if it falls apart.

    Unknown targets are a no-op with empty effects.
    """
    first = target[0]
    if isinstance(first, tuple):
        a, b = node_key(*first), node_key(*target[1])
        key = edge_key(a, b)
        if key not in state.edges:
            return state, RemoveEffects()
        root = find(state.parent, a)
        del state.edges[key]
        state.adjacency[a].discard(b)
        state.adjacency[b].discard(a)
        effects = _split(state, root, None)
        if not effects.new_persons:  # still one person: only the edge went
            return state, RemoveEffects(removed_edges=(key,))
        return state, RemoveEffects((), (key,), effects.affected, effects.kept, effects.new_persons)
    node = node_key(*target)
    if node not in state.parent:
        return state, RemoveEffects()
    root = find(state.parent, node)
    removed_edges = []
    for nb in sorted(state.adjacency.pop(node)):
        state.adjacency[nb].discard(node)
        key = edge_key(node, nb)
        del state.edges[key]
        removed_edges.append(key)
    effects = _split(state, root, node)
    del state.parent[node]
    del state.nodes[node]
    return state, RemoveEffects((node,), tuple(removed_edges), effects.affected, effects.kept,
                                effects.new_persons, effects.gone)
