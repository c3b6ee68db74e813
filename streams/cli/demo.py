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

#: (insight, parameters, columns shown in the demo, ``column:header`` to abbreviate; empty:
#: all): each table fits an 80-column terminal
DEMO_INSIGHTS: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = (
    ("sentiment_by_channel", {}, ()),
    ("most_negative_conversations", {"limit": "5"},
     ("conversation_id:conversation", "channel", "language:lang", "messages:msgs",
      "sentiment_mean:mean", "min_sentiment:min")),
    ("campaign_kpis", {}, ("platform", "campaign_name:campaign", "spend", "currency:cur",
                           "conversions:conv", "roas")),
    ("escalation_rate_by_intent_team", {}, (
        "intent", "team", "escalations:esc", "escalated_conversations:esc conv",
        "conversations:conv", "escalation_rate:rate")),
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
        seed = int(time.time()) % 10_000
        report = run_simulation(settings, chat_events, ad_metrics, seed=seed, bad=bad,
                                progress=True)
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

        def short(value: Any) -> Any:  # ids (uuids) by their first characters, like git
            return f"{value[:8]}…" if isinstance(value, str) and len(value) == 36 and (
                value.count("-") == 4) else value
        def show(title: str, result: Any, shown: tuple[str, ...], limit: int | None) -> None:
            columns = [c.partition(":") for c in shown or tuple(result.column_names)]
            names = tuple(header or name for name, _, header in columns)
            index = [result.column_names.index(name) for name, _, _ in columns]
            rows = result.rows if limit is None else result.rows[:limit]
            if len(rows) < len(result.rows):
                title = f"{title} (first {len(rows)} of {len(result.rows)})"
            print_result(title, names, [tuple(short(row[i]) for i in index) for row in rows])

        worst: str | None = None
        for name, params, shown in DEMO_INSIGHTS:
            result = querier.insight(name, params)
            show(name, result, shown, DEMO_ROWS)
            if name == "most_negative_conversations" and result.rows:
                worst = str(result.rows[0][result.column_names.index("conversation_id")])
        if worst is not None:
            show(f"emotional_journey of {worst}",
                 querier.insight("emotional_journey", {"conversation_id": worst}),
                 ("text", "sentiment_compound:score", "change", "lowest_so_far:lowest",
                  "escalated_here:esc", "journey_state:state"), None)
        querier.close()
        from streams.cli.connectors import marketing_demo
        from streams.cli.demo_customer import customer_demo

        marketing_demo(settings, lambda title, result, shown: show(title, result, shown, DEMO_ROWS),
                       lambda: wait_until_sunk(Querier(settings), settings, targets_now(settings),
                                               timeout=300))
        customer_demo(settings, lambda title, result, shown: show(title, result, shown,
                                                                  DEMO_ROWS), seed)
    finally:
        if worker_proc is not None:
            stop_worker(worker_proc)
            console.print("worker stopped")
        if started_kafka:
            kafka_local.down(settings)
            console.print("Kafka stopped")

