"""Connector tests run the platform simulator on loopback and talk to it, and to nothing else.

The suite-wide guard refuses every IPv4/IPv6 connect in unit tests; here connects to
127.0.0.1 / ::1 are let through. Time is a fake clock: waits and back-offs are recorded, not
slept, so fault-injection tests run in milliseconds.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from streams.marketing.connectors.analytics import AnalyticsConfig, AnalyticsConnector
from streams.marketing.connectors.base import Connector, Runtime
from streams.marketing.connectors.email import EmailConfig, EmailConnector
from streams.marketing.connectors.google_ads import GoogleAdsConfig, GoogleAdsConnector
from streams.marketing.connectors.meta import MetaConfig, MetaConnector
from streams.simulators.platforms import ACCOUNTS, EMAIL, GA4, GOOGLE, META, TOKEN, Simulator

T = TypeVar("T")
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
NOW = 1_773_570_600.0  # 2026-03-15 10:30 UTC: no daylight-saving change in the days read
PLATFORMS = (GOOGLE, META, EMAIL, GA4)


@pytest.fixture(autouse=True)
def _no_network_in_unit_tests(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            raise RuntimeError(f"connector test tried to connect to {address!r}: loopback only")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


class FakeClock:
    """Wall clock that moves only when a test moves it; sleeps are recorded, not slept, and do not
    move it (so that a pull with faults reports the same ``reported_at`` as one without)."""

    def __init__(self, start: float = NOW) -> None:
        self.t = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(0)


def run(coro_fn: Callable[[], Coroutine[Any, Any, T]], timeout: float = 20.0) -> T:
    """Run an async test body on a fresh event loop, with a deadline."""

    async def bounded() -> T:
        async with asyncio.timeout(timeout):
            return await coro_fn()

    return asyncio.run(bounded())


def connector(platform: str, sim: Simulator, clock: FakeClock, seed: int = 1, token: str = TOKEN,
              **changes: Any) -> Connector:
    """A connector of ``platform`` aimed at the simulator, with small pages and short history."""
    import random

    runtime = Runtime(now=clock.now, sleep=clock.sleep, rng=random.Random(seed))
    common: dict[str, Any] = {"base_url": sim.url, "account_ids": (ACCOUNTS[platform][0],),
                              "initial_days": 3, "days_per_request": 2, "backoff_initial": 0.5,
                              "backoff_max": 8.0, **changes}
    if platform == GOOGLE:
        return GoogleAdsConnector(GoogleAdsConfig(developer_token="dev", access_token=token,
                                                  **common), runtime)
    if platform == META:
        return MetaConnector(MetaConfig(access_token=token, **{"page_size": 60, "poll_seconds": 1.0,
                                                                **common}), runtime)
    if platform == EMAIL:
        return EmailConnector(EmailConfig(api_key=token, **{"page_size": 3, **common}), runtime)
    return AnalyticsConnector(AnalyticsConfig(access_token=token, **{"page_size": 70, **common}),
                              runtime)
