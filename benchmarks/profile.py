"""The JSON customer profile with a million events in the embedded engine: p50 and p99.

Run: ``python -m benchmarks.profile [--events 1000000] [--lookups 300]``. Builds a fresh
embedded store (a temporary directory, removed afterwards), migrated, with a seeded
population as the customer domain writes it: ``customer_events`` (touchpoints, conversions
and CRM updates of 100,000 persons, about 10 each, over six months, inserted in batches of
50,000 as the sink does), their ``customer_profiles`` (an older version of a third of them
in a separate insert, so FINAL has versions to collapse; 5 % of the persons merged into
another one, the survivor holding their identifiers), ``customer_scores`` for half of them
and CRM tasks for some customer ids. Then it times ``profile_queries.profile`` - the function
``GET /customers/{identifier}`` runs, through the same read-only session - for ``--lookups``
identifiers drawn at random (emails typed in upper case, phones with spaces, customer,
anonymous and device ids, person ids, identifiers of merged persons), after 20 warm-up calls,
and a page of the timeline for each. Merges slice ``profile`` into
benchmarks/results/latest.json: ``p50_ms``, ``p99_ms`` (goal: 150 ms), ``events_in_store``,
the process CPU per profile (``cpu_ms_*``: its cost whatever else the machine runs), the
timeline's figures, the load time, whether the planner read the projection, and the
machine's load average while it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from streams.customer import profile_queries as pq
from streams.io.clickhouse import ClickHouse
from streams.io.migrate import migrate
from streams.io.readonly import ReadOnlyQueries

RESULTS = Path(__file__).parent / "results" / "latest.json"
START_MS = 1_767_225_600_000  # 2026-01-01
SPAN_MS = 180 * 86_400_000
CHANNELS = ("paid_search", "paid_social", "display", "email", "organic_search", "direct",
            "referral", "chat")
BATCH = 50_000
SEED = 360


def _person(rng: random.Random, i: int) -> dict[str, Any]:
    ids = [f"email:user{i}@mail{i % 13}.net",
           f"phone:+1212{200 + i % 800:03d}{i % 10_000:04d}"]
    if rng.random() < 0.6:
        ids.append(f"customer_id:cus_{i:07d}")
    for _ in range(rng.randint(1, 3)):
        ids.append(f"anonymous_id:anon_{rng.getrandbits(48):012x}")
        ids.append(f"device_id:dev_{rng.getrandbits(48):012x}")
    return {"person_id": f"p_{i:08d}", "identifiers": sorted(ids), "merged_into": None}


def population(n_events: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[int]]:
    """Persons (5 % merged into the next one) and how many events each has."""
    n_persons = max(10, n_events // 10)
    persons = [_person(rng, i) for i in range(n_persons)]
    for i in range(0, n_persons - 1, 20):  # every 20th merged into its neighbour
        persons[i]["merged_into"] = persons[i + 1]["person_id"]
        persons[i + 1]["identifiers"] = sorted(
            set(persons[i + 1]["identifiers"]) | set(persons[i]["identifiers"]))
    counts = [1] * n_persons
    for _ in range(n_events - n_persons):  # skewed: the first persons have thousands
        counts[int(n_persons * rng.random() ** 2)] += 1
    return persons, counts


def _events(persons: list[dict[str, Any]], counts: list[int], rng: random.Random
            ) -> list[dict[str, list[Any]]]:
    batches: list[dict[str, list[Any]]] = []
    cols: dict[str, list[Any]] = {}
    n = 0

    def flush() -> None:
        nonlocal cols
        if cols:
            batches.append(cols)
        cols = {}

    # a person's events are far apart in the table's key (event ids are random, as the
    # producers' are) and arrive interleaved with everyone else's
    for person, count in zip(persons, counts, strict=True):
        pid, ids = person["person_id"], person["identifiers"]
        for _ in range(count):
            if not cols:
                cols = {k: [] for k in (
                    "person_id", "event_id", "kind", "occurred_at", "type", "channel",
                    "campaign_id", "value", "currency", "identifiers", "flags", "attributes",
                    "source_topic", "source_partition", "source_offset", "_topic",
                    "_partition", "_offset", "_kafka_ts", "_version")}
            r = rng.random()
            kind = "touchpoint" if r < 0.85 else "conversion" if r < 0.95 else "profile"
            at = START_MS + rng.randrange(SPAN_MS)
            channel = rng.choice(CHANNELS) if kind == "touchpoint" else None
            for name, value in (
                    ("person_id", pid), ("event_id", f"ev_{rng.getrandbits(64):016x}"), ("kind", kind),
                    ("occurred_at", at), ("type", "purchase" if kind == "conversion" else
                                          "click"),
                    ("channel", channel), ("campaign_id", f"cmp_{rng.randrange(50)}"
                                           if channel else None),
                    ("value", round(rng.uniform(5, 500), 2) if kind == "conversion" else None),
                    ("currency", "USD" if kind == "conversion" else None),
                    ("identifiers", rng.sample(ids, min(2, len(ids)))), ("flags", []),
                    ("attributes", {"utm_source": "newsletter"} if channel == "email" else {}),
                    ("source_topic", "touchpoints"), ("source_partition", n % 6),
                    ("source_offset", n), ("_topic", "identity.observations"),
                    ("_partition", 0), ("_offset", n), ("_kafka_ts", at), ("_version", n)):
                cols[name].append(value)
            n += 1
            if len(cols["event_id"]) >= BATCH:
                flush()
    flush()
    return batches


def _profiles(persons: list[dict[str, Any]], counts: list[int], rng: random.Random,
              older: bool) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {k: [] for k in (
        "person_id", "version", "updated_at", "first_seen", "last_seen", "identifiers",
        "attributes", "tags", "lifecycle_stage", "channels", "touchpoints", "conversions",
        "revenue_currencies", "revenue_amounts", "score_names", "score_values", "merged_into",
        "_topic", "_partition", "_offset", "_version")}
    for i, (p, count) in enumerate(zip(persons, counts, strict=True)):
        if older and i % 3:
            continue
        merged = p["merged_into"] if not older else None
        ids = [] if merged else p["identifiers"][: 2 if older else None]
        version = 1 if older else count + 1
        for name, value in (
                ("person_id", p["person_id"]), ("version", version),
                ("updated_at", START_MS + SPAN_MS), ("first_seen", START_MS),
                ("last_seen", START_MS + SPAN_MS), ("identifiers", ids),
                ("attributes", {"first_name": "Ann", "segment": rng.choice(("retail", "b2b"))}),
                ("tags", ["simulated"]), ("lifecycle_stage", rng.choice(("known", "customer"))),
                ("channels", rng.sample(CHANNELS, 3)), ("touchpoints", count),
                ("conversions", count // 10), ("revenue_currencies", ["USD"]),
                ("revenue_amounts", [round(rng.uniform(0, 900), 2)]), ("score_names", []),
                ("score_values", []), ("merged_into", merged), ("_topic", "customer.events"),
                ("_partition", i % 6), ("_offset", i), ("_version", version)):
            cols[name].append(value)
    return cols


def load(ch: ClickHouse, n_events: int, rng: random.Random) -> list[dict[str, Any]]:
    persons, counts = population(n_events, rng)
    for batch in _events(persons, counts, rng):
        ch.insert("customer_events", batch)
    ch.insert("customer_profiles", _profiles(persons, counts, rng, older=True))
    ch.insert("customer_profiles", _profiles(persons, counts, rng, older=False))
    scored = [p["person_id"] for p in persons[::2] if p["merged_into"] is None]
    kinds = ("lead", "churn", "clv", "next_best_action")
    ch.insert("customer_scores", {
        "person_id": [p for p in scored for _ in kinds], "kind": list(kinds) * len(scored),
        "score": [round(rng.uniform(0, 100), 1) for _ in kinds for _ in scored],
        "probability": [None] * (4 * len(scored)), "label": ["x"] * (4 * len(scored)),
        "reasons": [["recent visits", "email clicks"]] * (4 * len(scored)),
        "details": [{"potential_value": "500"}] * (4 * len(scored)),
        "model_version": ["rules-v1"] * (4 * len(scored)),
        "profile_version": [1] * (4 * len(scored)), "scored_at": [START_MS] * (4 * len(scored)),
        "_topic": ["customer.profiles"] * (4 * len(scored)), "_partition": [0] * (4 * len(scored)),
        "_offset": list(range(4 * len(scored))), "_version": [1] * (4 * len(scored))})
    customers = [i.split(":", 1)[1] for p in persons[::10] for i in p["identifiers"]
                 if i.startswith("customer_id:")]
    ch.insert("crm_tasks", {
        "task_id": [f"task_{c}" for c in customers], "task_type": ["follow_up"] * len(customers),
        "conversation_id": [f"conv_{c}" for c in customers], "customer_id": customers,
        "team": ["support"] * len(customers), "priority": ["normal"] * len(customers),
        "title": ["Follow up"] * len(customers), "description": [""] * len(customers),
        "due_at": [START_MS + SPAN_MS] * len(customers),
        "created_at": [START_MS + rng.randrange(SPAN_MS) for _ in customers],
        "status": ["open"] * len(customers), "reasons": [[]] * len(customers),
        "escalation_id": [""] * len(customers), "_version": [1] * len(customers)})
    return persons


def typed(identifier: str, rng: random.Random) -> str:
    """An identifier as someone would type it in a URL."""
    kind, _, value = identifier.partition(":")
    if kind == "email" and rng.random() < 0.5:
        return value.upper()
    if kind == "phone":
        return f"{value[:2]} {value[2:5]} {value[5:8]}-{value[8:]}"
    return value


def _ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def measure(n_events: int, lookups: int) -> dict[str, Any]:
    rng = random.Random(SEED)
    directory = Path(tempfile.mkdtemp(prefix="touchstream-profile-"))
    ch = ClickHouse(f"chdb://{directory / 'clickhouse'}")
    try:
        migrate(ch)
        started = time.perf_counter()
        persons = load(ch, n_events, rng)
        load_s = time.perf_counter() - started
        readonly = ReadOnlyQueries(ch, max_rows=100_000, max_seconds=30.0)

        def query(sql: str, params: Any) -> list[dict[str, Any]]:
            return readonly.query(sql, params).dicts()

        wanted: list[str] = []
        for _ in range(lookups + 20):
            p = rng.choice(persons)
            pick = rng.random()
            wanted.append(p["person_id"] if pick < 0.1 else typed(rng.choice(p["identifiers"]),
                                                                   rng))
        times: list[float] = []
        cpu: list[float] = []
        pages: list[float] = []
        found = 0
        for i, identifier in enumerate(wanted):
            t0, c0 = time.perf_counter(), time.process_time()
            got = pq.profile(query, identifier)
            t1, c1 = time.perf_counter(), time.process_time()
            page = pq.customer_timeline(query, identifier, None, 50)
            t2 = time.perf_counter()
            if i >= 20:  # the first calls warm the engine's caches
                times.append(t1 - t0)
                cpu.append(c1 - c0)
                pages.append(t2 - t1)
                found += got is not None and page is not None
        plan = "\n".join(str(r[0]) for r in ch.query("EXPLAIN indexes = 1 " + pq.EVENTS_SQL, {
            "persons": [persons[7]["person_id"]], "since": 0, "before": pq.NO_BOUND_MS,
            "limit": 29}).rows)
        events = int(ch.query("SELECT count() FROM customer_events").rows[0][0])
        parts = int(ch.query("SELECT count() FROM system.parts WHERE active "
                             "AND table = 'customer_events'").rows[0][0])
    finally:
        ch.close()
        shutil.rmtree(directory, ignore_errors=True)
    return {
        "p50_ms": round(statistics.median(times) * 1000, 2), "p99_ms": _ms(times, 0.99),
        # CPU of the whole process (the engine's threads too) per profile: what a lookup
        # costs whatever else the machine runs
        "cpu_ms_p50": round(statistics.median(cpu) * 1000, 2), "cpu_ms_p99": _ms(cpu, 0.99),
        "events_in_store": events, "lookups": len(times), "found": found,
        "persons": len(persons), "timeline_page_p50_ms": round(statistics.median(pages) * 1000, 2),
        "timeline_page_p99_ms": _ms(pages, 0.99), "load_seconds": round(load_s, 1),
        "event_parts": parts, "projection_read": "events_by_person" in plan,
        "goal_p99_ms": 150,
        # the machine is shared: its load while the lookups ran says how quiet it was
        "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
    }


def merge(slice_name: str, figures: dict[str, Any]) -> None:
    """Read-modify-write of latest.json that keeps every other key."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault("slices", {})[slice_name] = figures
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--no-write", action="store_true", help="print, do not merge")
    args = parser.parse_args()
    figures = measure(args.events, args.lookups)
    if not args.no_write:
        merge("profile", figures)
    print(json.dumps({"profile": figures}, indent=2))


if __name__ == "__main__":
    main()
