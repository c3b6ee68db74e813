"""``touchstream identity``: why identifiers were joined into one person, and undoing a join."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import click

from streams.cli.common import console, current_settings, fail, print_result


def _when(ms: Any) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(int(ms) / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _node(text: str) -> str:
    from streams.ops.identity import parse_identifier

    try:
        return parse_identifier(text, current_settings())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _weights(row: dict[str, Any]) -> str:
    weights = row["weights"] or {}
    if not weights:
        return ""
    shown = ", ".join(f"{k} {float(v):+.2f}" for k, v in sorted(weights.items()) if k != "total")
    return f"p={float(row['probability'] or 0):.4f}; {shown}"


@click.group("identity")
def identity_group() -> None:
    """Identity resolution: explain a person, undo a wrong join."""


@identity_group.command("why")
@click.argument("identifier")
def why(identifier: str) -> None:
    """The person IDENTIFIER (kind:value, an email or a +phone) belongs to, its identifiers,
    the edges and rules that joined them and the refused merges touching it."""
    from streams.io.query import Querier
    from streams.ops import identity as ops

    node = _node(identifier)
    querier = Querier(current_settings())
    try:
        explained = ops.why(querier, node)
    except Exception as exc:  # show the engine's message, not a traceback
        fail(str(exc).splitlines()[0] if str(exc) else repr(exc))
        return
    finally:
        querier.close()
    if explained.person_id is None:
        fail(f"{node}: no person holds it (unknown, or forgotten)")
        return
    console.print(f"[bold]{node}[/bold] belongs to person [bold]{explained.person_id}[/bold] "
                  f"({len(explained.identifiers)} identifiers)")
    for key in explained.identifiers:
        console.print(f"  {key}")
    sources = explained.sources

    def source(row: dict[str, Any]) -> str:
        found = sources.get(row["source_event"])
        where = f" ({found['kind']} from {found['topic']}@{found['offset']})" if found else ""
        return f"{row['source_event']}{where}"

    if explained.edges:
        print_result("edges", ("a", "b", "rule", "source event", "at", "match weights"),
                     [(r["a"], r["b"], r["rule"], source(r), _when(r["at"]), _weights(r))
                      for r in explained.edges])
    else:
        console.print("no edges: nothing joins it to another identifier")
    if explained.removals:
        print_result("removals and splits", ("kind", "a", "b", "person", "from", "reason", "at",
                                             "part's identifiers"),
                     [(r["kind"], r["a"], r["b"], r["person_id"], r["other_person"],
                       r["reason"], _when(r["at"]), ", ".join(r["members"] or ()))
                      for r in explained.removals])
    if explained.refused:
        print_result("refused merges", ("identifier", "its person", "event's person", "reason",
                                        "source event", "at"),
                     [(r["a"], r["other_person"], r["person_id"], r["reason"], source(r),
                       _when(r["at"])) for r in explained.refused])


@identity_group.command("unlink")
@click.argument("a")
@click.argument("b")
@click.option("--reason", help="Why the join was wrong (kept in identity_links).")
def unlink(a: str, b: str, reason: str | None) -> None:
    """Remove the edge between identifiers A and B; the person splits if nothing else joins
    them, and its profiles and attribution are recomputed."""
    from streams.ops import identity as ops

    record = ops.change_record("unlink", [_node(a), _node(b)], reason)
    ops.send(current_settings(), [record])
    console.print(f"sent {record.value['event_id']}: unlink {_node(a)} - {_node(b)}; "
                  f"`touchstream identity why {a}` shows the result once applied")


@identity_group.command("forget")
@click.argument("identifier")
@click.option("--reason", help="Why (an erasure request, a wrong value); kept in identity_links.")
def forget(identifier: str, reason: str | None) -> None:
    """Remove IDENTIFIER from the identity graph with its edges; its person splits if it held
    the person together, and what only it carried leaves the profile."""
    from streams.ops import identity as ops

    record = ops.change_record("forget", [_node(identifier)], reason)
    ops.send(current_settings(), [record])
    console.print(f"sent {record.value['event_id']}: forget {_node(identifier)}")


@identity_group.command("match")
@click.option("--threshold", type=float, default=None,
              help="Minimum posterior match probability (default 0.9).")
@click.option("--dry-run", is_flag=True, help="Print the matches, send nothing.")
@click.option("--show", type=int, default=10, help="Matches to print.")
def match(threshold: float | None, dry_run: bool, show: int) -> None:
    """Match CRM profile records that share no identifier (Fellegi-Sunter over name, address,
    date of birth and phone, with blocking) and send each match to the identity stage."""
    from dataclasses import replace

    from streams.customer.matching import DEFAULT_MATCHING
    from streams.io.query import Querier
    from streams.ops import identity as ops

    policy = DEFAULT_MATCHING if threshold is None else replace(DEFAULT_MATCHING,
                                                                threshold=threshold)
    settings = current_settings()
    querier = Querier(settings)
    started = time.perf_counter()
    try:
        run = ops.match(querier, policy)
    finally:
        querier.close()
    print_result(f"{len(run.matches)} matches among {run.records} CRM records "
                 f"({run.skipped} undone before, left out; {time.perf_counter() - started:.1f} s)",
                 ("a", "b", "probability", "weight"),
                 [(m.left, m.right, f"{m.probability:.4f}", f"{m.weight:.2f}")
                  for m in run.matches[:show]])
    if dry_run or not run.matches:
        return
    now = int(time.time() * 1000)
    sent = ops.send(settings, (ops.match_record(m, now) for m in run.matches))
    console.print(f"sent {sent} match observations")
