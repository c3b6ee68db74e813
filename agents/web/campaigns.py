"""The campaigns page: KPIs, anomalies with their drill-down, pending recommendations.

Routes (HTML pages and their JSON twins, which the tests and scripts read):
- ``GET /campaigns`` and ``/api/campaigns``: per platform and campaign the KPIs of the last
  ``hours`` hours in ``currency`` (insight ``campaign_roi_hourly``), today's pacing (insight
  ``campaign_pacing``), its anomaly count, and the recommendations awaiting a decision;
- ``GET /campaigns/{platform}/{campaign_id}`` and ``/api/...``: its KPIs per hour, its
  anomalies (the latest ``DRILLED`` with the ad groups, ads, devices and hours behind each,
  ``optimise_anomalies.drill``; every one with the path of its own drill-down,
  ``drill_down`` in the JSON) and its recommendations;
- ``GET /campaigns/{platform}/{campaign_id}/anomalies/{hour_ms}/{metric}/{direction}/{status}``
  and ``/api/...``: one anomaly (a row of ``anomalies``, whatever its age) with its drill-down;
  404 when there is no such row;
- ``POST /recommendations/{request_id}/approve`` and ``.../reject`` with ``{"reason": ...}``.

Invariants:
- A decision goes through ``optimise_apply.transition``, the function behind ``touchstream
  optimise approve|reject``, audited with the caller (the token's subject, or ``local``); its
  transitions are published to the recommendations topic, the audit trail, and the answer
  says whether the worker has sunk them yet. Decisions are taken one at a time, so two
  clicks never both see a request as pending.
- State changes need the operate role or, for an anonymous local caller, the same-origin
  double-submit CSRF token (``agents.web.security``): the pages set the cookie, their one
  script sends it back as a header. The pages keep their own hash-pinned policy.
- Reads run in the worker's read-only session, with its row and time limits.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any, Final, cast

import faust
from faust.web import Request, Response, View

from agents.runtime.core import Runtime
from agents.web import campaign_pages, pages, security
from streams.io.insights import run_insight
from streams.io.publisher import Outgoing
from streams.io.readonly import QueryLimitExceeded, ReadOnlyQueries, ReadOnlyRefused, explain
from streams.kernel.records import OutputRecord
from streams.marketing import campaign_views as views
from streams.marketing import contract as names
from streams.marketing.approval import Ledger, TransitionError
from streams.marketing.recommendations import ledger_from_rows
from streams.ops.connectors import connectors_from_settings
from streams.ops.optimise import REQUEST_SQL, request_rows
from streams.ops.optimise_anomalies import drill, recent_alerts
from streams.ops.optimise_apply import transition

log = logging.getLogger(__name__)
HOUR_MS: Final = 3_600_000
#: anomalies of a campaign page drilled into (each drill-down reads five windows of rows)
DRILLED: Final = 5
DRILL_TOP: Final = 5
MAX_ALERTS: Final = 10_000
MAX_REASON: Final = 1_000
#: how long a decision waits for the worker to sink its own transitions before answering
RECORDED_WITHIN_S: Final = 15.0
PUBLISH_WITHIN_S: Final = 30.0
NAMES_SQL: Final = f"""
SELECT platform, campaign_id, argMax(campaign_name, reported_at) AS name
FROM {names.CAMPAIGN_KPIS_TABLE}
WHERE interval_start >= now64(3) - toIntervalHour({{hours:UInt32}})
GROUP BY platform, campaign_id
"""
#: requests whose only row is ``pending``: every transition adds a row
PENDING_WHERE: Final = (
    "status = 'pending' AND request_id NOT IN (SELECT request_id FROM "
    f"{names.RECOMMENDATIONS_TABLE} WHERE status NOT IN ('pending', 'refused'))")
CAMPAIGN_WHERE: Final = "platform = {platform:String} AND campaign_id = {campaign:String}"
#: one alert by its row's key (an alias named as a column would shadow it in WHERE)
ALERT_SQL: Final = f"""
SELECT platform, campaign_id, metric, direction, status, severity,
       toUnixTimestamp64Milli(hour) AS hour_ms, toUnixTimestamp64Milli(since) AS since_ms,
       value, baseline, change, z, window_hours
