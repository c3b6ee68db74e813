"""The `touchstream` command line."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from streams import topics
from streams.kernel.paths import MODEL_DATA_DIR, MODELS_DIR
from streams.settings import Settings, get_settings

console = Console()


def _settings() -> Settings:
    return get_settings()


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    sys.exit(1)


def print_result(title: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*(_fmt(v) for v in row))
    console.print(table)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    return str(value)


@click.group()
def main() -> None:
    """touchstream: real-time customer intelligence on Kafka, Faust and ClickHouse."""
    logging.basicConfig(
        level=_settings().log_level.upper(),
        format="[%(asctime)s] %(levelname)s %(name)s: %(message)s",
    )


# --- kafka -----------------------------------------------------------------------------------

@main.group()
def kafka() -> None:
    """The local single-node Apache Kafka (KRaft) for development, tests and the demo."""


@kafka.command("up")
def kafka_up() -> None:
    """Resolve the broker jars (once), format storage, start the broker, wait until it answers."""
    from streams.io import kafka_local
    try:
        status = kafka_local.up(_settings())
    except kafka_local.KafkaLocalError as exc:
        _fail(str(exc))
        return
    console.print(f"Kafka {status.version} answering on {status.bootstrap} (pid {status.pid})")


@kafka.command("down")
def kafka_down() -> None:
    """Stop the local broker."""
    from streams.io import kafka_local
    stopped = kafka_local.down(_settings())
    console.print("stopped" if stopped else "not running")


@kafka.command("status")
def kafka_status() -> None:
    """Report whether the local broker runs and answers."""
    from streams.io import kafka_local
    s = kafka_local.status(_settings())
    state = "answering" if s.answering else ("running, not answering" if s.running else "stopped")
    console.print(
        f"Kafka {s.version} on {s.bootstrap}: {state}"
        + (f", pid {s.pid}" if s.pid else "")
        + (f", {s.topics} topics" if s.topics is not None else "")
    )
    sys.exit(0 if s.answering else 3)


# --- topics and db -----------------------------------------------------------------------------

@main.group("topics")
def topics_group() -> None:
    """Kafka topics of the contract."""


@topics_group.command("create")
def topics_create() -> None:
    """Create every input, output and dead-letter topic that is missing."""
    from streams.contract.codec import AvroCodec
    from streams.io.kafka_admin import create_topics

    settings = _settings()
    created = create_topics(settings)
    AvroCodec.from_settings(settings).register_all()
    for name in created:
        console.print(f"created {name}")
    console.print(f"{len(created)} topics created")


@main.group()
def db() -> None:
    """ClickHouse schema."""


@db.command("migrate")
def db_migrate() -> None:
    """Apply the versioned DDL in schemas/clickhouse/ (idempotent)."""
    from streams.io.clickhouse import ClickHouse
    from streams.io.migrate import migrate
    from streams.io.query import worker_alive

    settings = _settings()
    if settings.embedded_clickhouse and worker_alive(settings):
        console.print("the running worker holds the embedded engine and migrated it at start")
        return
    ch = ClickHouse.from_settings(settings)
    try:
        applied = migrate(ch)
    finally:
        ch.close()
    for name in applied:
        console.print(f"applied {name}")
    console.print(f"{len(applied)} migrations applied")


# --- worker ------------------------------------------------------------------------------------

@main.command()
def worker() -> None:
    """Run a Faust worker: all agents, the ClickHouse sink and the HTTP views."""
    from agents.app import run_worker
    from streams.io.kafka_admin import create_topics

    settings = _settings()
    create_topics(settings)
    run_worker(settings)


# --- simulate ----------------------------------------------------------------------------------

@main.group(invoke_without_command=True)
@click.option("--chat", "chat_events", type=int, default=2000, show_default=True,
              help="chat.events records to produce.")
@click.option("--ads", "ad_metrics", type=int, default=1000, show_default=True,
              help="ad.metrics records to produce.")
@click.option("--rate", type=float, default=None,
              help="Events per second (default: as fast as possible).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--bad", type=int, default=0, show_default=True,
              help="Also produce this many bad messages per topic (garbage, wrong schema).")
@click.pass_context
def simulate(ctx: click.Context, chat_events: int, ad_metrics: int, rate: float | None,
             seed: int, bad: int) -> None:
    """Produce realistic synthetic conversations and ad metrics (or run a simulated service)."""
    if ctx.invoked_subcommand is not None:
        return
    from streams.simulators.run import run_simulation

    settings = _settings()
    report = run_simulation(settings, chat_events, ad_metrics, rate=rate, seed=seed, bad=bad,
                            progress=True)
    for topic, count in sorted(report.counts.items()):
        console.print(f"{topic}: {count} records")
    console.print(f"{sum(report.counts.values())} records in {report.seconds:.1f} s")


def _run_until_signalled(coro_factory: Any) -> Any:
    """Run an async service until SIGINT/SIGTERM sets its stop event."""
    import asyncio
    import signal

    async def runner() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await coro_factory(stop)

    return asyncio.run(runner())


def _ingest_secret(settings: Settings) -> str:
    if settings.ingest_secret is None:
        _fail("set TOUCHSTREAM_INGEST_SECRET (the HMAC secret of ingest tokens)")
        raise AssertionError
    return settings.ingest_secret.get_secret_value()


@simulate.command("chat-service")
@click.option("--port", type=int, default=8766, show_default=True)
@click.option("--count", type=int, default=10_000, show_default=True,
              help="Events in the service's log.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--rate", type=float, default=0.0, show_default=True,
              help="Events per second per subscriber (0: as fast as read).")
@click.option("--drop-probability", type=float, default=0.0, show_default=True,
              help="Chance per event of dropping the connection (to exercise reconnects).")
def simulate_chat_service(port: int, count: int, seed: int, rate: float,
                          drop_probability: float) -> None:
    """A WebSocket chat service on 127.0.0.1 that plays realistic conversations."""
    from streams.simulators.chat_service import ChatServiceConfig, run_chat_service

    settings = _settings()
    config = ChatServiceConfig(port=port, secret=_ingest_secret(settings), count=count,
                               seed=seed, rate=rate, drop_probability=drop_probability)
    console.print(f"chat service on ws://127.0.0.1:{port} ({count} events); Ctrl-C stops it")
    stats = _run_until_signalled(lambda stop: run_chat_service(config, stop))
    console.print(f"served {stats.sent} events over {stats.connections} connections "
                  f"({stats.drops} dropped on purpose)")


# --- ingest ------------------------------------------------------------------------------------

@main.group()
def ingest() -> None:
    """WebSocket ingest of the AI customer-service chat into chat.events."""


@ingest.command("server")
def ingest_server() -> None:
    """Accept chat widgets and agent desks (signed tokens) and produce their events."""
    from streams.ingest.kafka_sink import KafkaEventSink
    from streams.ingest.server import GatewayConfig, run_gateway

    settings = _settings()
    config = GatewayConfig(
        host=settings.ingest_host, port=settings.ingest_port, secret=_ingest_secret(settings),
        allowed_origins=tuple(settings.ingest_allowed_origins),
        max_frame_bytes=settings.ingest_max_frame_bytes,
        rate_per_second=settings.ingest_rate_per_second, burst=settings.ingest_burst,
        dead_letter_rate_per_second=settings.ingest_dead_letter_rate_per_second,
        dead_letter_burst=settings.ingest_dead_letter_burst,
    )

    async def run(stop: Any) -> Any:
        async with KafkaEventSink(settings, max_in_flight=settings.ingest_max_in_flight,
                                  delivery_timeout_s=settings.ingest_delivery_timeout_seconds
                                  ) as sink:
            return await run_gateway(config, sink, stop)

    console.print(f"gateway on ws://{config.host}:{config.port}")
    stats = _run_until_signalled(run)
    console.print(f"accepted {stats.accepted} events, rejected {stats.invalid}")


@ingest.command("client")
def ingest_client() -> None:
    """Subscribe to the chat service's event stream and produce it, resuming from the cursor."""
    from streams.ingest.client import ClientAuthError, ClientConfig, run_client
    from streams.ingest.kafka_sink import KafkaEventSink

    settings = _settings()
    if not settings.ingest_url or settings.ingest_token is None:
        _fail("set TOUCHSTREAM_INGEST_URL and TOUCHSTREAM_INGEST_TOKEN")
        return
    config = ClientConfig(
        url=settings.ingest_url, token=settings.ingest_token.get_secret_value(),
        state_path=settings.ingest_state_path
        or settings.local_state_dir / "ingest-cursor.json",
        batch_max=settings.ingest_batch_max, batch_ms=settings.ingest_batch_ms,
        backoff_initial=settings.ingest_backoff_initial_seconds,
        backoff_max=settings.ingest_backoff_max_seconds,
        token_in_query=settings.ingest_token_in_query,
    )

    async def run(stop: Any) -> Any:
        async with KafkaEventSink(settings, max_in_flight=settings.ingest_max_in_flight,
                                  delivery_timeout_s=settings.ingest_delivery_timeout_seconds
                                  ) as sink:
            return await run_client(config, sink, stop)

    try:
        stats = _run_until_signalled(run)
    except ClientAuthError as exc:
        _fail(f"the chat service refused the token: {exc}")
        return
    console.print(f"received {stats.received}, produced {stats.produced}, "
                  f"duplicates skipped {stats.duplicates}")


