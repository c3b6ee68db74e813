"""The conversation page in a real headless browser: a chat message carrying markup and
script renders as text, nothing in it runs, and personal data is masked."""

from __future__ import annotations

import time
import uuid

import pytest

from streams import topics
from streams.io.kafka_admin import end_offsets
from streams.io.producer import produce_records
from streams.io.query import worker_url
from streams.kernel.records import OutputRecord
from tests.browser.conftest import chromium_page
from tests.integration.conftest import Pipeline, eventually

pytestmark = pytest.mark.integration
ATTACK = ("<script>document.title='pwned';window.__pwned=1</script>"
          "<img src=x onerror=\"window.__pwned=2\"> write to ann.page@example.com")


def event(cid: str, kind: str, role: str, at: int, text: str | None) -> OutputRecord:
    return OutputRecord(topics.CHAT_EVENTS, cid, {
        "event_id": str(uuid.uuid4()), "conversation_id": cid, "event_type": kind,
        "occurred_at": at, "channel": "WEB", "sender_role": role, "sender_id": None,
        "text": text, "language": "en",
        "customer": {"customer_id": "cust-page", "email": None, "phone": None,
                     "anonymous_id": None},
        "metadata": {}})


def test_script_in_a_chat_message_renders_as_text_and_does_not_run(pipeline: Pipeline) -> None:
    pipeline.start_worker()
    cid = f"conv-{uuid.uuid4().hex[:6]}"
    at = int(time.time() * 1000) - 10_000
    produce_records(pipeline.settings, iter([
        event(cid, "STARTED", "SYSTEM", at, None),
        event(cid, "MESSAGE", "CUSTOMER", at + 1000, ATTACK),
        event(cid, "MESSAGE", "BOT", at + 2000, "Sorry <b>about</b> that."),
    ]), encode=pipeline.codec.encode)
    pipeline.wait_sunk({topics.CHAT_EVENTS: end_offsets(pipeline.settings, topics.CHAT_EVENTS)})
    q = pipeline.querier()
    eventually(lambda: q.sql("SELECT count() FROM chat_events WHERE conversation_id = "
                             "{c:String} AND event_type = 'MESSAGE'", {"c": cid}).rows == [(2,)])

    with chromium_page() as (page, dialogs):
        response = page.goto(f"{worker_url(pipeline.settings)}/conversations/{cid}")
        assert response is not None and response.status == 200
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        page.wait_for_load_state("load")
        texts = page.locator("td.text").all_inner_texts()
        customer_text = next(t for t in texts if "pwned" in t)
        # the markup is shown as the characters the customer typed ...
        assert "<script>document.title='pwned';window.__pwned=1</script>" in customer_text
        assert '<img src=x onerror="window.__pwned=2">' in customer_text
        assert "Sorry <b>about</b> that." in texts
        # ... and none of it became an element or ran
        assert page.evaluate("document.querySelectorAll('td script, td img, td b').length") == 0
        assert page.evaluate("document.querySelectorAll('script').length") == 0
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.title() == f"Conversation {cid}"
        assert dialogs == []
        # an anonymous local caller reads with the read role's masking
        assert "ann.page@example.com" not in customer_text
        assert "a***@***.com" in customer_text
