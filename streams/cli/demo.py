"""``touchstream demo``: the pipeline end to end on its embedded defaults."""

from __future__ import annotations

import time
from typing import Any

import click

from streams.cli.common import (
    console,
    current_settings,
    fail,
    print_result,
)

#: (insight, parameters, columns shown in the demo; empty: all)
DEMO_INSIGHTS: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = (
    ("sentiment_by_channel", {}, ()),
    ("most_negative_conversations", {"limit": "5"}, ()),
    ("campaign_kpis", {}, ("platform", "campaign_name", "impressions", "clicks", "spend",
                           "currency", "conversions", "ctr", "cpc", "cpa", "roas")),
    ("escalation_rate_by_intent_team", {}, ()),
    ("first_response_time", {}, ()),
    ("sla_breaches", {}, ("conversation_id", "team", "priority", "reasons", "sla_deadline",
                          "minutes_late")),
    ("dead_letters_by_topic", {}, ("topic", "error", "dead_letters", "example_reason")),
)
#: rows shown of an insight in the demo
DEMO_ROWS = 12


@click.command()
@click.option("--chat", "chat_events", type=int, default=3000, show_default=True)
@click.option("--ads", "ad_metrics", type=int, default=2000, show_default=True)
@click.option("--bad", type=int, default=3, show_default=True,
              help="Bad messages per topic, to show dead-lettering.")
def demo(chat_events: int, ad_metrics: int, bad: int) -> None:
    """Run the pipeline end to end on the embedded defaults and print insights."""
    from streams.io import kafka_local
    from streams.io.query import Querier, worker_alive
    from streams.ops.demo import prepare, start_worker, stop_worker, targets_now, wait_until_sunk
    from streams.simulators.run import run_simulation

    settings = current_settings()
    t0 = time.monotonic()
    console.rule("touchstream demo")
    started_kafka = prepare(settings)
    console.print(f"Kafka on {settings.kafka_bootstrap_servers}"
                  + (" (started)" if started_kafka else " (already running)"))
    worker_proc = None
    try:
        if worker_alive(settings):
            console.print("a worker is already running: using it")
        else:
            log_dir = settings.local_state_dir / "logs"
            log_dir.mkdir(parents=True, exist_ok=True)
            log_path = log_dir / "demo-worker.log"
            console.print(f"starting a worker (log: {log_path})")
            worker_proc = start_worker(settings, str(log_path))
        report = run_simulation(settings, chat_events, ad_metrics, seed=int(time.time()) % 10_000,
                                bad=bad, progress=True)
        console.print(f"produced {sum(report.counts.values())} records: {report.counts}")
        targets = targets_now(settings)
        querier = Querier(settings)
        with console.status("waiting until every event is visible in ClickHouse…") as status:
            ok = wait_until_sunk(
                querier, settings, targets, timeout=300,
                on_poll=lambda done, total: status.update(
                    f"waiting until every event is visible in ClickHouse… {done}/{total}"),
            )
        if not ok:
            fail("not every event reached ClickHouse within 300 s; see the worker log")
        console.print(f"every event is in ClickHouse ({time.monotonic() - t0:.1f} s since start)")
        def show(title: str, result: Any, shown: tuple[str, ...], limit: int | None) -> None:
            names = shown or tuple(result.column_names)
            index = [result.column_names.index(c) for c in names]
            rows = result.rows if limit is None else result.rows[:limit]
            if len(rows) < len(result.rows):
                title = f"{title} (first {len(rows)} of {len(result.rows)})"
            print_result(title, names, [tuple(row[i] for i in index) for row in rows])

        worst: str | None = None
        for name, params, shown in DEMO_INSIGHTS:
            result = querier.insight(name, params)
            show(name, result, shown, DEMO_ROWS)
            if name == "most_negative_conversations" and result.rows:
                worst = str(result.rows[0][result.column_names.index("conversation_id")])
        if worst is not None:
            show(f"emotional_journey of {worst}",
                 querier.insight("emotional_journey", {"conversation_id": worst}),
                 ("text", "sentiment_compound", "change", "lowest_so_far", "escalated_here",
                  "journey_state"), None)
        querier.close()
    finally:
        if worker_proc is not None:
            stop_worker(worker_proc)
            console.print("worker stopped")
        if started_kafka:
            kafka_local.down(settings)
            console.print("Kafka stopped")

