"""The worker's roles share the token scheme without opening the gateway, and vice versa."""

from __future__ import annotations

from typing import Any

import pytest

from streams.ingest.auth import authenticator
from streams.ingest.tokens import GATEWAY_ROLES, WORKER_ROLES, TokenError, issue, verify

SECRET = "shared-by-mistake"
NOW = 1_800_000_000.0


def test_roles_are_checked_per_server() -> None:
    read = issue("ana", "read", 60, SECRET, NOW)
    assert verify(read, SECRET, NOW, roles=WORKER_ROLES).role == "read"
    with pytest.raises(TokenError, match="not accepted here"):
        verify(read, SECRET, NOW, roles=GATEWAY_ROLES)
    widget = issue("w", "widget", 60, SECRET, NOW)
    with pytest.raises(TokenError, match="not accepted here"):
        verify(widget, SECRET, NOW, roles=WORKER_ROLES)


class FakeConnection:
    def respond(self, status: Any, text: str) -> tuple[int, str]:
        return int(status), text


class FakeRequest:
    def __init__(self, token: str) -> None:
        self.headers = {"Authorization": f"Bearer {token}"}
        self.path = "/"


def test_the_gateway_refuses_worker_tokens_even_under_the_same_secret() -> None:
    check = authenticator(SECRET, clock=lambda: NOW)
    refused: Any = check(FakeConnection(), FakeRequest(issue("ana", "operate", 60, SECRET, NOW)))  # type: ignore[arg-type]
    assert refused == (403, "role operate not allowed\n")
    assert check(FakeConnection(), FakeRequest(issue("w", "widget", 60, SECRET, NOW))) is None  # type: ignore[arg-type]
