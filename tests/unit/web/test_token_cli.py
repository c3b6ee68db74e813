"""``touchstream ingest token``: worker roles are signed with the worker's secret."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from streams.cli.ingest import ingest
from streams.ingest.tokens import GATEWAY_ROLES, WORKER_ROLES, TokenError, verify
from streams.settings import get_settings


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_worker_roles_use_the_web_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHSTREAM_WEB_SECRET", "web-secret")
    monkeypatch.setenv("TOUCHSTREAM_INGEST_SECRET", "ingest-secret")
    result = CliRunner().invoke(ingest, ["token", "--sub", "ana", "--role", "operate"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    claims = verify(token, "web-secret", time.time(), roles=WORKER_ROLES)
    assert (claims.sub, claims.role) == ("ana", "operate")
    with pytest.raises(TokenError):
        verify(token, "ingest-secret", time.time())
    gateway = CliRunner().invoke(ingest, ["token", "--sub", "w", "--role", "widget"]).output.strip()
    assert verify(gateway, "ingest-secret", time.time(), roles=GATEWAY_ROLES).role == "widget"


def test_worker_roles_need_the_web_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOUCHSTREAM_WEB_SECRET", raising=False)
    monkeypatch.setenv("TOUCHSTREAM_INGEST_SECRET", "ingest-secret")
    result = CliRunner().invoke(ingest, ["token", "--sub", "ana", "--role", "read"])
    assert result.exit_code == 1 and "TOUCHSTREAM_WEB_SECRET" in result.output
