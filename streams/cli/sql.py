"""``touchstream sql``: SQL and named insight queries."""

from __future__ import annotations

import click

from streams.cli.common import (
    console,
    current_settings,
    fail,
    print_result,
)


@click.command()
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
        fail("give a SQL query, --insight NAME or --list")
    querier = Querier(current_settings())
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
        fail(str(exc).splitlines()[0] if str(exc) else repr(exc))
        return
    finally:
        querier.close()
    print_result(title, result.column_names, result.rows)
