"""The HTTP side of a WebSocket handshake: bearer token and Origin checks.

Runs as ``process_request``, before the upgrade, so a refused client gets a plain HTTP
401 or 403 and never a WebSocket.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from streams.ingest.tokens import GATEWAY_ROLES, Claims, Role, TokenError, verify

ProcessRequest = Callable[[ServerConnection, Request], Response | None]


def request_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, else of the ``?token=`` query."""
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    values = parse_qs(urlsplit(request.path).query).get("token")
    return values[0] if values else None


def authenticator(
    secret: str | bytes,
    *,
    allowed_origins: Collection[str] = (),
    roles: Collection[Role] | None = None,
    clock: Callable[[], float] = time.time,
) -> ProcessRequest:
    """A ``process_request`` hook that refuses bad tokens (401) and foreign origins (403).

    A request without an ``Origin`` header is not from a browser and passes the origin check;
    one with it must name an allowed origin. Accepted claims are stored on the connection as
    ``connection.claims``. ``roles`` narrows the gateway's roles; the worker's roles (``read``,
    ``operate``) are never accepted here.
    """
    origins = frozenset(allowed_origins)
    allowed_roles = GATEWAY_ROLES if roles is None else frozenset(roles) & GATEWAY_ROLES

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        token = request_token(request)
        if token is None:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "missing bearer token\n")
        try:
            claims = verify(token, secret, clock())
        except TokenError as exc:
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"invalid token: {exc}\n")
        if claims.role not in allowed_roles:
            return connection.respond(HTTPStatus.FORBIDDEN, f"role {claims.role} not allowed\n")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in origins:
            return connection.respond(HTTPStatus.FORBIDDEN, f"origin {origin} not allowed\n")
        connection.claims = claims  # type: ignore[attr-defined]
        return None

    return process_request


def connection_claims(connection: ServerConnection) -> Claims | None:
    claims = getattr(connection, "claims", None)
    return claims if isinstance(claims, Claims) else None
