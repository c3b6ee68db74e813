"""``touchstream db migrate``: the ClickHouse DDL."""

from __future__ import annotations

import click

from streams.cli.common import (
    console,
    current_settings,
)


@click.group()
def db() -> None:
    """ClickHouse schema."""


@db.command("migrate")
def db_migrate() -> None:
    """Apply the versioned DDL in schemas/clickhouse/ (idempotent)."""
    from streams.io.clickhouse import ClickHouse
    from streams.io.migrate import migrate
    from streams.io.query import worker_alive

    settings = current_settings()
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
