"""What the command groups share: the console, settings, errors and tables."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from streams.settings import Settings, get_settings

console = Console()


def current_settings() -> Settings:
    return get_settings()


def fail(message: str) -> None:
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


def run_until_signalled(coro_factory: Any) -> Any:
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


def ingest_secret(settings: Settings) -> str:
    if settings.ingest_secret is None:
        fail("set TOUCHSTREAM_INGEST_SECRET (the HMAC secret of ingest tokens)")
        raise AssertionError
    return settings.ingest_secret.get_secret_value()
