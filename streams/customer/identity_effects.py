"""What the identity fold reports, so that callers can act on it ("the fold decides; the agent acts").

``ApplyEffects``: the person an event attaches to, persons created, links added, persons merged
(from the younger into the older id) and merges refused with the guard rail's reason.
``RemoveEffects``: removed nodes and edges and every person whose membership changed, so what
was computed from them (profiles, attribution, scores) can be recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LinkAdded:
    a: str
    b: str
    rule: str
    source: str


@dataclass(frozen=True, slots=True)
class PersonMerged:
    from_person: str
    into_person: str
    source: str


@dataclass(frozen=True, slots=True)
class MergeRefused:
    identifier: str
    person: str | None
    """The person the identifier already belongs to; None when it was new."""
    into_person: str
    """The person the event attached to."""
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class ApplyEffects:
    person_id: str | None
    """The person the event attaches to (that of its strongest usable identifier)."""
    created: tuple[str, ...] = ()
    links: tuple[LinkAdded, ...] = ()
    merges: tuple[PersonMerged, ...] = ()
    refusals: tuple[MergeRefused, ...] = ()


@dataclass(frozen=True, slots=True)
class RemoveEffects:
    removed_nodes: tuple[str, ...] = ()
    removed_edges: tuple[tuple[str, str], ...] = ()
    affected: tuple[str, ...] = ()
    """Every person whose membership changed (kept, new or gone): recompute what depends on them."""
    kept: str | None = None
    new_persons: tuple[str, ...] = ()
    gone: tuple[str, ...] = ()
