"""``touchstream optimise``: run the optimisation cycle, backtest it, review recommendations."""

from __future__ import annotations

import re

import click

from streams.cli.common import console, current_settings, fail, print_result
from streams.marketing.approval import TransitionError
from streams.ops import optimise as ops
from streams.ops.connectors import connectors_from_settings
from streams.ops.optimise_anomalies import anomalous_campaigns, drill, recent_alerts
from streams.ops.optimise_apply import transition

SINCE = re.compile(r"^(\d+)([dhw])$")


def days_of(since: str) -> int:
    """``28d``, ``4w`` or ``72h`` as whole days (at least one)."""
    found = SINCE.match(since.strip())
    if found is None:
        raise click.BadParameter(f"{since!r} is not like 28d, 4w or 72h")
    n, unit = int(found.group(1)), found.group(2)
    return max(1, {"d": n, "w": 7 * n, "h": -(-n // 24)}[unit])


def _at(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(ms) / 1000, UTC).strftime("%Y-%m-%d %H:00")


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


@click.group("optimise")
def optimise() -> None:
    """Optimisation recommendations: bids, budgets, creatives, dayparting, audiences."""


@optimise.command("run")
@click.option("--dry-run/--live", default=True, show_default=True,
              help="Dry run: approving applies nothing on the platforms.")
@click.option("--days", type=int, default=35, show_default=True,
              help="Days of history the cycle reads (recent week and the baseline before it).")
def run(dry_run: bool, days: int) -> None:
    """One cycle over campaign_kpis; recommendations to the recommendations topic and table."""
    settings = current_settings()
    query = ops.querier_query(settings)
    now = ops.now_ms()
    done = ops.cycle(query, now, days=days, dry_run=dry_run,
                     anomalous=anomalous_campaigns(query, now))
    if done is None:
        fail("campaign_kpis holds no history in that window")
        return
    outcome = done.result.outcome
    console.print(f"{len(done.history.campaign_ids)} campaigns, {done.history.hours} hours of "
                  f"history; {len(outcome.accepted)} recommendations, {len(outcome.refused)} "
                  f"refused by the guard rails ({'dry run' if dry_run else 'live'})")
    print_result("recommendations", (
        "request", "rule", "action", "campaign", "current", "proposed", "change",
        "effect/day", "confidence", "rationale"), [
        (rid, r.rule, r.action, r.campaign_id, _money(r.current), _money(r.proposed),
         f"{r.change:+.1%}", f"{r.expected_effect:+,.2f}", f"{r.confidence:.2f}", r.rationale)
        for rid, r in zip(done.submitted, outcome.accepted, strict=True)])
    if outcome.refused:
        print_result("refused by the guard rails", ("rule", "action", "campaign", "guard",
                                                    "detail"), [
            (f.recommendation.rule, f.recommendation.action, f.recommendation.campaign_id,
             f.guard, f.detail) for f in outcome.refused])
    ops.Publishing(settings).publish(done.records)
    console.print(f"{len(done.records)} records published to "
                  f"{settings.topic('recommendations')}")


@optimise.command("backtest")
@click.option("--since", default="28d", show_default=True, help="History to replay: 28d, 4w, 72h.")
def backtest(since: str) -> None:
    """Replay the history since then through the daily cycle: what would have changed."""
    settings = current_settings()
    done = ops.replay(ops.querier_query(settings), ops.now_ms(), days_of(since))
    if done is None:
        fail("campaign_kpis holds no history in that window")
        return
    report, history = done
    console.print(f"{len(report.cycles)} daily cycles over {len(history.campaign_ids)} "
                  f"campaigns and {history.hours} hours")
    print_result("changes per cycle", ("cycle at hour", "accepted", "refused", "actions"), [
        (c.hour, len(c.accepted), len(c.refused),
         ", ".join(sorted({r.action for r in c.accepted})) or None) for c in report.cycles])
    print_result("accepted by action", ("action", "count"),
                 sorted(report.accepted_by_action.items()))
    print_result("refused by guard rail", ("guard", "count"),
                 sorted(report.refused_by_guard.items()))
    moves = [(cid, "bid", f"{m:+.1%}") for cid, m in report.bid_moves(history.campaign_ids).items()]
    moves += [(cid, "budget", f"{m:+.1%}")
              for cid, m in report.budget_moves(history.campaign_ids).items()]
    print_result("levers at the end against the start", ("campaign", "lever", "move"), moves)


@optimise.command("list")
@click.option("--status", default="pending", show_default=True,
              help="Current status to show (pending, approved, applied, ...; 'all').")
def list_requests(status: str) -> None:
    """Recommendations by their current status."""
    from streams.marketing.recommendations import ledger_from_rows

    ledger = ledger_from_rows(ops.request_rows(ops.querier_query(current_settings())))
    rows = [(rid, req.status, "dry run" if req.dry_run else "live", req.recommendation.action,
             req.recommendation.campaign_id, f"{req.recommendation.change:+.1%}",
             req.recommendation.rationale)
            for rid, req in sorted(ledger.requests.items())
            if status == "all" or req.status == status]
    print_result(f"recommendations ({status})", ("request", "status", "mode", "action",
                                                  "campaign", "change", "rationale"), rows)


def _decide(request_id: str, decision: str, actor: str, reason: str) -> None:
    settings = current_settings()
    connectors = {c.platform: c for c in connectors_from_settings(settings)}
    try:
        ledger, records, outcome = transition(
            ops.querier_query(settings), request_id, "approve" if decision == "approve"
            else "reject", actor, reason, ops.now_ms(), connectors)
    except TransitionError as exc:
        fail(str(exc))
        return
    ops.Publishing(settings).publish(records)
    req = ledger.requests[request_id]
    console.print(f"{request_id}: {req.status}" + (f" ({outcome})" if outcome else ""))


@optimise.command("verify")
@click.option("--actor", default="verifier", show_default=True, help="Who verifies (audited).")
def verify(actor: str) -> None:
    """Verify the requests applied long enough ago against their expected effect."""
    from streams.ops.optimise_apply import verify_due

    settings = current_settings()
    _, records, lines = verify_due(ops.querier_query(settings), actor, ops.now_ms())
    for line in lines:
        console.print(line)
    ops.Publishing(settings).publish(records)
    console.print(f"{len(lines)} requests verified")


@optimise.command("approve")
@click.argument("request_id")
@click.option("--actor", default="cli", show_default=True, help="Who approves (audited).")
@click.option("--reason", default="approved", show_default=True)
def approve(request_id: str, actor: str, reason: str) -> None:
    """Approve a pending recommendation and apply it through its platform's connector."""
    _decide(request_id, "approve", actor, reason)


@optimise.command("reject")
@click.argument("request_id")
@click.option("--actor", default="cli", show_default=True, help="Who rejects (audited).")
@click.option("--reason", required=True, help="Why (audited).")
def reject(request_id: str, actor: str, reason: str) -> None:
    """Reject a pending recommendation."""
    _decide(request_id, "reject", actor, reason)


@optimise.command("anomalies")
@click.option("--hours", type=int, default=48, show_default=True, help="Alerts of the last hours.")
@click.option("--limit", type=int, default=10, show_default=True)
@click.option("--drill/--no-drill", "drill_down", default=True, show_default=True,
              help="Rank what is behind each alert (ad groups, ads, devices, hours).")
def anomalies(hours: int, limit: int, drill_down: bool) -> None:
    """Recent anomaly alerts, with the drill-down behind each."""
    query = ops.querier_query(current_settings())
    alerts = recent_alerts(query, ops.now_ms() - hours * 3_600_000, limit)
    print_result(f"anomalies (last {hours} h)", (
        "hour", "campaign", "metric", "direction", "status", "severity", "value", "baseline",
        "change", "z"), [
        (_at(a["hour"]), f"{a['platform']}:{a['campaign_id']}", a["metric"], a["direction"],
         a["status"], a["severity"], a["value"], a["baseline"], f"{a['change']:+.0%}",
         f"{a['z']:+.1f}") for a in alerts])
    if not drill_down:
        return
    for a in alerts:
        ranked = drill(query, a)
        rows = [(dimension, c.key, f"{c.share:.0%}", c.contribution, c.current, c.baseline)
                for dimension, items in ranked.items() for c in items]
        print_result(f"behind {a['metric']} {a['direction']} of {a['platform']}:"
                     f"{a['campaign_id']} at {_at(a['hour'])}", (
                         "dimension", "child", "share", "contribution", "current",
                         "baseline"), rows)