FROM {names.ANOMALIES_TABLE} FINAL
WHERE {CAMPAIGN_WHERE} AND metric = {{metric:String}} AND direction = {{direction:String}}
  AND status = {{status:String}} AND hour = fromUnixTimestamp64Milli({{hour_ms:Int64}})
LIMIT 1
"""


class NotFound(LookupError):
    """No such recommendation."""


def caller(request: Request) -> security.Decision:
    """The guard's decision on this request (``views.guard`` keeps it on the request under a
    key of ``views``, which imports this module: found by its type)."""
    for value in cast(Any, request).values():
        if isinstance(value, security.Decision):
            return value
    raise AssertionError("the guard middleware is not installed")


def register(app: faust.App, runtime: Runtime, readonly: ReadOnlyQueries) -> None:
    """Adds the campaigns pages, their JSON twins and the decision endpoints."""
    settings = runtime.settings
    one_at_a_time = asyncio.Lock()

    def query(sql: str, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
        return readonly.query(sql, dict(parameters)).dicts()

    def insight(name: str, **parameters: str) -> list[dict[str, Any]]:
        try:
            return run_insight(readonly.clickhouse, name, parameters).dicts()
        except Exception as exc:
            raise explain(exc) from exc

    def hourly_rows(window: views.Window, level: str) -> list[dict[str, Any]]:
        return insight("campaign_roi_hourly", currency=window.currency, level=level,
                       hours=str(window.hours))

    def names_of(window: views.Window) -> dict[tuple[str, str], str]:
        return {views.campaign_key(r): str(r["name"])
                for r in query(NAMES_SQL, {"hours": window.hours})}

    def alerts(window: views.Window) -> list[dict[str, Any]]:
        return recent_alerts(query, int(time.time() * 1000) - window.hours * HOUR_MS, MAX_ALERTS)

    def ledger(where: str, parameters: Mapping[str, Any]) -> Ledger:
        return ledger_from_rows(query(REQUEST_SQL.format(where=where), parameters))

    def overview(window: views.Window) -> dict[str, Any]:
        pending = ledger(PENDING_WHERE, {})
        rows = views.summaries(
            window, {level: hourly_rows(window, level) for level in views.LEVELS},
            insight("campaign_pacing", currency=window.currency), names_of(window),
            alerts(window), pending)
        return {"window": window, "campaigns": rows,
                "pending": views.recommendations(pending, status="pending")}

    def campaign(window: views.Window, platform: str, campaign_id: str) -> dict[str, Any]:
        key = (platform, campaign_id)
        level, rows = views.LEVELS[0], []
        for level in views.LEVELS:
            rows = [r for r in hourly_rows(window, level) if views.campaign_key(r) == key]
            if rows:
                break
        own = ledger(CAMPAIGN_WHERE, {"platform": platform, "campaign": campaign_id})
        found = views.alerts_of(alerts(window), platform, campaign_id)
        summary = views.summaries(
            window, {level: rows},
            [r for r in insight("campaign_pacing", currency=window.currency)
             if views.campaign_key(r) == key], names_of(window), found, own)
        return {
            "window": window, "platform": platform, "campaign_id": campaign_id,
            "summary": summary[0] if summary else None, "hours": views.hourly(rows),
            "anomalies": [views.anomaly_view(a, drill(query, a, DRILL_TOP) if i < DRILLED
                                             else None) for i, a in enumerate(found)],
            "recommendations": views.recommendations(own, campaign=key)}

    def anomaly(window: views.Window, platform: str, campaign_id: str, hour_ms: str,
                metric: str, direction: str, status: str) -> dict[str, Any] | None:
        key = views.anomaly_key(platform, campaign_id, hour_ms, metric, direction, status)
        found = query(ALERT_SQL, {"platform": key.platform, "campaign": key.campaign_id,
                                  "metric": key.metric, "direction": key.direction,
                                  "status": key.status, "hour_ms": key.hour_ms})
        if not found:
            return None
        # shaped as ``optimise_anomalies.recent_alerts`` returns alerts
        row = found[0]
        hour, since = int(row.pop("hour_ms")), int(row.pop("since_ms"))
        alert = {**row, "hour": hour, "since": since}
        return {"window": window, "platform": platform, "campaign_id": campaign_id,
                "anomaly": views.anomaly_view(alert, drill(query, alert, DRILL_TOP))}

    def with_links(found: dict[str, Any]) -> Any:
        """The campaign's JSON, each anomaly with the path of its own drill-down page."""
        plain = views.plain(found)
        for view, shown in zip(found["anomalies"], plain["anomalies"], strict=True):
            shown["drill_down"] = views.anomaly_path(found["platform"], found["campaign_id"],
                                                     view)
        return plain

    async def in_thread(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def refused(exc: Exception) -> tuple[int, str]:
        if isinstance(exc, ValueError | QueryLimitExceeded):  # a bad window, or too wide a one
            return 400, str(exc)
        status = 403 if isinstance(exc, ReadOnlyRefused) else 500
        log.warning("campaigns page failed: %s", exc)
        return status, str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    def as_page(view: View, request: Request, html: str) -> Response:
        response = view.html(html, headers={"Content-Security-Policy": campaign_pages.POLICY})
        if security.CSRF_COOKIE not in request.cookies:  # the double-submit token the script sends
            cast(Any, response).set_cookie(security.CSRF_COOKIE, secrets.token_urlsafe(24),
                                           samesite="Strict", path="/")
        return response

    async def load(fn: Any, request: Request, *args: str) -> tuple[Any, int, str]:
        """What ``fn`` found for the request's window, or None with a status and why."""
        try:
            return await in_thread(fn, views.window_of(dict(request.query)), *args), 200, ""
        except Exception as exc:
            return (None, *refused(exc))

    @app.page("/campaigns")
    class Campaigns(View):
        async def get(self, request: Request) -> Response:
            found, status, message = await load(overview, request)
            if found is None:
                return self.html(pages.error_page(status, message), status=status)
            return as_page(self, request, campaign_pages.list_page(
                found["window"], found["campaigns"], found["pending"]))

    @app.page("/api/campaigns")
    class CampaignsJson(View):
        async def get(self, request: Request) -> Response:
            found, status, message = await load(overview, request)
            return self.json(views.plain(found) if found is not None else {"error": message},
                             status=status)

    @app.page("/campaigns/{platform}/{campaign_id}")
    class CampaignPage(View):
        async def get(self, request: Request, platform: str, campaign_id: str) -> Response:
            found, status, message = await load(campaign, request, platform, campaign_id)
            if found is None:
                return self.html(pages.error_page(status, message), status=status)
            return as_page(self, request, campaign_pages.campaign_page(
                found["window"], platform, campaign_id, found["summary"], found["hours"],
                found["anomalies"], found["recommendations"], DRILLED))

    @app.page("/api/campaigns/{platform}/{campaign_id}")
    class CampaignJson(View):
        async def get(self, request: Request, platform: str, campaign_id: str) -> Response:
            found, status, message = await load(campaign, request, platform, campaign_id)
            return self.json(with_links(found) if found is not None else {"error": message},
                             status=status)

    async def load_anomaly(request: Request, *key: str) -> tuple[Any, int, str]:
        found, status, message = await load(anomaly, request, *key)
        if status == 200 and found is None:
            return None, 404, "no such anomaly"
        return found, status, message

    @app.page("/campaigns/{platform}/{campaign_id}/anomalies/{hour_ms}/{metric}/{direction}"
              "/{status}")
    class AnomalyPage(View):
        async def get(self, request: Request, platform: str, campaign_id: str, hour_ms: str,
                      metric: str, direction: str, status: str) -> Response:
            found, code, message = await load_anomaly(request, platform, campaign_id, hour_ms,
                                                      metric, direction, status)
            if found is None:
                return self.html(pages.error_page(code, message), status=code)
            return as_page(self, request, campaign_pages.anomaly_page(
                found["window"], platform, campaign_id, found["anomaly"]))

    @app.page("/api/campaigns/{platform}/{campaign_id}/anomalies/{hour_ms}/{metric}"
              "/{direction}/{status}")
    class AnomalyJson(View):
        async def get(self, request: Request, platform: str, campaign_id: str, hour_ms: str,
                      metric: str, direction: str, status: str) -> Response:
            found, code, message = await load_anomaly(request, platform, campaign_id, hour_ms,
                                                      metric, direction, status)
            return self.json(views.plain(found) if found is not None else {"error": message},
                             status=code)

    def decide(request_id: str, decision: str, actor: str,
               reason: str) -> tuple[Ledger, list[OutputRecord], str]:
        if not request_rows(query, request_id):
            raise NotFound(f"no recommendation {request_id}")
        connectors = {c.platform: c for c in connectors_from_settings(settings)}
        return transition(query, request_id, "approve" if decision == "approve" else "reject",
                          actor, reason, int(time.time() * 1000), connectors)

    def status_of(request_id: str) -> str | None:
        req = ledger_from_rows(request_rows(query, request_id)).requests.get(request_id)
        return None if req is None else req.status

    async def recorded(request_id: str, status: str) -> bool:
        """Whether the worker has sunk the request's new status (waits a little for it)."""
        deadline = time.monotonic() + RECORDED_WITHIN_S
        while True:
            if await in_thread(status_of, request_id) == status:
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)

    @app.page("/recommendations/{request_id}/{decision}")
    class Decide(View):
        async def post(self, request: Request, request_id: str, decision: str) -> Response:
            who = caller(request)
            if not who.can_operate:  # the guard already refused; kept as a second lock
                return self.json({"error": "an operate token is needed"}, status=403)
            if decision not in ("approve", "reject"):
                return self.json({"error": "the decision is approve or reject"}, status=404)
            try:
                body = await request.json()
            except ValueError:
                return self.json({"error": "the body must be a JSON object"}, status=400)
            reason = body.get("reason") if isinstance(body, dict) else None
            if not isinstance(reason, str | None) or len(reason or "") > MAX_REASON:
                return self.json({"error": f'expected {{"reason": "..."}} (at most '
                                           f"{MAX_REASON} characters)"}, status=400)
            reason = (reason or "").strip()
            if decision == "reject" and not reason:
                return self.json({"error": "a rejection needs a reason"}, status=400)
            actor = who.sub or "local"
            async with one_at_a_time:
                try:
                    ledger_after, records, outcome = await in_thread(
                        decide, request_id, decision, actor, reason or "approved")
                except NotFound as exc:
                    return self.json({"error": str(exc)}, status=404)
                except TransitionError as exc:
                    return self.json({"error": str(exc)}, status=409)
                except Exception as exc:
                    log.exception("deciding %s failed", request_id)
                    return self.json({"error": f"{type(exc).__name__}: {exc}"}, status=500)
                try:
                    await asyncio.wait_for(runtime.publisher.publish([
                        Outgoing(settings.topic(r.topic), r.key.encode(),
                                 runtime.codec.encode(r.topic, r.value)) for r in records]),
                        PUBLISH_WITHIN_S)
                except TimeoutError:
                    return self.json({"error": "the decision could not be recorded (Kafka is "
                                      "unavailable); deciding again is safe"}, status=503)
                status = ledger_after.requests[request_id].status
                seen = await recorded(request_id, status)
            log.info("recommendation %s: %s by %s (%s)", request_id, status, actor,
                     outcome or reason)
            return self.json({"request_id": request_id, "status": status, "actor": actor,
                              "outcome": outcome, "transitions": len(records),
                              "recorded": seen})
