"""``touchstream ingest``: the WebSocket gateway, the chat-service client and tokens (also the
worker's HTTP tokens: ``touchstream ingest token --role read|operate``)."""

from __future__ import annotations

import time
from typing import Any

import click

from streams.cli.common import (
    console,
    current_settings,
    fail,
    ingest_secret,
    run_until_signalled,
)


@click.group()
def ingest() -> None:
    """WebSocket ingest of the AI customer-service chat into chat.events."""


@ingest.command("server")
def ingest_server() -> None:
    """Accept chat widgets and agent desks (signed tokens) and produce their events."""
    from streams.ingest.kafka_sink import KafkaEventSink
    from streams.ingest.server import GatewayConfig, run_gateway

    settings = current_settings()
    config = GatewayConfig(
        host=settings.ingest_host, port=settings.ingest_port, secret=ingest_secret(settings),
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
    stats = run_until_signalled(run)
    console.print(f"accepted {stats.accepted} events, rejected {stats.invalid}")


@ingest.command("client")
def ingest_client() -> None:
    """Subscribe to the chat service's event stream and produce it, resuming from the cursor."""
    from streams.ingest.client import ClientAuthError, ClientConfig, run_client
    from streams.ingest.kafka_sink import KafkaEventSink

    settings = current_settings()
    if not settings.ingest_url or settings.ingest_token is None:
        fail("set TOUCHSTREAM_INGEST_URL and TOUCHSTREAM_INGEST_TOKEN")
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
        stats = run_until_signalled(run)
    except ClientAuthError as exc:
        fail(f"the chat service refused the token: {exc}")
        return
    console.print(f"received {stats.received}, produced {stats.produced}, "
                  f"duplicates skipped {stats.duplicates}")


@ingest.command("token")
@click.option("--sub", required=True, help="Who the token is for.")
@click.option("--role", type=click.Choice(["widget", "agent_desk", "chat_service", "read", "operate"]),
              required=True,
              help="Gateway roles (widget, agent_desk, chat_service) are signed with "
              "TOUCHSTREAM_INGEST_SECRET; the worker's HTTP roles (read, operate) with "
              "TOUCHSTREAM_WEB_SECRET.")
@click.option("--ttl", type=float, default=3600.0, show_default=True, help="Seconds valid.")
def ingest_token(sub: str, role: str, ttl: float) -> None:
    """Issue a signed token for the gateway, the chat service, or the worker's HTTP API."""
    from streams.ingest.tokens import WORKER_ROLES, issue

    settings = current_settings()
    if role in WORKER_ROLES:
        if settings.web_secret is None:
            fail("set TOUCHSTREAM_WEB_SECRET (the HMAC secret of the worker's tokens)")
            return
        secret = settings.web_secret.get_secret_value()
    else:
        secret = ingest_secret(settings)
    click.echo(issue(sub, role, ttl, secret, time.time()))  # type: ignore[arg-type]
