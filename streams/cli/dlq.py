"""``touchstream dlq replay``: dead letters back to their topic."""

from __future__ import annotations

import click

from streams import topics
from streams.cli.common import (
    console,
    current_settings,
    print_result,
)


@click.group()
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

    report = replay(current_settings(), logical, dry_run=dry_run, limit=limit)
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
