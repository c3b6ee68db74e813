"""``touchstream db migrate``: the ClickHouse DDL, for one server or a cluster."""

from __future__ import annotations

import click

from streams.cli.common import (
    console,
    current_settings,
    fail,
)


@click.group()
def db() -> None:
    """ClickHouse schema."""


@db.command("migrate")
@click.option("--cluster", metavar="NAME", default=None,
              help="Apply schemas/clickhouse/cluster/ instead: Replicated tables created ON "
                   "CLUSTER NAME and Distributed tables over them (a ClickHouse server "
                   "cluster; the embedded engine cannot run ON CLUSTER).")
@click.option("--print", "print_only", is_flag=True,
              help="Print the statements (rendered for --cluster) instead of applying them.")
def db_migrate(cluster: str | None, print_only: bool) -> None:
    """Apply the versioned DDL in schemas/clickhouse/ (idempotent)."""
    from streams.io.migrate import (
        CLUSTER_MIGRATIONS_DIR,
        MIGRATIONS_DIR,
        MigrationError,
        discover,
        migrate,
    )

    if print_only:
        try:
            migrations = discover(CLUSTER_MIGRATIONS_DIR if cluster else MIGRATIONS_DIR,
                                  cluster=cluster)
        except MigrationError as exc:
            fail(str(exc))
            return
        for m in migrations:
            # plain text, not the console: SQL must not be wrapped or read as markup
            click.echo(f"-- {m.name}")
            for statement in m.statements():
                click.echo(f"{statement};\n")
        return

    from streams.io.clickhouse import ClickHouse
    from streams.io.query import worker_alive

    settings = current_settings()
    if cluster is not None and settings.embedded_clickhouse:
        fail("--cluster needs a ClickHouse server: set TOUCHSTREAM_CLICKHOUSE_URL to "
             "http(s)://user:password@host:port/database of a node of the cluster (the "
             "embedded engine cannot run ON CLUSTER)")
    if settings.embedded_clickhouse and worker_alive(settings):
        console.print("the running worker holds the embedded engine and migrated it at start")
        return
    ch = ClickHouse.from_settings(settings)
    try:
        applied = migrate(ch, cluster=cluster)
    except MigrationError as exc:
        fail(str(exc))
        return
    finally:
        ch.close()
    for name in applied:
        console.print(f"applied {name}")
    where = f" on cluster {cluster}" if cluster else ""
    console.print(f"{len(applied)} migrations applied{where}")
