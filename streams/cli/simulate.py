"""``touchstream simulate``: synthetic traffic and a simulated chat service."""

from __future__ import annotations

import click

from streams.cli.common import (
    console,
    current_settings,
    ingest_secret,
    run_until_signalled,
)


@click.group(invoke_without_command=True)
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

    settings = current_settings()
    report = run_simulation(settings, chat_events, ad_metrics, rate=rate, seed=seed, bad=bad,
                            progress=True)
    for topic, count in sorted(report.counts.items()):
        console.print(f"{topic}: {count} records")
    console.print(f"{sum(report.counts.values())} records in {report.seconds:.1f} s")


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

    settings = current_settings()
    config = ChatServiceConfig(port=port, secret=ingest_secret(settings), count=count,
                               seed=seed, rate=rate, drop_probability=drop_probability)
    console.print(f"chat service on ws://127.0.0.1:{port} ({count} events); Ctrl-C stops it")
    stats = run_until_signalled(lambda stop: run_chat_service(config, stop))
    console.print(f"served {stats.sent} events over {stats.connections} connections "
                  f"({stats.drops} dropped on purpose)")
