"""Running the platform connectors on a schedule: configuration from the settings, cursors
kept under the local state dir, records produced to Kafka, rejects dead-lettered.

Every configured connector (accounts and credentials set in the settings) pulls every
``connectors_schedule_seconds``, chunk by chunk (``Connector.pull_chunks``): the chunk's
``ad.metrics`` and ``touchpoints`` records are produced, its rejects go to ``ad.metrics.dlq``
in the pipeline's dead-letter format (``streams.marketing.connector_rejects``), and only once
Kafka has acknowledged all of them is the chunk's cursor written (atomically) to
``<connectors_state_dir>/<platform>.json``. A restart therefore resumes from the last chunk
that is durable; a chunk produced twice (a crash between the produce and the cursor) only
adds versions of the same intervals, which ClickHouse keeps the latest of.

A platform that stays unavailable (``PlatformUnavailable``: retries and rate-limit waits ran
out) is tried again at the next tick from the same cursor; one that refuses for good
(``PlatformError``: credentials, permissions) is logged and also tried again, and counted;
neither is ever dead-lettered, and neither stops the other connectors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from streams.contract.codec import AvroCodec
from streams.io.publisher import Outgoing, Publisher
from streams.kernel.topics import dlq
from streams.marketing import contract as names
from streams.marketing.connector_rejects import reject_dead_letter
from streams.marketing.connectors.analytics import AnalyticsConfig, AnalyticsConnector
from streams.marketing.connectors.base import (
    Connector,
    Cursor,
    PlatformError,
    PlatformUnavailable,
    PullResult,
)
from streams.marketing.connectors.email import EmailConfig, EmailConnector
from streams.marketing.connectors.google_ads import GoogleAdsConfig, GoogleAdsConnector
from streams.marketing.connectors.meta import MetaConfig, MetaConnector
from streams.marketing.connectors.rows import Reject
from streams.marketing.kpis import metric_key
from streams.settings import Settings

log = logging.getLogger(__name__)
TOUCHPOINTS = "touchpoints"  # the customer domain's input topic (logical name)
IDENTIFIER_ORDER = ("customer_id", "email", "phone", "anonymous_id", "device_id")


def _secret(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())


def connectors_from_settings(settings: Settings) -> list[Connector]:
    """A connector for every platform whose accounts and credentials are set."""
    common: dict[str, Any] = {
        "schedule_seconds": settings.connectors_schedule_seconds,
        "restatement_days": settings.connectors_restatement_days,
        "initial_days": settings.connectors_initial_days,
    }
    out: list[Connector] = []
    google = (_secret(settings.google_ads_developer_token),
              _secret(settings.google_ads_access_token))
    if settings.google_ads_customer_ids and all(google):
        out.append(GoogleAdsConnector(GoogleAdsConfig(
            base_url=settings.google_ads_base_url,
            account_ids=tuple(settings.google_ads_customer_ids), developer_token=google[0] or "",
            access_token=google[1] or "", login_customer_id=settings.google_ads_login_customer_id,
            **common)))
    meta = _secret(settings.meta_access_token)
    if settings.meta_ad_account_ids and meta:
        out.append(MetaConnector(MetaConfig(
            base_url=settings.meta_base_url, account_ids=tuple(settings.meta_ad_account_ids),
            access_token=meta, poll_seconds=settings.meta_poll_seconds,
            throttle_pause_seconds=settings.meta_throttle_pause_seconds, **common)))
    email = _secret(settings.email_api_key)
    if settings.email_account_ids and email:
        out.append(EmailConnector(EmailConfig(
            base_url=settings.email_base_url, account_ids=tuple(settings.email_account_ids),
            api_key=email, currency=settings.email_currency, **common)))
    ga4 = _secret(settings.ga4_access_token)
    if settings.ga4_property_ids and ga4:
        out.append(AnalyticsConnector(AnalyticsConfig(
            base_url=settings.ga4_base_url, account_ids=tuple(settings.ga4_property_ids),
            access_token=ga4, **common)))
    return out


@dataclass(frozen=True)
class CursorStore:
    """One JSON file per platform; written to a temporary file and renamed over the old one."""

    directory: Path

    def path(self, platform: str) -> Path:
        return self.directory / f"{platform.lower()}.json"

    def load(self, platform: str) -> Cursor:
        try:
            return Cursor.from_json(json.loads(self.path(platform).read_text()))
        except FileNotFoundError:
            return Cursor()

    def save(self, platform: str, cursor: Cursor) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path(platform)
        temporary = target.with_suffix(".json.tmp")
        with temporary.open("w") as out:
            json.dump(cursor.to_json(), out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)


class Sink(Protocol):
    async def deliver(self, chunk: PullResult) -> None:
        """Make the chunk's records and rejects durable (return only once they are)."""


