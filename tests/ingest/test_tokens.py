from __future__ import annotations

import base64
import json

import pytest

from streams.ingest.tokens import Claims, TokenError, issue, sign, verify

SECRET = "s3cret"
NOW = 1_800_000_000.0


def test_good_token_round_trips() -> None:
    token = sign(Claims(sub="widget-42", role="widget", exp=int(NOW) + 60), SECRET)
    assert verify(token, SECRET, NOW) == Claims(sub="widget-42", role="widget", exp=int(NOW) + 60)
    assert token.count(".") == 1


def test_issue_sets_expiry_from_ttl() -> None:
    claims = verify(issue("svc", "chat_service", 300, SECRET, NOW), SECRET, NOW)
    assert claims.exp == int(NOW) + 300 and claims.role == "chat_service"


def test_tampered_claims_are_refused() -> None:
    token = issue("widget-42", "widget", 60, SECRET, NOW)
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "agent_desk"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError, match="bad signature"):
        verify(f"{forged}.{signature}", SECRET, NOW)


def test_tampered_signature_is_refused() -> None:
    token = issue("widget-42", "widget", 60, SECRET, NOW)
    last = "A" if token[-1] != "A" else "B"
    with pytest.raises(TokenError, match="bad signature"):
        verify(token[:-1] + last, SECRET, NOW)


def test_expired_token_is_refused() -> None:
    token = issue("widget-42", "widget", 60, SECRET, NOW)
    assert verify(token, SECRET, NOW + 59).sub == "widget-42"
    with pytest.raises(TokenError, match="expired"):
        verify(token, SECRET, NOW + 60)


def test_wrong_secret_is_refused() -> None:
    token = issue("widget-42", "widget", 60, SECRET, NOW)
    with pytest.raises(TokenError, match="bad signature"):
        verify(token, "another secret", NOW)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", ".sig", "payload."])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(TokenError):
        verify(token, SECRET, NOW)


def test_unknown_role_cannot_be_signed() -> None:
    with pytest.raises(ValueError, match="role"):
        sign(Claims(sub="x", role="admin", exp=1), SECRET)  # type: ignore[arg-type]
