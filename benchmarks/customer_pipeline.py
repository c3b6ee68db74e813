"""The customer stages end to end in one worker on the local broker: touchpoints,
conversions and CRM updates of simulated people through the inputs stage, the identity stage
(single writer) and the profile and attribution stage, into ClickHouse.

On fresh topics, the backlog of ``--people`` people (their identity-phase events, then their
conversions) is produced, then one worker is started and drains it; the run ends when every
person has its profile and every conversion its credits. Per stage, events/s between its
first and last ClickHouse insert (the rows' ingest times: ``customer_inputs``,
``customer_events``, ``customer_profiles``), and the whole backlog's events/s from the first
input row to the last profile or credit row. The run's topics and changelogs are deleted
afterwards. Merges slice ``customer_pipeline`` into benchmarks/results/latest.json.

``python -m benchmarks.customer_pipeline [--people 5000] [--no-write]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.run import drop_topics, isolated
from streams.contract.codec import AvroCodec
from streams.customer.contract import CUSTOMER_EVENTS
from streams.io import kafka_local
from streams.io.kafka_admin import create_topics, end_offsets
from streams.io.producer import produce_records
from streams.io.query import Querier
from streams.ops.demo import start_worker, stop_worker
from streams.simulators.customers import customers

RESULTS = Path(__file__).parent / "results" / "latest.json"


def _span(q: Querier, table: str, at: str) -> tuple[int, float, float]:
    """Rows of ``table`` and the first and last of their ingest times (epoch seconds)."""
    n, first, last = q.sql(f"SELECT count(), toFloat64(min({at})), toFloat64(max({at})) "
                           f"FROM {table}").rows[0]
    return int(n), float(first), float(last)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="customer-bench-"))
    settings, env = isolated(base, "customer")
    if not kafka_local.status(settings).answering:
        raise SystemExit("no broker answers on " + settings.kafka_bootstrap_servers)
    people, identity_phase, converted = customers(args.people, seed=3)
    records = [*identity_phase, *converted]
    create_topics(settings)
    worker = None
    try:
        produce_records(settings, records, encode=AvroCodec.from_settings(settings).encode)
        worker = start_worker(settings, str(base / "worker.log"), env=env)
        q = Querier(settings)
        touchpoints = sum(len(p.touchpoints) for p in people)
        deadline = time.monotonic() + args.timeout
        while True:
            live, touched = q.sql("SELECT count(), sum(touchpoints) FROM customer_profiles "
                                  "FINAL WHERE merged_into IS NULL").rows[0]
            credited = q.sql("SELECT uniqExact(conversion_id) FROM attribution_credits").rows[0][0]
            if live == args.people and touched == touchpoints and credited == sum(
                    1 for p in people for _ in p.conversions):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"not done in {args.timeout} s: {live} persons, {touched} "
                                 f"touchpoints, {credited} conversions credited")
            time.sleep(0.5)
        inputs, in_first, in_last = _span(q, "customer_inputs", "_ingested_at")
        events, id_first, id_last = _span(q, "customer_events", "_ingested_at")
        _, pr_first, pr_last = _span(q, "customer_profiles", "_updated_at")
        _, _, cr_last = _span(q, "attribution_credits", "_ingested_at")
        assert inputs == events == len(records), (inputs, events, len(records))
        profile_events = sum(end_offsets(settings, CUSTOMER_EVENTS).values())
        drained = max(pr_last, cr_last) - in_first
        figures = {
            "people": args.people, "input_events": len(records),
            "conversions": len(converted), "customer_events": profile_events,
            "drain_seconds": round(drained, 1),
            "events_per_s": round(len(records) / drained),
            "inputs_stage_events_per_s": round(inputs / max(in_last - in_first, 1e-3)),
            "identity_stage_events_per_s": round(events / max(id_last - id_first, 1e-3)),
            "profile_stage_events_per_s": round(profile_events / max(pr_last - pr_first, 1e-3)),
            "note": "one worker running all stages (and the other domains' idle agents), "
                    "embedded ClickHouse, local broker, a backlog produced before the worker "
                    "starts; a stage's rate is its events over the span of its ClickHouse "
                    "inserts, the three stages overlapping in time",
            "command": f"python -m benchmarks.customer_pipeline --people {args.people}",
        }
    finally:
        if worker is not None:
            stop_worker(worker)
        drop_topics(settings)
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    if not args.no_write:
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data.setdefault("slices", {})["customer_pipeline"] = figures
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
