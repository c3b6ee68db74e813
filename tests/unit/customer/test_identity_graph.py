"""The identity graph fold: links, merges with stable ids, guard rails, determinism, serialisation."""

from __future__ import annotations

import json
import random

from streams.customer import identity
from streams.customer.identity import IdentityPolicy, IdentityState

Ev = list[tuple[str, str]]


def run(events: list[Ev], policy: IdentityPolicy = identity.DEFAULT_POLICY) -> tuple[
        IdentityState, list[identity.ApplyEffects]]:
    state = identity.new_state()
    effects = []
    for i, ids in enumerate(events):
        state, eff = identity.apply(state, ids, f"ev{i}", 1000 + i, policy=policy)
        effects.append(eff)
    return state, effects


def test_identifiers_seen_together_become_one_person() -> None:
    state, (e1, e2) = run([[("anonymous_id", "a1"), ("email", "jane@mail.org")],
                           [("email", "jane@mail.org"), ("phone", "+442079460958")]])
    assert e1.created == (e1.person_id,) and e1.person_id is not None
    assert [(link.a, link.b, link.rule) for link in e1.links] == [
        ("anonymous_id:a1", "email:jane@mail.org", "same_event")]
    assert e2.person_id == e1.person_id and e2.created == () and e2.merges == ()
    assert identity.members(state, e1.person_id) == (
        "anonymous_id:a1", "email:jane@mail.org", "phone:+442079460958")


def test_merge_keeps_the_older_persons_id() -> None:
    state, (old, young, bridge) = run([[("anonymous_id", "a1")], [("email", "jane@mail.org")],
                                       [("email", "jane@mail.org"), ("anonymous_id", "a1")]])
    assert old.person_id != young.person_id
    assert bridge.merges == (identity.PersonMerged(str(young.person_id), str(old.person_id), "ev2"),)
    # the event attaches to its strongest identifier (the email), now in the older person
    assert bridge.person_id == old.person_id
    assert identity.person_of(state, ("email", "jane@mail.org")) == old.person_id
    assert len(state.persons) == 1


def test_a_new_strongest_identifier_joins_the_existing_person_without_a_new_id() -> None:
    _, (first, second) = run([[("anonymous_id", "a1")], [("customer_id", "C1"), ("anonymous_id", "a1")]])
    assert second.person_id == first.person_id and second.created == () and second.merges == ()


def test_never_merge_two_persons_with_different_customer_ids() -> None:
    state, effects = run([[("customer_id", "C1"), ("email", "shared@family.org")],
                          [("customer_id", "C2"), ("anonymous_id", "a2")],
                          [("anonymous_id", "a2"), ("email", "shared@family.org")]])
    refused = effects[2].refusals
    # the email is the stronger identifier: the event attaches to its person (C1's) and the
    # anonymous id, already C2's, is refused
    assert [(r.identifier, r.person, r.into_person, r.reason) for r in refused] == [
        ("anonymous_id:a2", effects[1].person_id, effects[0].person_id, "customer_id_conflict")]
    assert effects[2].person_id == effects[0].person_id
    assert identity.person_of(state, ("anonymous_id", "a2")) == effects[1].person_id
    assert len(state.persons) == 2 and effects[2].links == ()


def test_a_new_customer_id_with_another_customers_email_gets_its_own_person() -> None:
    state, (first, eff) = run([[("customer_id", "C1"), ("email", "jane@mail.org")],
                               [("email", "jane@mail.org"), ("customer_id", "C2")]])
    assert [(r.identifier, r.person, r.reason) for r in eff.refusals] == [
        ("email:jane@mail.org", first.person_id, "customer_id_conflict")]
    assert eff.created == (eff.person_id,) and eff.person_id != first.person_id
    assert identity.members(state, str(eff.person_id)) == ("customer_id:C2",)
    assert identity.person_of(state, ("email", "jane@mail.org")) == first.person_id


def test_per_kind_limit_on_new_identifiers() -> None:
    policy = IdentityPolicy(max_emails=2)
    state, effects = run([[("customer_id", "C1"), ("email", f"e{i}@mail.org")] for i in range(3)], policy)
    assert effects[2].refusals[0].reason == "limit:email"
    assert effects[2].person_id == effects[0].person_id
    assert sum(k.startswith("email:") for k in identity.members(state, str(effects[0].person_id))) == 2


def test_per_kind_limit_on_merging_persons() -> None:
    policy = IdentityPolicy(max_anonymous_ids=3)
    events: list[Ev] = [[("email", "a@mail.org"), ("anonymous_id", "x1"), ("anonymous_id", "x2")],
                        [("email", "b@mail.org"), ("anonymous_id", "y1"), ("anonymous_id", "y2")],
                        [("email", "a@mail.org"), ("email", "b@mail.org")]]
    state, effects = run(events, policy)
    assert [r.reason for r in effects[2].refusals] == ["limit:anonymous_id"]
    assert len(state.persons) == 2


def test_maximum_component_size() -> None:
    policy = IdentityPolicy(max_component_size=3)
    state, effects = run([[("email", "a@mail.org"), ("anonymous_id", "x1"), ("anonymous_id", "x2"),
                           ("anonymous_id", "x3")]], policy)
    assert [r.reason for r in effects[0].refusals] == ["max_component_size"]
    assert len(identity.members(state, str(effects[0].person_id))) == 3


