"""Explaining and undoing identity links: why, path, remove (node or edge) and splits."""

from __future__ import annotations

from streams.customer import identity
from streams.customer.identity import IdentityState

JANE = ("email", "jane@mail.org")
A1 = ("anonymous_id", "a1")
A2 = ("anonymous_id", "a2")
C1 = ("customer_id", "C1")
PHONE = ("phone", "+442079460958")


def build() -> tuple[IdentityState, str, str]:
    """a1 -> jane (ev0); C1 with a2 (ev1); a2 -> jane merges them (ev2); phone with jane (ev3)."""
    state = identity.new_state()
    state, e0 = identity.apply(state, [A1, JANE], "ev0", 100)
    state, e1 = identity.apply(state, [C1, A2], "ev1", 200)
    state, e2 = identity.apply(state, [A2, JANE], "ev2", 300)
    state, _ = identity.apply(state, [JANE, PHONE], "ev3", 400)
    assert e2.merges == (identity.PersonMerged(str(e1.person_id), str(e0.person_id), "ev2"),)
    return state, str(e0.person_id), str(e1.person_id)


def test_why_lists_every_edge_with_its_rule_and_source() -> None:
    state, jane_id, _ = build()
    why = identity.why(state, C1)
    assert why is not None and why.person_id == jane_id
    assert why.identifiers == ("anonymous_id:a1", "anonymous_id:a2", "customer_id:C1", "email:jane@mail.org",
                               "phone:+442079460958")
    assert [(e.source, e.rule, e.a, e.b) for e in why.edges] == [
        ("ev0", "same_event", "anonymous_id:a1", "email:jane@mail.org"),
        ("ev1", "same_event", "anonymous_id:a2", "customer_id:C1"),
        ("ev2", "same_event", "anonymous_id:a2", "email:jane@mail.org"),
        ("ev3", "same_event", "email:jane@mail.org", "phone:+442079460958"),
    ]
    assert identity.why(state, ("email", "nobody@mail.org")) is None


def test_path_gives_the_chain_of_edges() -> None:
    state, _, _ = build()
    chain = identity.path(state, A1, C1)
    assert chain is not None and [e.source for e in chain] == ["ev0", "ev2", "ev1"]
    state, _ = identity.apply(state, [("email", "other@mail.org")], "ev9", 900)
    assert identity.path(state, A1, ("email", "other@mail.org")) is None


def test_removing_the_bridging_edge_splits_and_the_older_anchor_keeps_the_id() -> None:
    state, jane_id, c1_id = build()
    others = identity.to_dict(state)
    state, eff = identity.remove(state, (A2, JANE))
    assert eff.removed_edges == (("anonymous_id:a2", "email:jane@mail.org"),)
    assert eff.kept == jane_id and eff.affected == (jane_id, eff.new_persons[0])
    assert identity.person_of(state, JANE) == jane_id
    assert identity.person_of(state, A1) == jane_id
    (new_id,) = eff.new_persons
    assert identity.person_of(state, C1) == identity.person_of(state, A2) == new_id
    # the split-off part is anchored where the merged-away person was: it gets that id back
    assert new_id == c1_id
    assert len(others["persons"]) == 1 and len(state.persons) == 2


def test_removing_a_redundant_edge_keeps_the_person() -> None:
    state, jane_id, _ = build()
    state, _ = identity.apply(state, [C1, JANE], "ev4", 500)  # a second path between the halves
    state, eff = identity.remove(state, (A2, JANE))
    assert eff.removed_edges and eff.new_persons == () and eff.affected == ()
    assert identity.person_of(state, C1) == jane_id


def test_removing_an_identifier_splits_around_it() -> None:
    state, jane_id, _ = build()
    state, eff = identity.remove(state, JANE)  # the hub: a1, the C1 part and the phone fall apart
    assert eff.removed_nodes == ("email:jane@mail.org",)
    assert len(eff.removed_edges) == 3
    assert identity.person_of(state, JANE) is None
    assert identity.person_of(state, A1) == jane_id  # a1 is the oldest node left
    ids = {identity.person_of(state, x) for x in (A1, C1, A2, PHONE)}
    assert len(ids) == 3 and set(eff.affected) == ids and eff.kept == jane_id
    assert identity.person_of(state, C1) == identity.person_of(state, A2)
    assert not any("jane" in a or "jane" in b for a, b in state.edges)


def test_removing_the_last_identifier_ends_the_person() -> None:
    state = identity.new_state()
    state, e = identity.apply(state, [A1], "ev0", 1)
    state, eff = identity.remove(state, A1)
    assert eff.gone == (e.person_id,) and state.persons == {} and state.nodes == {}


def test_unknown_targets_are_a_no_op() -> None:
    state, _, _ = build()
    before = identity.to_dict(state)
    assert identity.remove(state, ("email", "nobody@mail.org"))[1] == identity.RemoveEffects()
    assert identity.remove(state, (A1, C1))[1] == identity.RemoveEffects()  # joined, but no direct edge
    assert identity.to_dict(state) == before


def test_split_touches_only_the_affected_person() -> None:
    state, _, _ = build()
    state, bystander = identity.apply(state, [("email", "bob@mail.org"), ("anonymous_id", "b1")], "ev5", 600)
    bob = state.persons[state.person_roots[str(bystander.person_id)]]
    state, _ = identity.remove(state, (A2, JANE))
    assert state.persons[state.person_roots[str(bystander.person_id)]] is bob


def test_relinking_after_a_split_merges_back_into_the_older_id() -> None:
    state, jane_id, c1_id = build()
    state, _ = identity.remove(state, (A2, JANE))
    state, again = identity.apply(state, [A2, JANE], "ev6", 700)
    assert again.merges == (identity.PersonMerged(c1_id, jane_id, "ev6"),)


def test_split_state_survives_serialisation() -> None:
    state, _, _ = build()
    state, _ = identity.remove(state, JANE)
    assert identity.to_dict(identity.from_dict(identity.to_dict(state))) == identity.to_dict(state)
