"""The email Event Webhook endpoint (``streams.ops.connectors_webhook``) on loopback, with
Kafka replaced by a recorder: the token is required, events become keyed touchpoints,
broken events dead letters with their reason, and a broker that fails answers 503."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aiohttp import ClientSession, web
from pydantic import SecretStr

from streams.contract.codec import AvroCodec
from streams.io.publisher import Outgoing
from streams.kernel.deadletter import H_REASON, H_TOPIC
from streams.ops.connectors_webhook import PATH, webhook_app
from streams.settings import Settings
from streams.simulators.platforms import webhook_batches
from tests.unit.marketing.connectors.conftest import run

SETTINGS = Settings(topic_prefix="p.", email_webhook_token=SecretStr("s3cret"),
                    email_account_ids=["esp_acme"])
NOW_MS = 1_773_570_600_000


async def post(batches: Sequence[Any], token: str | None, fail: bool = False
               ) -> tuple[list[int], list[Outgoing]]:
    sent: list[Outgoing] = []

    async def publish(records: Sequence[Outgoing]) -> None:
        if fail:
            raise ConnectionError("broker down")
        sent.extend(records)

    codec = AvroCodec.from_settings(SETTINGS)
    runner = web.AppRunner(webhook_app(SETTINGS, publish, codec.encode))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    statuses = []
    try:
        async with ClientSession() as session:
            for batch in batches:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                async with session.post(f"http://127.0.0.1:{port}{PATH}", data=json.dumps(batch),
                                        headers=headers) as response:
                    statuses.append(response.status)
    finally:
        await runner.cleanup()
    return statuses, sent


def test_events_become_touchpoints_and_broken_ones_dead_letters() -> None:
    import time

    batches = webhook_batches(7, int(time.time() * 1000) - 60_000, 40, 25, bad=True)
    statuses, sent = run(lambda: post(batches, "s3cret"))
    assert statuses == [200] * len(batches)
    touchpoints = [o for o in sent if o.topic == "p.touchpoints"]
    letters = [o for o in sent if o.topic == "p.touchpoints.dlq"]
    codec = AvroCodec.from_settings(SETTINGS)
    decoded = codec.decoder("touchpoints")([o.value for o in touchpoints if o.value])
    ids = [d["touchpoint_id"] for d in decoded if isinstance(d, dict)]
    assert len(ids) == len(set(ids)) == 40  # the event delivered twice is kept once
    assert all(o.key is not None and b"@example.com" in o.key for o in touchpoints)
    assert len(letters) == 3
    reasons = {dict(o.headers or [])[H_REASON] for o in letters}
    assert b"email is missing" in reasons and b"timestamp is in the future" in reasons
    assert {dict(o.headers or [])[H_TOPIC] for o in letters} == {b"p.touchpoints"}


def test_no_token_no_data_and_a_broker_down_is_a_503() -> None:
    batch = webhook_batches(7, NOW_MS, 3, 10)
    for token in (None, "wrong"):
        statuses, sent = run(lambda token=token: post(batch, token))  # type: ignore[misc]
        assert statuses == [401] and sent == []
    statuses, sent = run(lambda: post(batch, "s3cret", fail=True))
    assert statuses == [503] and sent == []