def touchpoint_key(touchpoint: dict[str, Any]) -> str:
    """The touchpoints key: the first identifier present (email in lower case)."""
    ids = touchpoint.get("identifiers") or {}
    for name in IDENTIFIER_ORDER:
        value = ids.get(name)
        if value:
            return str(value).lower() if name == "email" else str(value)
    return str(touchpoint["touchpoint_id"])


class KafkaSink:
    """Records in Avro to their topics, rejects to ``ad.metrics.dlq``; durable on return."""

    def __init__(self, settings: Settings, publisher: Publisher | None = None,
                 codec: AvroCodec | None = None) -> None:
        self.settings = settings
        self.publisher = publisher or Publisher(settings)
        self.codec = codec or AvroCodec.from_settings(settings)
        self.metrics_topic = settings.topic(names.AD_METRICS)
        self.dlq_topic = settings.topic(dlq(names.AD_METRICS))
        self.touchpoints_topic = settings.topic(TOUCHPOINTS)

    def outgoing(self, chunk: PullResult, now_ms: int) -> list[Outgoing]:
        out = [Outgoing(self.metrics_topic, metric_key(m["platform"], m["campaign_id"]).encode(),
                        self.codec.encode(names.AD_METRICS, m)) for m in chunk.metrics]
        out += [Outgoing(self.touchpoints_topic, touchpoint_key(t).encode(),
                         self.codec.encode(TOUCHPOINTS, t)) for t in chunk.touchpoints]
        out += [self.rejected(r, now_ms) for r in chunk.rejects]
        return out

    def rejected(self, reject: Reject, now_ms: int) -> Outgoing:
        topic, key, value, headers = reject_dead_letter(
            reject, self.metrics_topic, self.dlq_topic, now_ms).message()
        return Outgoing(topic, key, value, headers)

    async def deliver(self, chunk: PullResult) -> None:
        await self.publisher.publish(self.outgoing(chunk, int(time.time() * 1000)))

    def close(self) -> None:
        self.publisher.close()


@dataclass
class SyncReport:
    """What one pull of one connector did."""

    platform: str
    chunks: int = 0
    metrics: int = 0
    touchpoints: int = 0
    rejects: int = 0
    error: str | None = None
    seconds: float = 0.0


async def sync_connector(connector: Connector, store: CursorStore, sink: Sink) -> SyncReport:
    """One pull of ``connector`` from its saved cursor; the cursor is saved after each chunk."""
    platform = connector.platform
    report = SyncReport(platform)
    started = time.perf_counter()
    try:
        async for chunk in connector.pull_chunks(store.load(platform)):
            await sink.deliver(chunk)
            store.save(platform, chunk.cursor)
            report.chunks += 1
            report.metrics += len(chunk.metrics)
            report.touchpoints += len(chunk.touchpoints)
            report.rejects += len(chunk.rejects)
    except PlatformUnavailable as exc:
        report.error = f"unavailable, tried again at the next tick: {exc}"
        log.warning("%s: %s", platform, report.error)
    except PlatformError as exc:
        report.error = f"refused: {exc}"
        log.error("%s: %s", platform, report.error)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class Scheduler:
    """Every connector on its own schedule (``config.schedule_seconds``) until ``stop``."""

    connectors: Sequence[Connector]
    store: CursorStore
    sink: Sink
    on_report: Callable[[SyncReport], None] = field(default=lambda report: None)

    async def once(self) -> list[SyncReport]:
        reports = await asyncio.gather(*(sync_connector(c, self.store, self.sink)
                                         for c in self.connectors))
        for report in reports:
            self.on_report(report)
        return list(reports)

    async def forever(self, stop: asyncio.Event) -> None:
        async def loop(connector: Connector) -> None:
            while not stop.is_set():
                self.on_report(await sync_connector(connector, self.store, self.sink))
                await _wait(stop, connector.config.schedule_seconds)

        await asyncio.gather(*(loop(c) for c in self.connectors))


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run(settings: Settings, stop: asyncio.Event | None = None, *, once: bool = False,
              on_report: Callable[[SyncReport], None] = lambda report: None,
              connectors: Sequence[Connector] | None = None) -> list[SyncReport]:
    """Sync every configured connector once (``once``) or on its schedule until ``stop``."""
    chosen = list(connectors) if connectors is not None else connectors_from_settings(settings)
    if not chosen:
        raise ValueError("no connector is configured (set the accounts and credentials of at "
                         "least one platform)")
    sink = KafkaSink(settings)
    scheduler = Scheduler(chosen, CursorStore(settings.effective_connectors_state_dir), sink,
                          on_report)
    try:
        if once:
            return await scheduler.once()
        await scheduler.forever(stop or asyncio.Event())
        return []
    finally:
        sink.close()

