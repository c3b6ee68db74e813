"""SendGrid-style Event Webhook batches into touchpoints, and rejects with reasons."""

from __future__ import annotations

import json
from pathlib import Path

import fastavro

from streams.marketing.connectors.email import webhook_touchpoints
from streams.simulators.platforms import webhook_batches

SCHEMA = fastavro.parse_schema(json.loads(
    (Path(__file__).parents[4] / "schemas/avro/touchpoint.v1.avsc").read_text()))
START_MS = 1_773_500_000_000
NOW_MS = START_MS + 86_400_000


def test_every_event_becomes_one_touchpoint_or_one_reject() -> None:
    batches = webhook_batches(seed=3, start_ms=START_MS, events=300, batch_size=40, bad=True)
    touchpoints, reasons = [], []
    for batch in batches:
        got, rejects = webhook_touchpoints(json.dumps(batch).encode(), account_id="esp_acme",
                                           now_ms=NOW_MS)
        touchpoints += got
        reasons += [r.reason for r in rejects]
    ids = [t["touchpoint_id"] for t in touchpoints]
    assert len(set(ids)) == 300  # one event was delivered twice; it is one touchpoint
    assert sum(len(b) for b in batches) == 304 and len(touchpoints) in (300, 301)
    assert sorted(reasons) == ["email is missing", "timestamp is in the future",
                               "timestamp is not a number ('soon')"]
    kinds = {t["type"] for t in touchpoints}
    assert kinds <= {"email_delivered", "email_open", "email_click", "email_bounce",
                     "email_unsubscribe", "email_spamreport"} and "email_click" in kinds
    for t in touchpoints:
        assert fastavro.validation.validate(t, SCHEMA, raise_errors=True)
        assert t["channel"] == "email" and t["identifiers"]["email"].endswith("@example.com")
        assert t["campaign_id"] in ("ss_001", "ss_002")
        assert START_MS <= t["occurred_at"] < START_MS + 300_000
        if t["type"] == "email_click":
            assert t["utm"]["medium"] == "email" and t["utm"]["campaign"] == t["campaign_id"]
            assert t["url"] is not None and t["url"].startswith("https://shop.example.com/")
        if t["type"] == "email_bounce":
            assert t["properties"]["reason"].startswith("550")


def test_a_body_that_is_not_a_list_of_events_is_one_reject() -> None:
    for body in (b"{not json", b'{"event": "open"}'):
        touchpoints, rejects = webhook_touchpoints(body, account_id="esp", now_ms=NOW_MS)
        assert touchpoints == [] and len(rejects) == 1
    touchpoints, rejects = webhook_touchpoints(
        [{"event": "open", "email": "a@example.com", "timestamp": "NaN", "sg_event_id": "e1"}, "x"],
        account_id="esp", now_ms=NOW_MS)
    assert touchpoints == []
    assert [r.reason for r in rejects] == ["timestamp is not finite ('NaN')", "event is not an object"]
