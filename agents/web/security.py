"""Who may call the worker's HTTP API, and how: pure decisions over a request's facts.

Invariants:
- ``/health`` is public. Every other path needs a caller: a bearer token of a worker role
  (``read`` or ``operate``, signed with ``web_secret``), or, only while the server is bound
  to loopback and no token is required, an anonymous local caller.
- A token that is sent is always checked, on loopback too: a wrong, expired or foreign
  (gateway) token is refused with 401, never ignored.
- The worker does not start bound beyond loopback without a secret (``check_bind``).
- Reads (GET, HEAD, and ``POST /sql``, whose session is read-only) need any caller; every
  other request changes state and needs the ``operate`` role, or, for an anonymous local
  caller, a same-origin ``Origin`` and a double-submit CSRF token (header = cookie).
- A browser's ``Origin``, when sent, must be the server's own or an allowed one; a body must be
  ``application/json``: the "simple" cross-site requests (``text/plain``, form posts) a web
  page can send without a preflight are refused.
- An anonymous caller must address a loopback host name (``Host``): a page whose domain is
  re-pointed at 127.0.0.1 (DNS rebinding) is not served as a local caller.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from typing import Final, Literal

from streams.ingest.tokens import WORKER_ROLES, TokenError, verify

Need = Literal["public", "read", "operate"]
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC_PATHS: Final = frozenset({"/health"})
#: POST endpoints that only read (their queries run in a read-only session)
READ_POSTS: Final = frozenset({"/sql"})
CSRF_COOKIE: Final = "touchstream_csrf"
CSRF_HEADER: Final = "X-CSRF-Token"


class WebConfigError(ValueError):
    """The HTTP server's settings would expose it unsafely."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1); False for any other
    name or address, including the wildcards ``0.0.0.0`` and ``::``."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The host of a ``Host`` header, without its port (``[::1]:6066`` -> ``::1``)."""
    value = host_header.strip()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def check_bind(web_host: str, secret: str | None) -> None:
    """Refuse to serve beyond loopback without a secret to check tokens with."""
    if not is_loopback(web_host) and not secret:
        raise WebConfigError(
            f"the worker's HTTP server would listen on {web_host!r}, beyond loopback, without "
            "TOUCHSTREAM_WEB_SECRET: set a secret (tokens are then required on every endpoint "
            "but /health) or bind TOUCHSTREAM_WEB_HOST to 127.0.0.1")


@dataclass(frozen=True, slots=True)
class Policy:
    secret: str | None
    #: tokens are required (bound beyond loopback, or configured so)
    require_token: bool
    allowed_origins: frozenset[str] = frozenset()

    @classmethod
    def for_server(cls, web_host: str, secret: str | None, *, require_token: bool = False,
                   allowed_origins: frozenset[str] = frozenset()) -> Policy:
        return cls(secret or None, require_token or not is_loopback(web_host), allowed_origins)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the decision reads of a request (header values as sent, or None)."""

    method: str
    path: str
    scheme: str = "http"
    host: str | None = None
    authorization: str | None = None
    content_type: str | None = None
    origin: str | None = None
    csrf_header: str | None = None
    csrf_cookie: str | None = None
    has_body: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    status: int  # 200: go ahead
    reason: str
    need: Need
    role: str | None = None  # "read", "operate", or None for a public or anonymous local call
    sub: str | None = None

    @property
    def allowed(self) -> bool:
        return self.status == 200

    @property
    def can_operate(self) -> bool:
        return self.allowed and (self.role == "operate" or (self.role is None
                                                             and self.need == "operate"))


def need_of(method: str, path: str) -> Need:
    if path in PUBLIC_PATHS and method.upper() in SAFE_METHODS:
        return "public"
    if method.upper() in SAFE_METHODS or path in READ_POSTS:
        return "read"
    return "operate"


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def bearer(authorization: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>``; "" for another scheme or no value."""
    if authorization is None:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def own_origin(facts: Facts) -> str | None:
    return f"{facts.scheme}://{facts.host}" if facts.host else None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def decide(policy: Policy, facts: Facts, now: float) -> Decision:
    """Whether to serve the request, as whom, or which status to refuse it with."""
    method = facts.method.upper()
    need = need_of(method, facts.path)
    if need == "public":
        return Decision(200, "public", need)
    origin_ok = facts.origin is None or facts.origin in policy.allowed_origins or (
        facts.origin == own_origin(facts))
    if not origin_ok:
        return Decision(403, f"cross-origin request from {facts.origin} refused", need)
    if method in BODY_METHODS and (facts.has_body or need == "operate") and (
            media_type(facts.content_type) != "application/json"):
        return Decision(415, "the body must be application/json", need)
    token = bearer(facts.authorization)
    if token is not None:
        if not policy.secret:
            return Decision(401, "a token was sent, but this worker has no TOUCHSTREAM_WEB_SECRET "
                            "to check it", need)
        try:
            claims = verify(token, policy.secret, now, roles=WORKER_ROLES)
        except TokenError as exc:
            return Decision(401, f"invalid token: {exc}", need)
        if need == "operate" and claims.role != "operate":
            return Decision(403, f"the {claims.role} role cannot change state; an operate "
                            "token is needed", need, claims.role, claims.sub)
        return Decision(200, "token", need, claims.role, claims.sub)
    if policy.require_token:
        return Decision(401, "a bearer token is required", need)
    if facts.host is None or not is_loopback(host_name(facts.host)):
        return Decision(403, "an anonymous local caller must address the worker by a loopback "
                        "name (localhost, 127.0.0.1, [::1])", need)
    if need == "operate":
        if facts.origin is None or facts.origin != own_origin(facts):
            return Decision(403, "a state change without a token must come from this worker's "
                            "own pages (same Origin)", need)
        if not facts.csrf_header or not facts.csrf_cookie or not _same(
                facts.csrf_header, facts.csrf_cookie):
            return Decision(403, f"a state change without a token needs the {CSRF_HEADER} "
                            f"header equal to the {CSRF_COOKIE} cookie", need)
    return Decision(200, "local", need)


def digest(identifier: str, secret: str | None) -> str:
    """A keyed digest of an identifier, for audit records that must not hold it."""
    key = (secret or "touchstream-erasure").encode()
    return hmac.new(key, identifier.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]
