"""``touchstream conversations replay``: what the worker decides for recorded chat events."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group("conversations")
def conversations() -> None:
    """Conversation understanding: replay chat events through the policy."""


@conversations.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the JSON lines here instead of standard output.")
def replay(file: Path, out: Path | None) -> None:
    """Run the chat events of FILE (JSON lines, the chat.events fields) through the
    conversation stage, without Kafka, and write one JSON line per conversation."""
    from streams.ops.replay_conversations import dumps
    from streams.ops.replay_conversations import replay as run

    with file.open(encoding="utf-8") as fh:
        result = run(fh)
    lines = "".join(dumps(c) + "\n" for c in result.conversations)
    if out is None:
        click.echo(lines, nl=False)
    else:
        out.write_text(lines, encoding="utf-8")
    for reject in result.rejected:
        click.echo(f"line {reject.line} rejected: {reject.reason}", err=True)
    click.echo(f"{len(result.conversations)} conversations, {len(result.rejected)} events "
               "rejected", err=True)
    if result.rejected and not result.conversations:
        sys.exit(1)