@ingest.command("token")
@click.option("--sub", required=True, help="Who the token is for.")
@click.option("--role", type=click.Choice(["widget", "agent_desk", "chat_service"]),
              required=True)
@click.option("--ttl", type=float, default=3600.0, show_default=True, help="Seconds valid.")
def ingest_token(sub: str, role: str, ttl: float) -> None:
    """Issue a signed token for the gateway or the chat service."""
    from streams.ingest.tokens import issue

    click.echo(issue(sub, role, ttl, _ingest_secret(_settings()), time.time()))  # type: ignore[arg-type]


# --- sql -------------------------------------------------------------------------------------

@main.command()
@click.argument("query", required=False)
@click.option("--insight", "-i", help="Run a named insight query from schemas/clickhouse/insights/.")
@click.option("--param", "-p", multiple=True, help="Insight parameter name=value.")
@click.option("--list", "list_insights_", is_flag=True, help="List the named insight queries.")
def sql(query: str | None, insight: str | None, param: tuple[str, ...], list_insights_: bool) -> None:
    """Run SQL or a named insight query and print a table."""
    from streams.io.insights import list_insights
    from streams.io.query import Querier

    if list_insights_:
        for item in list_insights():
            params = ", ".join(f"{p.name} {p.type} = {p.default}" for p in item.params)
            console.print(f"[bold]{item.name}[/bold] — {item.title}" + (f" ({params})" if params else ""))
        return
    if not query and not insight:
        _fail("give a SQL query, --insight NAME or --list")
    querier = Querier(_settings())
    try:
        if insight:
            overrides = dict(p.split("=", 1) for p in param)
            result = querier.insight(insight, overrides)
            title = insight
        else:
            assert query is not None
            result = querier.sql(query)
            title = ""
    except Exception as exc:  # show the engine's message, not a traceback
        _fail(str(exc).splitlines()[0] if str(exc) else repr(exc))
        return
    finally:
        querier.close()
    print_result(title, result.column_names, result.rows)


