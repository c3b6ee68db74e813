"""The customer part of ``make demo``: simulated people with several devices and identifiers
go through identity resolution, the unified profile and streaming attribution; the demo prints
attribution by model, the top journey paths, the identity figures and one customer's page.

It waits on what it can count: every produced event resolved in ``customer_events``, then the
attribution of every conversion that has a journey steady across two polls."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, Final

from streams.cli.common import console
from streams.settings import Settings

#: (insight, parameters, columns shown: ``column:header`` abbreviates), each fits 80 columns
CUSTOMER_INSIGHTS: Final[tuple[tuple[str, dict[str, str], tuple[str, ...]], ...]] = (
    ("identity_statistics", {}, ()),
    ("attribution_by_channel_and_model", {}, (
        "channel", "currency:cur", "first_touch:first", "last_touch:last",
        "last_non_direct:last nd",
        "linear", "time_decay:decay", "position_based:40/20/40")),
    ("top_journey_paths", {"limit": "8"}, ("path", "conversions:conv", "revenue")),
)
PEOPLE: Final = 150

Show = Callable[[str, Any, tuple[str, ...]], None]


def _count(querier: Any, sql: str) -> int:
    return int(querier.sql(sql).rows[0][0])


def _steady(querier: Any, sql: str, label: str) -> Callable[[], tuple[bool, str]]:
    """A check that holds once the count ``sql`` gives is above zero and the same in two polls
    in a row."""
    last = [-1]

    def check() -> tuple[bool, str]:
        n = _count(querier, sql)
        steady, last[0] = n == last[0], n
        return steady and n > 0, f"{n} {label}"

    return check


def _wait(what: str, check: Callable[[], tuple[bool, str]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with console.status(what) as status:
        while time.monotonic() < deadline:
            done, progress = check()
            status.update(f"{what} {progress}")
            if done:
                return True
            time.sleep(0.5)
    return False


def customer_demo(settings: Settings, show: Show, seed: int) -> None:
    from streams.contract.codec import AvroCodec
    from streams.io.producer import produce_records
    from streams.io.query import Querier, worker_url
    from streams.simulators.customers import customers

    console.rule("customers: identity, the unified profile, attribution")
    people, identity_phase, converted = customers(PEOPLE, seed=seed)
    encode = AvroCodec.from_settings(settings).encode
    querier = Querier(settings)
    before = _count(querier, "SELECT count() FROM customer_events FINAL")
    produce_records(settings, identity_phase, encode=encode)
    ids = sum(len(p.identifiers) for p in people)
    console.print(f"{len(people)} simulated people with {ids} identifiers between them "
                  f"(devices, anonymous ids, emails, phones, CRM ids): {len(identity_phase)} "
                  "touchpoints and CRM updates, keyed by whichever identifier each carries")

    def resolved(target: int) -> Callable[[], tuple[bool, str]]:
        def check() -> tuple[bool, str]:
            n = _count(querier, "SELECT count() FROM customer_events FINAL") - before
            return n >= target, f"{max(n, 0)}/{target}"
        return check

    if not _wait("resolving identities…", resolved(len(identity_phase)), 300):
        console.print("[red]not every event was resolved within 300 s; see the worker log")
        return
    produce_records(settings, converted, encode=encode)
    console.print(f"{len(converted)} conversions produced")
    if not _wait("attributing conversions…", resolved(len(identity_phase) + len(converted)), 300):
        console.print("[red]not every conversion was resolved within 300 s; see the worker log")
        return
    _wait("attributing conversions…", _steady(
        querier, "SELECT uniqExact(conversion_id) FROM attribution_credits FINAL",
        "conversions attributed"), 60)
    for name, params, shown in CUSTOMER_INSIGHTS:
        show(name, querier.insight(name, params), shown)
    # the person with the most identifiers: several devices joined into one profile
    found = querier.sql(
        "SELECT person_id, identifiers, touchpoints, conversions, lifecycle_stage "
        "FROM customer_profiles FINAL WHERE merged_into IS NULL "
        "ORDER BY length(identifiers) DESC, conversions DESC, person_id LIMIT 1").rows
    if found:
        person, identifiers, touchpoints, conversions, stage = found[0]
        show(f"customer_timeline of {person}",
             querier.insight("customer_timeline", {"person_id": str(person)}),
             ("occurred_at:when", "kind", "type", "channel", "value"))
        console.print(f"{person}: {len(identifiers)} identifiers, {touchpoints} touchpoints, "
                      f"{conversions} conversions, lifecycle stage {stage}")
        console.print("this customer's page, while a worker runs (`touchstream worker`): "
                      f"{worker_url(settings)}/customers/{person}/page")
    _predictions(querier, show)
    querier.close()


def _predictions(querier: Any, show: Show) -> None:
    """The scores the predictive stage gave the simulated people, and what workflows did."""
    console.rule("predictions and workflows")
    _wait("scoring the profiles…", _steady(
        querier, "SELECT uniqExact(person_id) FROM customer_scores FINAL", "people scored"), 60)
    leads = querier.insight("top_leads", {"limit": "5"})
    at = leads.column_names.index("lead_reasons")
    strongest = SimpleNamespace(column_names=leads.column_names, rows=[
        (*row[:at], str(row[at]).split(";")[0], *row[at + 1:]) for row in leads.rows])
    show("top_leads (the strongest reason of each)", strongest,
         ("person_id:person", "lead_score:lead", "lead_reasons:reason", "churn_risk:churn",
          "expected_value_12m:value 12m", "next_best_action:next"))
    fired = querier.sql(
        "SELECT workflow_id, action_type, status, count() AS actions FROM workflow_actions "
        "FINAL GROUP BY workflow_id, action_type, status ORDER BY workflow_id, status")
    show("workflows: what fired and what was delivered", fired,
         ("workflow_id:workflow", "action_type:action", "status", "actions"))
