"""Signed bearer tokens: HMAC-SHA256 over base64url JSON claims, ``payload.signature``.

A token says who is connecting (``sub``), as what (``role``) and until when (``exp``, epoch
seconds). Anyone holding the shared secret can mint tokens, so the secret stays on the
servers that issue and check them. Signatures are compared in constant time.

Two families of roles share the scheme: the ingest gateway's (``widget``, ``agent_desk``,
``chat_service``) and the worker's HTTP API's (``read``: queries, pages, profile JSON;
``operate``: state changes such as erasure, approvals, replays; it can also read). Each
server accepts only its own family (``verify(..., roles=...)``), and the worker's tokens are
signed with their own secret, so a token of one never opens the other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Final, Literal, get_args

Role = Literal["widget", "agent_desk", "chat_service", "read", "operate"]
ROLES: Final[frozenset[str]] = frozenset(get_args(Role))
GATEWAY_ROLES: Final[frozenset[str]] = frozenset({"widget", "agent_desk", "chat_service"})
WORKER_ROLES: Final[frozenset[str]] = frozenset({"read", "operate"})


class TokenError(ValueError):
    """The token is malformed, forged, signed with another secret, or expired."""


@dataclass(frozen=True, slots=True)
class Claims:
    sub: str
    role: Role
    exp: int  # epoch seconds


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str | bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise ValueError("the token secret is empty")
    return key


def _mac(payload: str, secret: str | bytes) -> str:
    return _b64encode(hmac.new(_key(secret), payload.encode("ascii"), hashlib.sha256).digest())


def sign(claims: Claims, secret: str | bytes) -> str:
    """The compact token ``<base64url claims>.<base64url HMAC-SHA256>``."""
    if claims.role not in ROLES:
        raise ValueError(f"role must be one of {sorted(ROLES)}, got {claims.role!r}")
    body = json.dumps(
        {"sub": claims.sub, "role": claims.role, "exp": int(claims.exp)},
        separators=(",", ":"), sort_keys=True,
    )
    payload = _b64encode(body.encode())
    return f"{payload}.{_mac(payload, secret)}"


def issue(sub: str, role: Role, ttl_seconds: float, secret: str | bytes, now: float) -> str:
    """A token for ``sub`` acting as ``role``, valid ``ttl_seconds`` from ``now``."""
    return sign(Claims(sub=sub, role=role, exp=int(now + ttl_seconds)), secret)


def verify(token: str, secret: str | bytes, now: float,
           roles: frozenset[str] | None = None) -> Claims:
    """The claims of a genuine, unexpired token whose role is one of ``roles`` (default: any
    role); raises TokenError otherwise."""
    payload, dot, signature = token.strip().partition(".")
    if not dot or not payload or not signature or "." in signature:
        raise TokenError("malformed token: expected <payload>.<signature>")
    expected = _mac(payload, secret)
    if not hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace")):
        raise TokenError("bad signature")
    try:
        raw = json.loads(_b64decode(payload))
    except (binascii.Error, ValueError) as exc:
        raise TokenError(f"malformed claims: {exc}") from exc
    if not isinstance(raw, dict):
        raise TokenError("malformed claims: not an object")
    sub, role, exp = raw.get("sub"), raw.get("role"), raw.get("exp")
    if not isinstance(sub, str) or not sub:
        raise TokenError("claim sub: missing or not a non-empty string")
    if role not in ROLES:
        raise TokenError(f"claim role: {role!r} is not one of {sorted(ROLES)}")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise TokenError("claim exp: missing or not an integer")
    if now >= exp:
        raise TokenError(f"expired {now - exp:.0f} s ago")
    if roles is not None and role not in roles:
        raise TokenError(f"claim role: {role!r} is not accepted here")
    return Claims(sub=sub, role=role, exp=exp)
