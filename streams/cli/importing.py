"""``touchstream import conversations``: historical conversations."""

from __future__ import annotations

from pathlib import Path

import click

from streams import topics
from streams.cli.common import (
    console,
    current_settings,
)
from streams.conversation.contract import CHAT_EVENTS_TABLE


@click.group("import")
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

    settings = current_settings()
    p = plan(path)
    for line, reason in p.errors[:20]:
        console.print(f"[yellow]line {line}:[/yellow] {reason}")
    ids = sorted({r.value["event_id"] for r in p.records})
    known: set[str] = set()
    querier = Querier(settings)
    try:
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            rows = querier.sql(f"SELECT event_id FROM {CHAT_EVENTS_TABLE} "
                               "WHERE event_id IN {ids:Array(String)}", {"ids": chunk}).rows
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
