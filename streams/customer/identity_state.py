"""The identity graph's state and its JSON-able form.

``IdentityState`` holds the union-find forest (``parent``), node arrival data, edges, adjacency
and one ``Person`` per union-find root. ``to_dict`` gives plain lists and dicts (strings,
numbers, None) for a changelog-backed table; ``from_dict(to_dict(s))`` rebuilds an equal state
(roots and path compression may differ; persons, ids, edges and arrival numbers do not).

Invariants kept by ``identity.py``: ``persons`` is keyed by root; every member's root is that
key; ``person_roots`` maps each live person id to its root; ``Person.counts`` and
``customer_ids`` match the members; the anchor is the member with the lowest arrival number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

FORMAT_VERSION: Final = 1


def node_key(kind: str, value: str) -> str:
    return f"{kind}:{value}"


def kind_of(key: str) -> str:
    return key.split(":", 1)[0]


def edge_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True, slots=True)
class Edge:
    """Why two identifiers are one person: the rule, the source event, when, and match weights."""

    a: str
    b: str
    rule: str
    source: str
    at: int
    weights: tuple[tuple[str, float], ...] | None = None


@dataclass(slots=True)
class Person:
    person_id: str
    created_at: int
    anchor: str
    members: list[str]
    counts: dict[str, int]
    customer_ids: list[str]


@dataclass(slots=True)
class IdentityState:
    parent: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """node key -> (first seen at, arrival number)."""
    adjacency: dict[str, set[str]] = field(default_factory=dict)
    edges: dict[tuple[str, str], Edge] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    person_roots: dict[str, str] = field(default_factory=dict)
    seq: int = 0


def to_dict(state: IdentityState) -> dict[str, Any]:
    """A JSON-able snapshot, sorted so that equal states give equal documents."""
    return {
        "version": FORMAT_VERSION,
        "seq": state.seq,
        "nodes": sorted([k, at, seq] for k, (at, seq) in state.nodes.items()),
        "edges": sorted(
            [e.a, e.b, e.rule, e.source, e.at, None if e.weights is None else dict(e.weights)]
            for e in state.edges.values()
        ),
        "persons": sorted(
            [p.person_id, p.created_at, sorted(p.members)] for p in state.persons.values()
        ),
    }


def from_dict(doc: dict[str, Any]) -> IdentityState:
    if doc.get("version") != FORMAT_VERSION:
        raise ValueError(f"unknown identity state version {doc.get('version')!r}")
    state = IdentityState(seq=int(doc["seq"]))
    for key, at, seq in doc["nodes"]:
        state.nodes[key] = (int(at), int(seq))
        state.adjacency[key] = set()
    for a, b, rule, source, at, weights in doc["edges"]:
        state.edges[(a, b)] = Edge(a, b, rule, source, int(at),
                                   None if weights is None else tuple(sorted(weights.items())))
        state.adjacency[a].add(b)
        state.adjacency[b].add(a)
    for person_id, created_at, keys in doc["persons"]:
        members = sorted(keys, key=lambda k: state.nodes[k][1])
        anchor = members[0]
        counts: dict[str, int] = {}
        for k in members:
            state.parent[k] = anchor
            counts[kind_of(k)] = counts.get(kind_of(k), 0) + 1
        state.persons[anchor] = Person(person_id, int(created_at), anchor, members, counts,
                                       [k for k in members if kind_of(k) == "customer_id"])
        state.person_roots[person_id] = anchor
    return state


def find(parent: dict[str, str], x: str) -> str:
    """The union-find root of node ``x``, compressing the path to it."""
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:  # path compression
        parent[x], x = root, parent[x]
    return root



def copy_state(state: IdentityState) -> IdentityState:
    """An independent copy, for callers that need the state before an ``apply``."""
    return IdentityState(
        parent=dict(state.parent),
        nodes=dict(state.nodes),
        adjacency={k: set(v) for k, v in state.adjacency.items()},
        edges=dict(state.edges),
        persons={
            r: Person(p.person_id, p.created_at, p.anchor, list(p.members), dict(p.counts),
                      list(p.customer_ids))
            for r, p in state.persons.items()
        },
        person_roots=dict(state.person_roots),
        seq=state.seq,
    )
