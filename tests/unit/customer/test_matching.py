"""Probabilistic matching: comparison levels, EM without labels, FEBRL quality, graph edges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.identity_quality import evaluate, found_pairs, load, merge_results
from streams.customer import identity, matching
from streams.customer.matching import MatchingPolicy, ProfileRecord
from streams.customer.matching_model import em, estimate_u, fit

FAST = MatchingPolicy(random_pairs=20_000)


def jane(record_id: str, **changes: str | None) -> ProfileRecord:
    fields: dict[str, str | None] = {
        "first_name": "Jane", "last_name": "Mitchell", "street": "7 wallaby place", "locality": "delmar",
        "postcode": "2119", "region": "sa", "date_of_birth": "1956-04-09", "phone": "+61 2 9876 5432"}
    fields.update(changes)
    return ProfileRecord(record_id, **fields)


def test_comparison_levels() -> None:
    records = [jane("a"), jane("b", first_name="Jaen", date_of_birth="19560419", phone="(02) 9876 5432",
                                postcode=None),
               jane("c", first_name="Bob", last_name="Smith", phone="+61 3 1111 2222")]
    frame = matching.records_frame(records)
    pairs = matching.candidate_pairs(frame, MatchingPolicy(neighbourhood_window=1,
                                                           blocking=(("region",),)))
    levels = dict(zip([tuple(p) for p in pairs], matching.compare(frame, pairs), strict=True))
    ab = levels[("b", "a")] if ("b", "a") in levels else levels[("a", "b")]
    by_field = dict(zip(matching.FIELDS, ab.tolist(), strict=True))
    assert by_field["last_name"] == 2 and by_field["street"] == 2 and by_field["region"] == 2
    assert by_field["first_name"] == 1  # a transposition: partial agreement
    assert by_field["date_of_birth"] == 1  # one digit off
    assert by_field["postcode"] == -1  # missing on one side: no evidence
    assert by_field["phone"] == 1  # the trailing digits agree, the country prefix does not
    ac = levels[("c", "a")] if ("c", "a") in levels else levels[("a", "c")]
    assert dict(zip(matching.FIELDS, ac.tolist(), strict=True))["first_name"] == 0


def test_blocking_drops_oversized_blocks() -> None:
    records = [jane(str(i), first_name=f"n{i}", last_name=f"s{i}", date_of_birth=None) for i in range(30)]
    frame = matching.records_frame(records)
    wide = matching.candidate_pairs(frame, MatchingPolicy(blocking=(("postcode",),), neighbourhood_window=1))
    capped = matching.candidate_pairs(frame, MatchingPolicy(blocking=(("postcode",),), neighbourhood_window=1,
                                                            max_block_size=10))
    assert len(wide) == 30 * 29 // 2 and len(capped) == 0


def test_em_recovers_the_generating_model() -> None:
    rng = np.random.default_rng(1)
    m = np.array([[0.05, 0.15, 0.80], [0.10, 0.10, 0.80], [0.02, 0.08, 0.90], [0.10, 0.20, 0.70]])
    u = np.array([[0.85, 0.10, 0.05], [0.90, 0.07, 0.03], [0.70, 0.20, 0.10], [0.60, 0.30, 0.10]])
    n, share = 20_000, 0.3
    is_match = rng.random(n) < share
    levels = np.empty((n, 4), dtype=np.int8)
    for j in range(4):
        levels[:, j] = np.where(is_match, rng.choice(3, n, p=m[j]), rng.choice(3, n, p=u[j]))
    m_hat, u_hat, share_hat, _ = em(levels)
    assert abs(share_hat - share) < 0.02
    assert np.abs(m_hat - m).max() < 0.03 and np.abs(u_hat - u).max() < 0.03


def test_u_from_random_pairs_and_weights() -> None:
    u = estimate_u(np.array([[0, -1], [0, 2], [1, 2], [0, 2]], dtype=np.int8))
    assert u[0, 0] == pytest.approx(3.5 / 5.5) and u[1, 2] == pytest.approx(3.5 / 4.5)
    model = fit(("f", "g"), np.array([[2, 2]] * 50 + [[0, 0]] * 50, dtype=np.int8),
                np.array([[0, 0]] * 99 + [[2, 2]], dtype=np.int8), n_records=1000)
    weights = model.field_weights(np.array([[2, -1], [0, 0]], dtype=np.int8))
    assert weights[0, 0] > 3 and weights[0, 1] == 0.0 and (weights[1] < 0).all()
    assert 0 < model.prior < 0.01


def test_link_keeps_per_field_weights_and_matches_near_duplicates() -> None:
    others = [jane(f"o{i}", first_name=name, last_name=surname, street=f"{i} other road",
                   postcode=f"30{i:02d}", date_of_birth=f"19{60 + i}0{1 + i % 9}1{i % 10}", phone=None,
                   locality=f"town{i}")
              for i, (name, surname) in enumerate([("Bob", "Smith"), ("Ann", "Lee"), ("Raj", "Patel"),
                                                   ("Li", "Wong"), ("Tom", "Brown"), ("Eva", "Green")] * 4)]
    records = [jane("a"), jane("b", first_name="Jaen", phone=None), *others]
    _, matches = matching.link(records, MatchingPolicy(random_pairs=5_000, threshold=0.5))
    pairs = {(m.left, m.right) for m in matches}
    assert ("a", "b") in pairs
    ab = next(m for m in matches if (m.left, m.right) == ("a", "b"))
    weights = dict(ab.field_weights)
    assert "phone" not in weights  # missing on one side
    assert sum(weights.values()) == pytest.approx(ab.weight, abs=1e-3)
    assert weights["last_name"] > 0 and ab.probability >= 0.5


def test_matches_become_probabilistic_edges_with_weights() -> None:
    match = matching.Match("crm:1", "lead:9", 31.5, 0.999, (("first_name", 6.5), ("last_name", 25.0)))
    state, (effect,) = matching.apply_matches(identity.new_state(), [match], at=10)
    assert effect.person_id is not None
    why = identity.why(state, ("record_id", "crm:1"))
    assert why is not None
    (edge,) = why.edges
    assert edge.rule == "probabilistic" and edge.source == "match:crm:1|lead:9"
    assert dict(edge.weights or ()) == {"first_name": 6.5, "last_name": 25.0, "total": 31.5}
    # a match is undone like any edge
    state, eff = identity.remove(state, (("record_id", "crm:1"), ("record_id", "lead:9")))
    assert len(eff.new_persons) == 1


def test_a_match_never_joins_two_customers() -> None:
    state = identity.new_state()
    state, _ = identity.apply(state, [("customer_id", "1"), ("record_id", "crm:1")], "crm", 1)
    state, _ = identity.apply(state, [("customer_id", "2"), ("record_id", "crm:2")], "crm", 2)
    match = matching.Match("crm:1", "crm:2", 40.0, 0.9999, (("last_name", 8.0),))
    state, (effect,) = matching.apply_matches(state, [match], at=3)
    assert [r.reason for r in effect.refusals] == ["customer_id_conflict"]
    assert len(state.persons) == 2


def test_profile_from_crm() -> None:
    record = matching.profile_from_crm({
        "customer_id": "C7", "first_name": "Jane", "last_name": "Mitchell", "phone": "+61298765432",
        "country": "AU", "attributes": {"street": "7 Wallaby Pl", "city": "Delmar", "zip": "2119",
                                        "dob": "1956-04-09"}})
    assert record == ProfileRecord("crm:C7", "Jane", "Mitchell", "7 Wallaby Pl", "Delmar", "2119", "AU",
                                   "1956-04-09", "+61298765432")


def test_duplicate_record_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        matching.records_frame([jane("a"), jane("a")])


@pytest.mark.parametrize(("name", "subset", "precision", "recall"), [
    ("febrl1", None, 0.99, 0.95),
    ("febrl3", 2000, 0.98, 0.95),
])
def test_febrl_quality_floors(name: str, subset: int | None, precision: float, recall: float) -> None:
    records, true = load(name)
    if subset is not None:  # the first records by id and the true pairs among them
        records = sorted(records, key=lambda r: r.record_id)[:subset]
        kept = {r.record_id for r in records}
        true = {p for p in true if p[0] in kept and p[1] in kept}
    q = evaluate(records, true, FAST)
    assert q["precision"] >= precision and q["recall"] >= recall, q


def test_found_pairs_are_the_transitive_closure() -> None:
    matches = [matching.Match("r1", "r2", 20.0, 0.99, ()), matching.Match("r2", "r3", 20.0, 0.99, ())]
    state, _ = matching.apply_matches(identity.new_state(), matches, at=0)
    assert found_pairs(state) == {("r1", "r2"), ("r1", "r3"), ("r2", "r3")}


def test_results_merge_keeps_every_other_key(tmp_path: Path) -> None:
    path = tmp_path / "latest.json"
    path.write_text(json.dumps({"slices": {"chat": {"events_per_s": 1}}, "quality": {"other": {"x": 1}}}))
    merge_results({"febrl1": {"precision": 1.0}}, {"apply_events_per_s": 5}, path)
    data = json.loads(path.read_text())
    assert data == {"slices": {"chat": {"events_per_s": 1}, "identity_apply": {"apply_events_per_s": 5}},
                    "quality": {"other": {"x": 1}, "identity": {"febrl1": {"precision": 1.0}}}}