# --- dlq ---------------------------------------------------------------------------------------

@main.group()
def dlq() -> None:
    """Dead-letter topics."""


@dlq.command("replay")
@click.option("--topic", "-t", "logical", type=click.Choice(topics.INPUTS), required=True,
              help="Input topic whose dead letters to replay.")
@click.option("--dry-run", is_flag=True, help="List what would be replayed; move nothing.")
@click.option("--limit", type=int, default=None, help="Replay at most this many.")
def dlq_replay(logical: str, dry_run: bool, limit: int | None) -> None:
    """Send dead-lettered messages back to their original topic (after a fix)."""
    from streams.ops.replay import replay

    report = replay(_settings(), logical, dry_run=dry_run, limit=limit)
    rows = [
        (i.dlq_partition, i.dlq_offset, i.target_topic, i.original_partition, i.original_offset,
         i.error, i.reason[:80])
        for i in report.items
    ]
    print_result(
        f"{'would replay' if dry_run else 'replayed'} from {report.dlq_topic}",
        ("dlq partition", "dlq offset", "to topic", "orig partition", "orig offset", "error",
         "reason"),
        rows,
    )
    console.print(f"{len(report.items)} {'to replay' if dry_run else 'replayed'}"
                  + (f", {report.skipped} without dead-letter headers skipped" if report.skipped else ""))


# --- import ----------------------------------------------------------------------------------

@main.group("import")
def import_group() -> None:
    """Historical data."""


@import_group.command("conversations")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and count; produce nothing.")
def import_conversations(path: Path, dry_run: bool) -> None:
    """Import past conversations (JSONL or CSV) with their original timestamps; importing the
    same file twice adds nothing."""
    from streams.contract.codec import AvroCodec
    from streams.io.producer import produce_records
    from streams.io.query import Querier
    from streams.ops.importer import new_only, plan

    settings = _settings()
    p = plan(path)
    for line, reason in p.errors[:20]:
        console.print(f"[yellow]line {line}:[/yellow] {reason}")
    ids = sorted({r.value["event_id"] for r in p.records})
    known: set[str] = set()
    querier = Querier(settings)
    try:
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            rows = querier.sql("SELECT event_id FROM chat_events WHERE event_id IN {ids:Array(String)}",
                               {"ids": chunk}).rows
            known.update(r[0] for r in rows)
    finally:
        querier.close()
    todo = new_only(p.records, known)
    console.print(f"{len(p.records)} events in {path.name}: {len(p.records) - len(todo)} already "
                  f"imported, {len(todo)} new, {len(p.errors)} rejected")
    if dry_run or not todo:
        return
    report = produce_records(settings, iter(todo), encode=AvroCodec.from_settings(settings).encode,
                             progress=True, total=len(todo))
    console.print(f"produced {report.total} events to {settings.topic(topics.CHAT_EVENTS)}")


# --- train -------------------------------------------------------------------------------------

@main.group()
def train() -> None:
    """Train the models the pipeline ships with."""


@train.command("intent")
@click.option("--labelled", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=MODEL_DATA_DIR / "intent_labelled.jsonl",
              show_default=True, help="Labelled messages (JSONL: text, intent, language, split).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=MODELS_DIR / "intent-v2.npz", show_default=True)
def train_intent(labelled: Path, out: Path) -> None:
    """Train the intent classifier; prints its test-split quality."""
    from streams.training.intent import main_train_intent

    report = main_train_intent(labelled, out)
    console.print(f"trained on {report.train_size}, tested on {report.test_size} messages "
                  f"-> {out}")
    console.print(f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}")
    print_result("per-intent F1", ("intent", "F1"),
                 sorted(report.per_intent_f1.items(), key=lambda kv: -kv[1]))


# --- demo ------------------------------------------------------------------------------------

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


@main.command()
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

    settings = _settings()
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
            _fail("not every event reached ClickHouse within 300 s; see the worker log")
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


if __name__ == "__main__":
    main()
