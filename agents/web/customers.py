"""The customer views: the unified profile and timeline as JSON, and a page per customer.

Routes (``{identifier}``: any identifier of a person - person id, customer id, email, phone,
anonymous or device id, optionally as ``<kind>:<value>`` - read as the pipeline reads it):
- ``GET /customers/{identifier}``: the JSON profile (``profile_queries.profile``);
- ``GET /customers/{identifier}/timeline?before=<ms>&limit=<n>``: a page of the timeline,
  newest first by page, in time order within it; ``next_before`` asks for the older page;
- ``GET /customers/{identifier}/page[?before=&limit=]``: the page (``customer_pages``).
No person with that identifier: 404 with a JSON error (an HTML one for the page); a bad
``before`` or ``limit``: 400.

Invariants:
- reads run in the worker's read-only session (row and time limits), off the event loop;
- emails and phones are masked (``masking.mask_personal``) unless the caller's role may see
  them (``masking.reveals``), in the JSON and on the page alike;
- the page carries its own policy (``customer_pages.CSP``), which the guard keeps.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from typing import Any, Final, cast

import faust
from faust.web import Request, Response, View

from agents.runtime.core import Runtime
from agents.web import customer_pages, pages, security
from agents.web.masking import mask_personal, reveals
from streams.customer import profile_queries as pq
from streams.io.readonly import ReadOnlyQueries, ReadOnlyRefused
from streams.settings import Settings

DEFAULT_PAGE: Final = 50
PAGE_RECENT: Final = 20


class BadRequest(ValueError):
    """A query parameter that is not what the endpoint takes."""


def lookup_policy(settings: Settings) -> pq.LookupPolicy:
    """Identifiers read as the worker's customer stages read them (hashed alike)."""
    salt = settings.customer_hash_salt
    hashed = settings.customer_hash_identifiers and salt is not None
    return pq.LookupPolicy(hash_salt=salt.get_secret_value().encode() if hashed and salt
                           else None,
                           recent_limit=min(settings.customer_recent_interactions, PAGE_RECENT))


def paging(params: Mapping[str, str]) -> tuple[int | None, int]:
    """``before`` (ms, optional) and ``limit`` (1 to ``MAX_PAGE``) of a timeline request."""
    try:
        before = int(params["before"]) if params.get("before") not in (None, "") else None
        limit = int(params.get("limit") or DEFAULT_PAGE)
    except ValueError as exc:
        raise BadRequest("before and limit are whole numbers (before: epoch milliseconds)"
                         ) from exc
    if not 1 <= limit <= pq.MAX_PAGE:
        raise BadRequest(f"limit is between 1 and {pq.MAX_PAGE}")
    if before is not None and before < 0:
        raise BadRequest("before is epoch milliseconds, not negative")
    return before, limit


def caller_role(request: Request) -> str | None:
    """The role the guard granted this request (its decision is kept on the request under a
    key of ``views``, which imports this module: found by its type)."""
    for value in cast(Any, request).values():
        if isinstance(value, security.Decision):
            return value.role
    raise AssertionError("the guard middleware is not installed")


def register(app: faust.App, runtime: Runtime, readonly: ReadOnlyQueries) -> None:
    """Adds the customer profile, timeline and page routes to the worker's web server."""
    settings = runtime.settings
    policy = lookup_policy(settings)

    def query(sql: str, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
        return readonly.query(sql, dict(parameters)).dicts()

    async def in_thread(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def shown(request: Request, found: Any) -> Any:
        if reveals(caller_role(request), settings.web_show_personal_data):
            return found
        return mask_personal(found)

    def failed(view: View, exc: Exception) -> Response:
        if isinstance(exc, BadRequest):
            return view.json({"error": str(exc)}, status=400)
        status = 403 if isinstance(exc, ReadOnlyRefused) else 500
        return view.json({"error": str(exc).splitlines()[0] if str(exc) else
                          type(exc).__name__}, status=status)

    def missing(identifier: str) -> dict[str, str]:
        return {"error": "no person has this identifier", "identifier": identifier}

    @app.page("/customers/{identifier}")
    class CustomerJson(View):
        async def get(self, request: Request, identifier: str) -> Response:
            try:
                found = await in_thread(pq.profile, query, identifier, policy)
            except Exception as exc:
                return failed(self, exc)
            if found is None:
                return self.json(shown(request, missing(identifier)), status=404)
            return self.json(shown(request, found))

    @app.page("/customers/{identifier}/timeline")
    class CustomerTimeline(View):
        async def get(self, request: Request, identifier: str) -> Response:
            try:
                before, limit = paging(dict(request.query))
                found = await in_thread(pq.customer_timeline, query, identifier, before,
                                        limit, policy)
            except Exception as exc:
                return failed(self, exc)
            if found is None:
                return self.json(shown(request, missing(identifier)), status=404)
            return self.json(shown(request, found))

    @app.page("/customers/{identifier}/page")
    class CustomerPage(View):
        async def get(self, request: Request, identifier: str) -> Response:
            try:
                before, limit = paging(dict(request.query))
                got = await in_thread(pq.profile_page, query, identifier, before, limit,
                                      policy)
            except Exception as exc:
                status = (400 if isinstance(exc, BadRequest) else
                          403 if isinstance(exc, ReadOnlyRefused) else 500)
                return self.html(pages.error_page(status, str(exc).splitlines()[0]),
                                 status=status)
            if got is None:
                return self.html(pages.error_page(404, "No person has this identifier."),
                                 status=404)
            found, page = got
            older = customer_pages.older_link(identifier, page.next_before, limit)
            response = self.html(customer_pages.customer_page(
                shown(request, found), shown(request, page.items), older))
            response.headers["Content-Security-Policy"] = customer_pages.CSP
            if security.CSRF_COOKIE not in request.cookies:
                cast(Any, response).set_cookie(security.CSRF_COOKIE, secrets.token_urlsafe(24),
                                               samesite="Strict", path="/")
            return response
