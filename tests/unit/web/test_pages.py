"""Pages escape what they show and forbid what an injection would need."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re

from agents.web.pages import CSP, SECURITY_HEADERS, STYLE, conversation_page, error_page, esc

ATTACK = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>\"'&"


def test_escaping() -> None:
    assert esc(ATTACK) == ("&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;"
                           "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;")
    assert esc(None) == "" and esc(["a<", "b"]) == "a&lt;, b"


def test_the_conversation_page_escapes_every_value() -> None:
    when = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
    page = conversation_page(
        ATTACK, {"status": ATTACK, "customer_id": ATTACK, "sentiment_mean": -0.4},
        [{"occurred_at": when, "sender_role": "CUSTOMER", "text": ATTACK,
          "sentiment_label": ATTACK, "sentiment_compound": -0.7}],
        [{"created_at": when, "team": ATTACK, "priority": "high", "reasons": [ATTACK]}])
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert page.count("&lt;script&gt;") >= 6
    assert re.search(r"<td class=\"text\">&lt;script&gt;", page)
    assert "<script" not in error_page(400, ATTACK)


def test_headers_forbid_scripts_framing_and_sniffing() -> None:
    assert SECURITY_HEADERS["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in CSP and "default-src 'none'" in CSP
    assert "script-src" not in CSP and "unsafe-inline" not in CSP
    pinned = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"style-src 'sha256-{pinned}'" in CSP
    assert SECURITY_HEADERS["Content-Security-Policy"] == CSP
