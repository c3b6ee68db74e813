"""``touchstream workflows check|simulate``: validate the workflow definitions, and show what
they would have decided over recorded history."""

from __future__ import annotations

import time
from pathlib import Path

import click

from streams.cli.common import console, current_settings, fail, print_result

_DIR_HELP = "Definitions folder (default: schemas/workflows)."


@click.group("workflows")
def workflows() -> None:
    """Declarative cross-channel workflows: check definitions, simulate over history."""


@workflows.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=None, help=_DIR_HELP)
def check(directory: Path | None) -> None:
    """Load and validate every definition; an invalid one is reported with file and line."""
    from streams.workflows.definitions import DefinitionError, load_dir

    try:
        loaded = load_dir(directory)
    except DefinitionError as exc:
        fail(str(exc))
        return
    rows = [(w.id, w.on, w.priority, _days(w.window_ms), _days(w.cooldown_ms),
             "yes" if w.quiet_hours else "no", ", ".join(a.type for a in w.actions))
            for w in loaded]
    print_result(f"{len(loaded)} workflows, valid", ("id", "on", "prio", "window", "cooldown",
                                                     "quiet", "actions"), rows)


def _days(ms: int) -> str:
    return f"{ms / 86_400_000:g}d" if ms == 0 or ms >= 86_400_000 else f"{ms / 3_600_000:g}h"


@workflows.command("simulate")
@click.option("--since", default="7d", show_default=True,
              help="How far back to read history (30m, 12h, 7d, 2w); with --events, back from "
                   "the file's last event.")
@click.option("--events", "events_file", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path), default=None,
              help="Read events from this JSON-lines file instead of ClickHouse.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=None, help=_DIR_HELP)
@click.option("--fired-only", is_flag=True, help="Show only the actions delivered.")
@click.option("--limit", default=200, show_default=True, help="Rows to show at most.")
def simulate(since: str, events_file: Path | None, directory: Path | None, fired_only: bool,
             limit: int) -> None:
    """Run the definitions over history and print what would have fired (and what would
    have been deferred or suppressed, with the reason)."""
    from streams.ops import workflows as ops
    from streams.workflows.definitions import DefinitionError, load_dir, parse_duration

    window = parse_duration(since)
    if window is None:
        fail(f"--since {since!r} is not a duration like 30m, 12h, 7d, 2w")
        return
    try:
        loaded = load_dir(directory)
    except DefinitionError as exc:
        fail(str(exc))
        return
    now_ms = int(time.time() * 1000)
    since_ms = now_ms - window
    rejected: list[ops.Rejected] = []
    if events_file is not None:
        with events_file.open(encoding="utf-8") as fh:
            events, rejected = ops.read_jsonl(fh)
        # a recorded file is read back from its own last event, not from now
        now_ms = max((e["occurred_at"] for e in events), default=now_ms)
        events = [e for e in events if e["occurred_at"] >= now_ms - window]
    else:
        from streams.io.query import Querier

        querier = Querier(current_settings())
        try:
            rows = querier.sql(ops.PROFILE_HISTORY_SQL, {"since_ms": since_ms}).dicts()
            scores = querier.sql(ops.SCORE_HISTORY_SQL, {"since_ms": since_ms}).dicts()
        finally:
            querier.close()
        events = ops.events_from_rows(rows, scores)
    result = ops.simulate(events, loaded, until_ms=now_ms)
    for reject in rejected:
        console.print(f"line {reject.line} rejected: {reject.reason}")
    shown = [d for d in result.decisions if not fired_only or d["status"] in ("fired",
                                                                               "released")]
    print_result(f"{len(result.decisions)} decisions from {result.events} events "
                 f"(last {since})", ("time (UTC)", "subject", "workflow", "action", "channel",
                                     "status", "reason"), ops.decision_rows(shown[:limit]))
    if len(shown) > limit:
        console.print(f"... {len(shown) - limit} more (use --limit)")
    counts = result.counts()
    print_result("per workflow", ("workflow", "fired", "released", "deferred", "suppressed"),
                 [(w.id, counts[w.id, "fired"], counts[w.id, "released"],
                   counts[w.id, "deferred"], counts[w.id, "suppressed"]) for w in loaded])
