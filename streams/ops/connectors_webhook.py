"""The email platform's Event Webhook: per-recipient events (delivered, open, click, bounce,
unsubscribe, spam report) pushed to an HTTP endpoint, produced to ``touchpoints``.

The endpoint (``POST /webhooks/email``) takes a SendGrid-style batch (a JSON array of
events), authenticated with a bearer token (SendGrid's OAuth option for the Event Webhook;
``email_webhook_token``), turns it into touchpoints and rejects
(``connectors.email.webhook_touchpoints``) and answers 200 only once both are on Kafka, so
that the platform retries a batch it got no 200 for. Rejects go to ``touchpoints.dlq`` in the
dead-letter format of ``streams.marketing.connector_rejects``.

Invariants: nothing is produced for a request without the token (401) or larger than
``MAX_BODY_BYTES`` (413); a batch delivered twice produces the same touchpoint ids again (the
customer domain keeps a touchpoint once by its id); an unavailable broker answers 503 (the
platform retries), never 200.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from aiohttp import web

from streams.io.publisher import Outgoing
from streams.kernel.topics import dlq
from streams.marketing.connector_rejects import reject_dead_letter
from streams.marketing.connectors.email import webhook_touchpoints
from streams.ops.connectors import TOUCHPOINTS, touchpoint_key
from streams.settings import Settings

log = logging.getLogger(__name__)
PATH: Final = "/webhooks/email"
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]
Encode = Callable[[str, dict[str, object]], bytes]


def webhook_app(settings: Settings, publish: Publish, encode: Encode) -> web.Application:
    """The endpoint; ``publish`` returns once Kafka has the records."""
    if settings.email_webhook_token is None:
        raise ValueError("set email_webhook_token: the endpoint accepts no unauthenticated batch")
    expected = f"Bearer {settings.email_webhook_token.get_secret_value()}".encode()
    account = settings.email_account_ids[0] if settings.email_account_ids else "email"
    topic = settings.topic(TOUCHPOINTS)
    dead = settings.topic(dlq(TOUCHPOINTS))

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.json_response({"error": "unauthorised"}, status=401)
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return web.json_response({"error": "too large"}, status=413)
        body = await request.read()
        if len(body) > MAX_BODY_BYTES:
            return web.json_response({"error": "too large"}, status=413)
        now_ms = int(time.time() * 1000)
        touchpoints, rejects = webhook_touchpoints(body, account_id=account, now_ms=now_ms)
        out = [Outgoing(topic, touchpoint_key(t).encode(), encode(TOUCHPOINTS, t))
               for t in touchpoints]
        for reject in rejects:
            letter_topic, key, value, headers = reject_dead_letter(reject, topic, dead,
                                                                   now_ms).message()
            out.append(Outgoing(letter_topic, key, value, headers))
        try:
            await publish(out)
        except Exception:  # the platform retries what it got no 200 for
            log.exception("email webhook: a batch could not be produced; answering 503")
            return web.json_response({"error": "unavailable"}, status=503)
        return web.json_response({"touchpoints": len(touchpoints), "rejects": len(rejects)})

    app = web.Application(client_max_size=MAX_BODY_BYTES + 1024)
    app.router.add_post(PATH, receive)
    return app
