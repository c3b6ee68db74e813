"""The aiohttp middleware: refusals as JSON with the right status, headers on every answer."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from agents.web.pages import SECURITY_HEADERS
from agents.web.security import Policy
from agents.web.views import ACCESS, guard
from streams.ingest.tokens import issue

SECRET = "s3cret-for-tests"


async def ok(request: web.Request) -> web.StreamResponse:
    return web.json_response({"role": request[ACCESS].role})


async def missing(request: web.Request) -> web.StreamResponse:
    raise web.HTTPNotFound()


def call(policy: Policy, method: str, path: str, headers: dict[str, str],
         handler: Any = ok) -> web.StreamResponse:
    request = make_mocked_request(method, path, headers=headers)
    response: web.StreamResponse = asyncio.run(guard(policy)(request, handler))
    return response


def test_refusals_and_grants_carry_the_security_headers() -> None:
    exposed = Policy.for_server("0.0.0.0", SECRET)
    refused = call(exposed, "GET", "/stats", {"Host": "10.0.0.5:6066"})
    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    token = issue("t", "read", 60, SECRET, __import__("time").time())
    granted = call(exposed, "GET", "/stats", {"Host": "10.0.0.5:6066",
                                              "Authorization": f"Bearer {token}"})
    assert granted.status == 200
    for response in (refused, granted):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value


def test_cross_origin_text_plain_post_never_reaches_the_view() -> None:
    reached: list[bool] = []

    async def view(request: web.Request) -> web.StreamResponse:
        reached.append(True)
        return web.json_response({})

    local = Policy.for_server("127.0.0.1", None)
    response = call(local, "POST", "/sql", {"Host": "127.0.0.1:6066",
                                            "Content-Type": "text/plain",
                                            "Origin": "https://evil.example"}, view)
    assert response.status == 403 and not reached


def test_errors_of_views_get_the_headers_too() -> None:
    local = Policy.for_server("127.0.0.1", None)
    response = call(local, "GET", "/nowhere", {"Host": "127.0.0.1:6066"}, missing)
    assert response.status == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"
