"""The worker's HTTP views: queries, insights, a conversation page, erasure, stats, health.

The embedded ClickHouse engine admits one process per data directory, so in embedded mode the
worker is where analysts' queries run: ``POST /sql`` and ``GET /insights/{name}``, both in a
read-only session with row and time limits (``streams.io.readonly``). Every request first
passes ``guard`` (``agents.web.security``): authentication, roles, origin, body type, CSRF;
every response carries the security headers of ``agents.web.pages``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import json
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final, cast

import faust
from aiohttp import web as aioweb
from faust.web import Request, Response, View

from agents.runtime.core import Runtime
from agents.web import campaigns, customers, erasure, pages, security
from agents.web.masking import mask_personal, reveals
from streams.io.clickhouse import QueryResult
from streams.io.insights import run_insight
from streams.io.query import store_of
from streams.io.readonly import QueryLimitExceeded, ReadOnlyQueries, ReadOnlyRefused, explain

log = logging.getLogger(__name__)
Handler = Callable[[aioweb.Request], Awaitable[aioweb.StreamResponse]]
#: where the guard leaves its decision for the view
ACCESS: Final = aioweb.RequestKey("access", security.Decision)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def result_json(result: QueryResult) -> dict[str, Any]:
    return {
        "columns": list(result.column_names),
        "rows": [[_jsonable(v) for v in row] for row in result.rows],
    }


def facts_of(request: aioweb.Request) -> security.Facts:
    return security.Facts(
        method=request.method, path=request.path, scheme=request.scheme,
        host=request.headers.get("Host"), authorization=request.headers.get("Authorization"),
        content_type=request.headers.get("Content-Type"), origin=request.headers.get("Origin"),
        csrf_header=request.headers.get(security.CSRF_HEADER),
        csrf_cookie=request.cookies.get(security.CSRF_COOKIE),
        has_body=request.body_exists)


def guard(policy: security.Policy) -> Any:
    """The aiohttp middleware that applies ``security.decide`` to every route (Faust's own
    blueprints included) and puts the security headers on every response."""

    @aioweb.middleware
    async def middleware(request: aioweb.Request, handler: Handler) -> aioweb.StreamResponse:
        decision = security.decide(policy, facts_of(request), time.time())
        response: aioweb.StreamResponse
        if not decision.allowed:
            response = aioweb.json_response({"error": decision.reason}, status=decision.status)
            if decision.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="touchstream"'
        else:
            request[ACCESS] = decision
            try:
                response = await handler(request)
            except aioweb.HTTPException as exc:
                response = aioweb.json_response({"error": exc.reason}, status=exc.status)
        for name, value in pages.SECURITY_HEADERS.items():
            if name == "Content-Security-Policy" and name in response.headers:
                continue  # a page that set its own (``pages.csp_for``: hashes only) keeps it
            response.headers[name] = value
        return response

    return middleware


def access(request: Request) -> security.Decision:
    decision = cast(Any, request).get(ACCESS)
    assert isinstance(decision, security.Decision), "the guard middleware is not installed"
    return decision


def register(app: faust.App, runtime: Runtime) -> None:
    settings = runtime.settings
    secret = settings.web_secret.get_secret_value() if settings.web_secret else None
    policy = security.Policy.for_server(
        settings.web_host, secret, require_token=settings.web_require_token,
        allowed_origins=frozenset(settings.web_allowed_origins))
    # an aiohttp middleware sees every route, Faust's own blueprints (/table, /router) too
    cast(Any, app.web).web_app.middlewares.append(guard(policy))
    readonly = ReadOnlyQueries(runtime.clickhouse, max_rows=settings.web_query_max_rows,
                               max_seconds=settings.web_query_max_seconds)

    async def in_thread(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def failed(view: View, exc: Exception) -> Response:
        status = 403 if isinstance(exc, ReadOnlyRefused) else 400
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, QueryLimitExceeded | ReadOnlyRefused):
            message = str(exc)
        return view.json({"error": message}, status=status)

    @app.page("/sql")
    class Sql(View):
        async def post(self, request: Request) -> Response:
            try:
                body = await request.json()
            except ValueError:
                return self.json({"error": "the body must be a JSON object"}, status=400)
            if not isinstance(body, dict) or not isinstance(body.get("sql"), str):
                return self.json({"error": 'expected {"sql": "...", "parameters": {...}}'},
                                 status=400)
            try:
                result = await in_thread(readonly.query, body["sql"],
                                         body.get("parameters") or None)
            except Exception as exc:
                return failed(self, exc)
            return self.json(result_json(result))

    @app.page("/admin/sql")
    class AdminSql(View):
        """Maintenance statements on the store the worker holds (the embedded engine admits one
        process): DETACH/ATTACH, OPTIMIZE, a backfill. ``operate`` only, logged."""

        async def post(self, request: Request) -> Response:
            decision = access(request)
            if not decision.can_operate:  # the guard already refused; kept as a second lock
                return self.json({"error": "an operate token is needed"}, status=403)
            try:
                body = await request.json()
            except ValueError:
                return self.json({"error": "the body must be a JSON object"}, status=400)
            if not isinstance(body, dict) or not isinstance(body.get("sql"), str):
                return self.json({"error": 'expected {"sql": "..."}'}, status=400)
            log.warning("maintenance statement by %s: %s", decision.sub or "local", body["sql"])
            try:
                await in_thread(runtime.clickhouse.command, body["sql"])
            except Exception as exc:
                return failed(self, exc)
            return self.json({"ok": True})

    @app.page("/insights/{name}")
    class Insight(View):
        async def get(self, request: Request, name: str) -> Response:
            params = {k: v for k, v in request.query.items()}
            try:
                result = await in_thread(run_insight, readonly.clickhouse, name, params)
            except Exception as exc:
                return failed(self, explain(exc))
            return self.json(result_json(result))

    def conversation(conversation_id: str) -> dict[str, Any]:
        query, p = readonly.query, {"id": conversation_id}
        states = query("SELECT * FROM conversation_states FINAL "
                       "WHERE conversation_id = {id:String}", p).dicts()
        messages = query(
            "SELECT occurred_at, event_type, sender_role, text, sentiment_compound, "
            "sentiment_label FROM chat_events FINAL WHERE conversation_id = {id:String} "
            "AND event_type = 'MESSAGE' ORDER BY occurred_at, _partition, _offset", p).dicts()
        escalations = query(
            "SELECT created_at, team, priority, severity, reasons FROM escalations FINAL "
            "WHERE conversation_id = {id:String} ORDER BY created_at", p).dicts()
        return {"state": states[-1] if states else None, "messages": messages,
                "escalations": escalations}

    async def load(request: Request, conversation_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await in_thread(conversation, conversation_id)
        if not reveals(access(request).role, settings.web_show_personal_data):
            found = mask_personal(found)
        return found

    @app.page("/conversations/{conversation_id}")
    class ConversationPage(View):
        async def get(self, request: Request, conversation_id: str) -> Response:
            try:
                found = await load(request, conversation_id)
            except Exception as exc:
                status = 403 if isinstance(exc, ReadOnlyRefused) else 500
                return self.html(pages.error_page(status, str(exc).splitlines()[0]),
                                 status=status)
            response = self.html(pages.conversation_page(
                conversation_id, found["state"], found["messages"], found["escalations"]))
            if security.CSRF_COOKIE not in request.cookies:
                cast(Any, response).set_cookie(security.CSRF_COOKIE, secrets.token_urlsafe(24),
                                    samesite="Strict", path="/")
            return response

    @app.page("/api/conversations/{conversation_id}")
    class ConversationJson(View):
        async def get(self, request: Request, conversation_id: str) -> Response:
            try:
                found = await load(request, conversation_id)
            except Exception as exc:
                return failed(self, exc)
            return self.json(_jsonable(found))

    customers.register(app, runtime, readonly)
    campaigns.register(app, runtime, readonly)

    @app.page("/erasures")
    class Erasures(View):
        async def post(self, request: Request) -> Response:
            decision = access(request)
            if not decision.can_operate:  # the guard already refused; kept as a second lock
                return self.json({"error": "an operate token is needed"}, status=403)
            try:
                wanted = erasure.ErasureRequest.from_json(await request.json())
            except (ValueError, erasure.ErasureError) as exc:
                return self.json({"error": str(exc)}, status=400)
            changelogs = [t.changelog_topic.get_topic_name() for t in app.tables.values()]
            topics = sorted({*erasure.compacted_topics(settings), *changelogs})
            try:
                done = await in_thread(erasure.erase, runtime.clickhouse, settings, wanted,
                                       topics, decision.sub or "local")
            except Exception as exc:
                log.exception("erasure failed")
                return self.json({"error": f"erasure failed: {type(exc).__name__}: {exc}"},
                                 status=500)
            if done.needle is not None:
                done.report.worker_keys = erasure.drop_worker_keys(dict(app.tables.items()),
                                                                   done.needle)
            log.info("erasure %s by %s: %s", done.report.erasure_id, decision.sub or "local",
                     json.dumps(done.report.as_json()))
            return self.json(done.report.as_json())

    @app.page("/stats")
    class Stats(View):
        async def get(self, request: Request) -> Response:
            return self.json({"counters": runtime.counters.snapshot(),
                              "latency_ms": runtime.latencies.snapshot(),
                              "table_keys": {name: len(table.data)
                                             for name, table in app.tables.items()}})

    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            # the store it holds, so `touchstream sql` asks it only about that store
            return self.json({"status": "ok", "app_id": runtime.settings.app_id,
                              "store": store_of(runtime.clickhouse.url)})
