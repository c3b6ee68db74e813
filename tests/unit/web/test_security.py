"""Who may call the worker's HTTP API: the pure decision, case by case."""

from __future__ import annotations

import pytest

from agents.web.security import (
    CSRF_COOKIE,
    Facts,
    Policy,
    WebConfigError,
    check_bind,
    decide,
    digest,
    host_name,
    is_loopback,
    need_of,
)
from streams.ingest.tokens import issue

SECRET = "s3cret-for-tests"
NOW = 1_800_000_000.0
LOCAL = Policy.for_server("127.0.0.1", SECRET)
EXPOSED = Policy.for_server("0.0.0.0", SECRET)
HOST = "127.0.0.1:6066"
ORIGIN = "http://127.0.0.1:6066"


def token(role: str, secret: str = SECRET, ttl: float = 60) -> str:
    return issue("tester", role, ttl, secret, NOW)  # type: ignore[arg-type]


def sql_post(**kw: str | None) -> Facts:
    values: dict[str, object] = {"method": "POST", "path": "/sql", "host": HOST,
                                 "content_type": "application/json", "has_body": True}
    values.update(kw)
    return Facts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.5", False),
    ("192.168.1.2", False), ("example.com", False), ("", False),
])
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_host_name_strips_the_port() -> None:
    assert host_name("127.0.0.1:6066") == "127.0.0.1"
    assert host_name("[::1]:6066") == "::1"
    assert host_name("localhost") == "localhost"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "worker.internal"])
def test_no_start_beyond_loopback_without_a_secret(host: str) -> None:
    with pytest.raises(WebConfigError, match="TOUCHSTREAM_WEB_SECRET"):
        check_bind(host, None)
    with pytest.raises(WebConfigError):
        check_bind(host, "")
    check_bind(host, SECRET)  # with a secret it may


def test_loopback_starts_without_a_secret() -> None:
    check_bind("127.0.0.1", None)
    check_bind("localhost", None)


def test_beyond_loopback_every_endpoint_but_health_needs_a_token() -> None:
    assert EXPOSED.require_token and not LOCAL.require_token
    for method, path in [("GET", "/stats"), ("GET", "/conversations/c1"), ("GET", "/table/"),
                         ("GET", "/insights/x"), ("GET", "/no/such/path")]:
        decision = decide(EXPOSED, Facts(method, path, host=HOST), NOW)
        assert decision.status == 401, path
    assert decide(EXPOSED, sql_post(), NOW).status == 401
    assert decide(EXPOSED, Facts("GET", "/health", host="anything"), NOW).allowed
    granted = decide(EXPOSED, Facts("GET", "/stats", host="10.0.0.5:6066",
                                    authorization=f"Bearer {token('read')}"), NOW)
    assert granted.allowed and granted.role == "read" and granted.sub == "tester"


def test_require_token_on_loopback_too() -> None:
    strict = Policy.for_server("127.0.0.1", SECRET, require_token=True)
    assert decide(strict, Facts("GET", "/stats", host=HOST), NOW).status == 401


def test_loopback_tokens_are_optional_but_honoured() -> None:
    assert decide(LOCAL, sql_post(), NOW).allowed
    assert decide(LOCAL, sql_post(authorization=f"Bearer {token('read')}"), NOW).role == "read"
    for bad in ["Bearer nonsense", f"Bearer {token('read', secret='other')}",
                f"Bearer {token('read', ttl=-1)}", f"Bearer {token('widget')}",
                f"Bearer {token('chat_service')}", "Basic dXNlcjpwYXNz"]:
        assert decide(LOCAL, sql_post(authorization=bad), NOW).status == 401, bad


def test_a_token_cannot_be_checked_without_a_secret() -> None:
    bare = Policy.for_server("127.0.0.1", None)
    decision = decide(bare, sql_post(authorization=f"Bearer {token('operate')}"), NOW)
    assert decision.status == 401 and "no TOUCHSTREAM_WEB_SECRET" in decision.reason