def test_blank_events_attach_to_nobody() -> None:
    state, effects = run([[]])
    assert effects[0] == identity.ApplyEffects(None) and state.nodes == {}


def test_same_calls_give_the_same_ids_and_state() -> None:
    events: list[Ev] = [[("anonymous_id", f"a{i % 7}"), ("email", f"p{i % 5}@mail.org")] for i in range(30)]
    assert identity.to_dict(run(events)[0]) == identity.to_dict(run(events)[0])


def _random_events(rng: random.Random, n: int) -> list[Ev]:
    kinds = ("anonymous_id", "email", "phone", "device_id")
    return [[(rng.choice(kinds), str(rng.randrange(40))) for _ in range(rng.randint(1, 3))] for _ in range(n)]


def test_partition_does_not_depend_on_arrival_order() -> None:
    rng = random.Random(5)
    roomy = IdentityPolicy(max_emails=1000, max_phones=1000, max_anonymous_ids=1000, max_device_ids=1000,
                           max_component_size=10_000)
    for _ in range(25):
        events = _random_events(rng, rng.randint(5, 60))
        reference = identity.partition(run(events, roomy)[0])
        for _ in range(4):
            shuffled = events[:]
            rng.shuffle(shuffled)
            state, effects = run(shuffled, roomy)
            assert not any(e.refusals for e in effects)
            assert identity.partition(state) == reference


def test_refusals_are_order_dependent_only_through_the_guard_rails() -> None:
    # Fires a guard rail: depending on order either person keeps the email, but never both.
    events: list[Ev] = [[("customer_id", "C1"), ("email", "x@mail.org")],
                        [("customer_id", "C2"), ("email", "x@mail.org")]]
    for order in (events, events[::-1]):
        state, effects = run(order)
        assert len(state.persons) == 2
        assert sum(len(e.refusals) for e in effects) == 1


def test_serialisation_round_trip_and_continuation() -> None:
    rng = random.Random(9)
    events = _random_events(rng, 80)
    state, _ = run(events[:60])
    doc = json.loads(json.dumps(identity.to_dict(state)))
    restored = identity.from_dict(doc)
    assert identity.to_dict(restored) == identity.to_dict(state)
    copy = identity.copy_state(state)
    for i, ids in enumerate(events[60:]):
        state, a = identity.apply(state, ids, f"x{i}", 5000 + i)
        restored, b = identity.apply(restored, ids, f"x{i}", 5000 + i)
        assert a == b
    assert identity.to_dict(restored) == identity.to_dict(state)
    assert identity.to_dict(copy) == doc  # the copy did not move with the state


def test_person_counts_and_roots_stay_consistent() -> None:
    rng = random.Random(3)
    state, _ = run(_random_events(rng, 200), IdentityPolicy(max_emails=3, max_anonymous_ids=4))
    for root, person in state.persons.items():
        assert state.person_roots[person.person_id] == root
        assert all(identity_root(state, k) == root for k in person.members)
        kinds = [k.split(":", 1)[0] for k in person.members]
        assert person.counts == {k: kinds.count(k) for k in set(kinds)}
        assert person.counts.get("email", 0) <= 3 and person.counts.get("anonymous_id", 0) <= 4
        assert person.anchor == min(person.members, key=lambda k: state.nodes[k][1])
    for a, b in state.edges:
        assert identity_root(state, a) == identity_root(state, b)


def identity_root(state: IdentityState, key: str) -> str:
    from streams.customer.identity_state import find
    return find(state.parent, key)


def test_observe_normalises_and_never_merges_on_flagged_values() -> None:
    state = identity.new_state()
    state, first, _ = identity.observe(state, {"email": " Jane@Mail.org ", "anonymous_id": "a1"}, "ev0", 1)
    # a shared inbox and a placeholder phone are kept on the record but do not link b1 to anyone
    state, second, seen = identity.observe(
        state, {"email": "info@mail.org", "phone": "0000000000", "anonymous_id": "b1"}, "ev1", 2)
    assert [(n.kind, n.status) for n in seen] == [("email", "blocked"), ("phone", "blocked"),
                                                   ("anonymous_id", "ok")]
    assert identity.members(state, str(second.person_id)) == ("anonymous_id:b1",)
    state, third, _ = identity.observe(state, {"email": "JANE@mail.org", "anonymous_id": "b1"}, "ev2", 3)
    assert third.person_id == first.person_id
    assert third.merges == (identity.PersonMerged(str(second.person_id), str(first.person_id), "ev2"),)


def test_refusals_name_the_person_the_event_finally_attached_to() -> None:
    # The new email is home; the phone's person (with an email) is refused by the limit; the
    # anonymous id's person (no email) takes the new email in, so the event ends up there.
    policy = IdentityPolicy(max_emails=1)
    state, effects = run([[("email", "old@mail.org"), ("phone", "+442079460958")],
                          [("anonymous_id", "a1")],
                          [("email", "new@mail.org"), ("phone", "+442079460958"), ("anonymous_id", "a1")]],
                         policy)
    assert effects[2].person_id == effects[1].person_id and effects[2].created == ()
    assert [(r.identifier, r.person, r.into_person, r.reason) for r in effects[2].refusals] == [
        ("phone:+442079460958", effects[0].person_id, effects[1].person_id, "limit:email")]
    assert identity.person_of(state, ("email", "new@mail.org")) == effects[1].person_id
