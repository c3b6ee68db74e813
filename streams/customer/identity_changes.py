"""Explicit changes of the identity graph, as observations on ``identity.observations``.

Besides the input events (touchpoints, conversions, CRM updates), three kinds of observation
change the graph directly, applied by the identity stage in log order like every other:

- ``match``: the probabilistic matcher joined two records' identifiers. ``identifiers`` holds
  the two (status ok); ``attributes`` holds ``rule`` (``fellegi_sunter``), ``probability``
  and one ``weight:<field>`` per compared field (log2 m/u), all as strings (the observation
  schema's attributes are a string map). The guard rails apply as to any event.
- ``unlink``: remove the edge between the two ``identifiers`` (a wrong join);
- ``forget``: remove the one identifier node of ``identifiers`` with its edges (an erasure
  request, a wrong value).
``unlink`` and ``forget`` carry the operator's ``reason`` in ``attributes``. A removal that
splits a person emits, per resulting part, an ``identity_links`` row of kind ``split`` (the
part's person, the person it was part of, what was removed and why, the part's identifiers)
and one ``split`` notice on ``customer.events`` keyed by the person that held the profile, so
the profile stage rebuilds each part's profile and attributes its conversions again.

A CRM whose ids identify records rather than customer accounts (contacts or leads that may be
duplicates of one another) says so per record with the attribute ``crm_id_kind`` =
``record_id``: the record's id then joins the graph as a ``record_id`` node, which the
"two different customer ids" guard rail does not concern, so the matcher may join duplicates.

Everything here is pure: parsing an observation, building rows and notices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from streams.customer.identity_effects import RemoveEffects
from streams.customer.identity_state import IdentityState, node_key
from streams.kernel.errors import InvalidMessage

MATCH: Final = "match"
UNLINK: Final = "unlink"
FORGET: Final = "forget"
CHANGE_KINDS: Final = frozenset({MATCH, UNLINK, FORGET})
FELLEGI_SUNTER: Final = "fellegi_sunter"
WEIGHT_PREFIX: Final = "weight:"
#: the CRM attribute that says what a CRM record's id is (customer_id, the default, or record_id)
CRM_ID_KIND: Final = "crm_id_kind"

Identifier = tuple[str, str]


def targets(event: Mapping[str, Any]) -> list[Identifier]:
    """The usable identifiers a change names, checked for its kind (bad ones are dead-lettered)."""
    ids = [(i["kind"], i["value"]) for i in event["identifiers"] if i["status"] == "ok"]
    want = 1 if event["kind"] == FORGET else 2
    if len(ids) != want or (want == 2 and ids[0] == ids[1]):
        raise InvalidMessage("invalid_field", f"a {event['kind']} names {want} distinct usable "
                             f"identifier(s), not {len(ids)}")
    return ids


def match_weights(event: Mapping[str, Any]) -> tuple[str, float, dict[str, float]]:
    """(rule, probability, per-field weights) of a ``match`` observation."""
    attributes: Mapping[str, str] = event["attributes"]
    try:
        probability = float(attributes["probability"])
        weights = {k.removeprefix(WEIGHT_PREFIX): float(v) for k, v in attributes.items()
                   if k.startswith(WEIGHT_PREFIX)}
    except (KeyError, ValueError) as exc:
        raise InvalidMessage("invalid_field", f"a match carries its probability and weights: "
                             f"{exc}") from exc
    if not 0.0 <= probability <= 1.0:
        raise InvalidMessage("invalid_field", f"match probability {probability} not in [0, 1]")
    return attributes.get("rule") or FELLEGI_SUNTER, probability, weights


def match_attributes(probability: float, weights: Mapping[str, float],
                     rule: str = FELLEGI_SUNTER) -> dict[str, str]:
    """The ``attributes`` of a ``match`` observation (inverse of ``match_weights``)."""
    return {"rule": rule, "probability": repr(probability),
            **{WEIGHT_PREFIX + k: repr(v) for k, v in sorted(weights.items())}}


def rekind(event: dict[str, Any]) -> dict[str, Any]:
    """A CRM update whose ids are record ids (``crm_id_kind``): its customer_id becomes a
    ``record_id`` identifier; any other event is returned as it is."""
    if event["kind"] != "profile" or event["attributes"].get(CRM_ID_KIND) != "record_id":
        return event
    return {**event, "identifiers": [{**i, "kind": "record_id"} if i["kind"] == "customer_id"
                                     else i for i in event["identifiers"]]}


def observation(kind: str, identifiers: Sequence[Identifier], event_id: str, at: int,
                attributes: Mapping[str, str], source: str = "touchstream identity"
                ) -> dict[str, Any]:
    """A graph-change observation (``customer_event.v1``) keyed ``identity``."""
    return {"event_id": event_id, "kind": kind, "occurred_at": at, "person_id": None,
            "source_topic": source, "source_partition": 0, "source_offset": 0,
            "identifiers": [{"kind": k, "value": v, "status": "ok", "reason": None}
                            for k, v in identifiers],
            "flags": [], "type": None, "channel": None, "platform": None, "campaign_id": None,
            "value": None, "currency": None, "order_id": None, "lifecycle_stage": None,
            "attributes": dict(attributes), "tags": [], "deleted": False,
            "merged_into": None, "state": None}


def removal_rows(state: IdentityState, event: Mapping[str, Any], before: str | None,
                 effects: RemoveEffects) -> list[dict[str, Any]]:
    """The ``identity_links`` values of an unlink or forget: the removal itself, then one
    ``split`` per resulting part (its identifiers in ``members``)."""
    ids = targets(event)
    a = node_key(*ids[0])
    b = node_key(*ids[1]) if len(ids) > 1 else None
    reason = event["attributes"].get("reason") or None
    source, at = event["event_id"], event["occurred_at"]
    done = bool(effects.removed_edges or effects.removed_nodes)
    rows = [link_value(event["kind"], before or "", source, at, a=a, b=b,
                       reason=reason if done else f"{reason or ''} (nothing to remove)".strip())]
    if changed_membership(effects):
        for pid in effects.affected:
            if pid in effects.gone:
                rows.append(link_value("split", pid, source, at, a=a, b=b, reason=reason,
                                       other_person=before))
                continue
            part = state.persons[state.person_roots[pid]]
            rows.append(link_value("split", pid, source, at, a=a, b=b, reason=reason,
                                   other_person=before, members=sorted(part.members)))
    return rows


def changed_membership(effects: RemoveEffects) -> bool:
    """A removal that changed who is who: a split, a person gone, or an identifier removed."""
    return bool(effects.new_persons or effects.gone or effects.removed_nodes)


def link_value(kind: str, person: str, source: str, at: int, **fields: Any) -> dict[str, Any]:
    """An ``identity.links`` value (``identity_link.v2``); absent fields null or empty."""
    return {"kind": kind, "person_id": person, "a": None, "b": None, "rule": None,
            "reason": None, "other_person": None, "source_event": source, "at": at,
            "probability": None, "weights": {}, "members": [], **fields}


def split_notice(state: IdentityState, event: Mapping[str, Any], holder: str,
                 effects: RemoveEffects, raw_topic: str, raw_partition: int, raw_offset: int
                 ) -> dict[str, Any]:
    """The ``customer.events`` notice (kind ``split``) to the person that held the profile:
    ``state`` lists every resulting part's identifiers and the identifiers removed; a person
    left with nothing (its one identifier forgotten) has no part, so its profile is emptied."""
    parts = {pid: sorted(state.persons[state.person_roots[pid]].members)
             for pid in effects.affected if pid not in effects.gone}
    return {**event, "event_id": f"split:{event['event_id']}", "kind": "split",
            "person_id": holder, "identifiers": [], "flags": [], "source_topic": raw_topic,
            "source_partition": raw_partition, "source_offset": raw_offset, "attributes": {},
            "state": orjson.dumps({"parts": parts, "removed": sorted(effects.removed_nodes)}
                                  ).decode(), "merged_into": None}

