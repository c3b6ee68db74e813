"""Read-only questions to the identity graph: who is this, which identifiers, and why.

``why`` lists every edge inside a person with the rule, source event, time and match weights
that made it; ``path`` gives the shortest chain of edges between two identifiers. Neither
changes the state beyond union-find path compression.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from streams.customer.identity_state import Edge, IdentityState, edge_key, find, node_key

Identifier = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Explanation:
    person_id: str
    identifiers: tuple[str, ...]
    edges: tuple[Edge, ...] = ()


def person_of(state: IdentityState, identifier: Identifier) -> str | None:
    key = node_key(*identifier)
    if key not in state.parent:
        return None
    return state.persons[find(state.parent, key)].person_id


def members(state: IdentityState, person_id: str) -> tuple[str, ...]:
    root = state.person_roots.get(person_id)
    if root is None:
        return ()
    return tuple(sorted(state.persons[root].members))


def why(state: IdentityState, identifier: Identifier) -> Explanation | None:
    """The person of ``identifier``, its identifiers and every edge (rule, source, weights) joining it."""
    person_id = person_of(state, identifier)
    if person_id is None:
        return None
    keys = members(state, person_id)
    edges = {state.edges[edge_key(k, nb)] for k in keys for nb in state.adjacency[k]}
    return Explanation(person_id, keys, tuple(sorted(edges, key=lambda e: (e.at, e.a, e.b))))


def path(state: IdentityState, a: Identifier, b: Identifier) -> tuple[Edge, ...] | None:
    """The shortest chain of edges joining two identifiers, or None when they are not joined."""
    start, goal = node_key(*a), node_key(*b)
    if start not in state.parent or goal not in state.parent:
        return None
    previous: dict[str, str] = {start: start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            chain: list[Edge] = []
            while node != start:
                chain.append(state.edges[edge_key(previous[node], node)])
                node = previous[node]
            return tuple(reversed(chain))
        for nb in sorted(state.adjacency[node]):
            if nb not in previous:
                previous[nb] = node
                queue.append(nb)
    return None


def partition(state: IdentityState) -> frozenset[frozenset[str]]:
    """The persons as sets of node keys (for comparisons that ignore ids)."""
    return frozenset(frozenset(p.members) for p in state.persons.values())