def test_cross_origin_text_plain_post_is_refused() -> None:
    # what a page on another site can send without a preflight
    attack = sql_post(content_type="text/plain", origin="https://evil.example")
    assert decide(LOCAL, attack, NOW).status == 403
    # even without an Origin (or same-origin), a text/plain body is not JSON
    assert decide(LOCAL, sql_post(content_type="text/plain"), NOW).status == 415
    assert decide(LOCAL, sql_post(content_type="text/plain", origin=ORIGIN), NOW).status == 415
    form = sql_post(content_type="application/x-www-form-urlencoded")
    assert decide(LOCAL, form, NOW).status == 415
    assert decide(LOCAL, sql_post(content_type="application/json; charset=utf-8"), NOW).allowed


def test_cross_origin_requests_are_refused_even_with_a_token() -> None:
    facts = Facts("GET", "/stats", host=HOST, origin="https://evil.example",
                  authorization=f"Bearer {token('operate')}")
    assert decide(EXPOSED, facts, NOW).status == 403
    allowed = Policy.for_server("0.0.0.0", SECRET,
                                allowed_origins=frozenset({"https://crm.example"}))
    ok = Facts("GET", "/stats", host=HOST, origin="https://crm.example",
               authorization=f"Bearer {token('read')}")
    assert decide(allowed, ok, NOW).allowed


def test_dns_rebinding_is_not_a_local_caller() -> None:
    rebound = Facts("GET", "/stats", host="evil.example:6066")
    assert decide(LOCAL, rebound, NOW).status == 403
    assert decide(LOCAL, Facts("GET", "/stats", host=None), NOW).status == 403
    assert decide(LOCAL, Facts("GET", "/stats", host="localhost:6066"), NOW).allowed


def erasure(**kw: str | None) -> Facts:
    values: dict[str, object] = {"method": "POST", "path": "/erasures", "host": HOST,
                                 "content_type": "application/json", "has_body": True}
    values.update(kw)
    return Facts(**values)  # type: ignore[arg-type]


def test_state_changes_need_operate() -> None:
    assert need_of("POST", "/erasures") == "operate"
    assert need_of("DELETE", "/anything") == "operate"
    assert need_of("POST", "/sql") == "read"
    read = decide(EXPOSED, erasure(authorization=f"Bearer {token('read')}"), NOW)
    assert read.status == 403 and "read role cannot change state" in read.reason
    operate = decide(EXPOSED, erasure(authorization=f"Bearer {token('operate')}"), NOW)
    assert operate.allowed and operate.can_operate
    # on loopback too, a read token does not become an operator
    assert decide(LOCAL, erasure(authorization=f"Bearer {token('read')}"), NOW).status == 403


def test_anonymous_local_state_change_needs_same_origin_and_csrf() -> None:
    assert decide(LOCAL, erasure(), NOW).status == 403  # curl-like: no origin, no CSRF
    assert decide(LOCAL, erasure(origin=ORIGIN), NOW).status == 403  # no CSRF token
    mismatch = erasure(origin=ORIGIN, csrf_header="abc", csrf_cookie="abd")
    assert decide(LOCAL, mismatch, NOW).status == 403
    foreign = erasure(origin="https://evil.example", csrf_header="abc", csrf_cookie="abc")
    assert decide(LOCAL, foreign, NOW).status == 403
    good = decide(LOCAL, erasure(origin=ORIGIN, csrf_header="abc", csrf_cookie="abc"), NOW)
    assert good.allowed and good.can_operate and good.role is None
    # a state change with no body still has to declare JSON (no form posts)
    assert decide(LOCAL, erasure(origin=ORIGIN, csrf_header="abc", csrf_cookie="abc",
                                 content_type=None, has_body=None), NOW).status == 415
    assert CSRF_COOKIE == "touchstream_csrf"


def test_reads_cannot_operate() -> None:
    decision = decide(LOCAL, Facts("GET", "/stats", host=HOST), NOW)
    assert decision.allowed and not decision.can_operate


def test_digest_is_keyed_and_hides_the_identifier() -> None:
    value = digest("Ann@Example.com", SECRET)
    assert value == digest("ann@example.com ", SECRET)
    assert value != digest("ann@example.com", "another")
    assert "ann" not in value and len(value) == 32
