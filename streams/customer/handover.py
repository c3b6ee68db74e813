"""What a person's partition does with a record decided before the person last changed.

The profile stage reads, on one person's partition of ``customer.events``, records of two
producers: the identity stage (the person's events, merge and split notices, in the graph's
order) and the profile stage itself, on other partitions (a split's ``detached`` parts, a
merge's ``absorbed`` profile, an event forwarded from a person merged away). Kafka orders
each producer's records, not the two together, so a record of the second kind may arrive
after a split or a merge of its person that was decided later.

Positions. Every graph change has an offset on ``identity.observations`` (one partition,
read in order), so offsets order decisions. A record of the second kind carries the position
as of which its destination was decided (``position``): a ``detached`` part the offset of the
split that made it, an ``absorbed`` profile the offset of the merge it hands over, a
forwarded event (in ``state``, ``FORWARDED``) the offset of the last merge or split that sent
it on. A person keeps its last splits (``splits``: offset and parts) and, once merged away,
the offset of that merge (``merged_at``).

Invariants (each final part ends with exactly what its identifiers brought):
- a record is divided by every split of its person later than its position, in order, as
  the split would have divided it had the record arrived first: each share goes to the part
  holding its strongest remaining identifier, a share of forgotten identifiers to no one;
- a record for a person merged away at a later position goes on to the survivor, with the
  merge's position (so only the survivor's splits after that merge divide it);
- a record never lands twice: a forwarded event already seen is dropped, and every share is
  sent under an id unique to (split, record, part), which the receiver folds once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from streams.customer import contract as names
from streams.customer import profile as fold
from streams.customer import split_events
from streams.kernel.records import OutputRecord

#: ``state`` of a forwarded event: {"forwarded": {"topic": ..., "offset": ...}}
FORWARDED: Final = "forwarded"
#: an attribute of a ``detached`` part that the receiver attributes again
REATTRIBUTE: Final = "reattribute"

Position = tuple[str, int]


def merged_at(event: Mapping[str, Any]) -> dict[str, Any]:
    """The position a merge notice records on the retired person."""
    return {"topic": event["source_topic"], "offset": event["source_offset"]}


def position(event: Mapping[str, Any]) -> Position | None:
    """The position a record was decided at; None for the identity stage's own events, which
    arrive in the graph's order."""
    kind = event["kind"]
    if kind in ("detached", "absorbed"):
        return event["source_topic"], event["source_offset"]
    state = event["state"]
    if not state or kind not in ("touchpoint", "conversion", "profile"):
        return None
    at = orjson.loads(state).get(FORWARDED)
    return None if at is None else (str(at["topic"]), int(at["offset"]))


def later_splits(profile: Mapping[str, Any], at: Position) -> list[dict[str, Any]]:
    """The splits of ``profile``'s person decided after ``at``, in order."""
    return [s for s in profile.get("splits", ()) if s["topic"] == at[0] and s["offset"] > at[1]]


def merged_later(profile: Mapping[str, Any], at: Position) -> bool:
    """``profile``'s person was merged away after ``at`` (a record for it goes on)."""
    merge = profile.get("merged_at")
    return (profile["merged_into"] is not None and merge is not None
            and merge["topic"] == at[0] and merge["offset"] > at[1])


def forward(event: Mapping[str, Any], person: str, at: Mapping[str, Any] | None
            ) -> OutputRecord:
    """An event sent on to ``person``, with the position (``at``) that sent it (None: a
    person retired before positions were kept; the event goes on as it is)."""
    if at is None:
        value = {**event, "person_id": person}
    elif event["kind"] in ("detached", "absorbed"):
        value = {**event, "person_id": person, "source_topic": at["topic"],
                 "source_offset": at["offset"]}
    else:
        value = {**event, "person_id": person, "state": orjson.dumps(
            {FORWARDED: {"topic": at["topic"], "offset": at["offset"]}}).decode()}
    return OutputRecord(names.CUSTOMER_EVENTS, person, value)


def route(event: Mapping[str, Any], later: Sequence[Mapping[str, Any]], holder: str
          ) -> tuple[str, Mapping[str, Any]] | None:
    """Where the later splits of ``holder`` send one event: None when it stays with the
    holder, else (the part's person, '' when its identifiers were all forgotten; the split)."""
    ids = fold.event_ids(event)
    for split in later:
        part_of = {n: pid for pid, nodes in split["parts"].items() for n in nodes}
        person = split_events.owner(ids, part_of)
        if person != holder:
            return person, split
    return None


def divide(share: fold.Profile, later: Sequence[Mapping[str, Any]], holder: str,
           event: Mapping[str, Any], policy: fold.ProfilePolicy
           ) -> tuple[fold.Profile | None, list[tuple[str, fold.Profile, OutputRecord]]]:
    """``share`` (a handed-over profile) divided by the ``later`` splits of ``holder``: what
    the holder keeps (None when nothing) and, per other part, its share and the ``detached``
    record (attributed again by its receiver) that carries it."""
    name = share["person_id"]
    sent: list[tuple[str, fold.Profile, OutputRecord]] = []
    kept: fold.Profile | None = share
    for split in later:
        assert kept is not None
        parts = fold.rebuild(kept, split["parts"], holder, policy)
        for person, part in sorted(parts.items()):
            if person == holder:
                continue
            sent.append((person, part, OutputRecord(names.CUSTOMER_EVENTS, person, {
                **event, "event_id": f"detach:{split['offset']}:{event['event_id']}:{person}",
                "kind": "detached", "person_id": person, "merged_into": None,
                "source_topic": split["topic"], "source_offset": split["offset"],
                "attributes": {REATTRIBUTE: "true"}, "state": orjson.dumps(part).decode()})))
        kept = parts.get(holder)
        if kept is None:
            break
        kept["person_id"] = name  # folded once, under the id it was handed over as
    return kept, sent
