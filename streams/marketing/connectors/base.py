"""What every platform connector shares: configuration, cursor and restatement window, HTTP with
rate limits and retries, and pagination.

Invariants:
- A platform error is never data: only a response that succeeded becomes rows. HTTP 429 and the
  platforms' quota errors are waited out (Retry-After or the platform's hint); 5xx, timeouts and
  broken connections are retried with exponential back-off and full jitter. When the waits or
  attempts run out the pull raises PlatformUnavailable (an infrastructure error, retried later
  by the scheduler) and the cursor does not move. A refusal for good (bad credentials, bad
  query) raises PlatformError.
- The cursor (JSON) holds, per account, the first day the next pull must read. It moves only
  after a chunk of days was read completely, and never past the restatement window: the
  ``restatement_days`` days before today (UTC) and today are read again by every pull, so a
  revised figure arrives as a new version of its interval (same interval, later
  ``reported_at``). Pulls are idempotent: reading a range twice only adds versions.
- Days are platform reporting days (the account's time zone); the end of a pull is the UTC date
  14 hours ahead, so that "today" is covered in every time zone (a platform reports nothing for
  hours that have not happened).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal, TypeVar

import aiohttp

from streams.marketing.connectors.rows import Reject

T = TypeVar("T", bound=Hashable)
R = TypeVar("R")
FailureKind = Literal["rate_limited", "transient", "fatal"]
TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504})
AHEAD_OF_UTC = timedelta(hours=14)


class PlatformError(Exception):
    """The platform refused a request for good (credentials, permissions, a bad query)."""


class PlatformUnavailable(Exception):
    """Retries or rate-limit waits ran out; try the pull again later from the same cursor."""


@dataclass(frozen=True, kw_only=True)
class ConnectorConfig:
    """Settings every connector has; each platform adds its credentials (kept out of repr)."""

    base_url: str
    account_ids: tuple[str, ...]
    schedule_seconds: float = 300.0
    restatement_days: int = 3
    initial_days: int = 7
    days_per_request: int = 7
    page_size: int = 1000
    timeout_seconds: float = 60.0
    max_attempts: int = 6
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    max_rate_limit_wait: float = 900.0
    max_rate_limit_waits: int = 30
    min_request_interval: float = 0.0
    max_future_seconds: float = 3600.0
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not self.account_ids:
            raise ValueError("account_ids is empty")
        if self.restatement_days < 1:
            raise ValueError("restatement_days must be at least 1 (today is still revised)")
        if self.days_per_request < 1 or self.page_size < 1 or self.max_attempts < 1:
            raise ValueError("days_per_request, page_size and max_attempts must be positive")
        if self.initial_days < 0:
            raise ValueError("initial_days must not be negative")

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def max_future_ms(self) -> int:
        return int(self.max_future_seconds * 1000)


@dataclass(frozen=True)
class Runtime:
    """Clock, sleep and randomness, injectable so tests neither wait nor flake."""

    now: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)

    def now_ms(self) -> int:
        return int(self.now() * 1000)


@dataclass
class HttpStats:
    """Counters of one connector's requests (mutable; read them for logs and tests)."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    message: str
    retry_after: float | None = None


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Retry-After as seconds (it may be a number or an HTTP date); None when absent or bad."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def http_failure(status: int, headers: Mapping[str, str], body: Any, now: float) -> Failure | None:
    """The generic reading of an HTTP status: 429 waits, 5xx/408 retry, other 4xx are fatal."""
    if status < 400:
        return None
    detail = json.dumps(body)[:300] if body is not None else ""
    if status == 429:
        return Failure("rate_limited", f"HTTP 429 {detail}", retry_after(headers, now))
    if status in TRANSIENT_STATUSES or status >= 500:
        return Failure("transient", f"HTTP {status} {detail}")
    return Failure("fatal", f"HTTP {status} {detail}")


Classify = Callable[[int, Mapping[str, str], Any], Failure | None]


class Http:
    """JSON over HTTP with pacing, rate-limit waits and retries with back-off and jitter."""

    def __init__(self, session: aiohttp.ClientSession, config: ConnectorConfig, runtime: Runtime,
                 stats: HttpStats, classify: Classify, cooldown: Callable[[Mapping[str, str]], float],
                 headers: Mapping[str, str]) -> None:
        self.session = session
        self.config = config
        self.runtime = runtime
        self.stats = stats
        self.classify = classify
        self.cooldown = cooldown
        self.headers = dict(headers)
        self._not_before = 0.0

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, initial * 2**attempt)]."""
        ceiling = min(self.config.backoff_max, self.config.backoff_initial * 2 ** attempt)
        return self.runtime.rng.uniform(0.0, ceiling)

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.stats.waited_seconds += seconds
            await self.runtime.sleep(seconds)

    async def request(self, method: str, url: str, *, params: Mapping[str, str] | None = None,
                      json_body: Any = None, form: Mapping[str, str] | None = None,
                      headers: Mapping[str, str] | None = None) -> Any:
        """The parsed JSON body of a successful response; raises PlatformError/Unavailable."""
        attempts = 0
        waits = 0
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_seconds)
        while True:
            await self._wait(self._not_before - self.runtime.now())
            self._not_before = self.runtime.now() + self.config.min_request_interval
            self.stats.requests += 1
            failure: Failure | None
            status = 0
            try:
                async with self.session.request(
                        method, url, params=params, json=json_body, data=form,
                        headers={**self.headers, **(headers or {})}, timeout=timeout) as response:
                    raw = await response.text()
                    status, reply_headers = response.status, response.headers
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
                failure = Failure("transient", f"{type(exc).__name__}: {exc}")
            else:
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body, status = raw[:300], status if status >= 400 else 502  # truncated body
                failure = self.classify(status, reply_headers, body)
                if failure is None and status < 400:
                    self._not_before = max(self._not_before,
                                           self.runtime.now() + self.cooldown(reply_headers))
                    return body
                failure = failure or Failure("fatal", f"HTTP {status}")
            if failure.kind == "fatal":
                raise PlatformError(f"{method} {url}: HTTP {status}: {failure.message}")
            if failure.kind == "rate_limited":
                waits += 1
                self.stats.rate_limited += 1
                delay = failure.retry_after if failure.retry_after is not None else self.backoff(waits)
                if waits > self.config.max_rate_limit_waits or delay > self.config.max_rate_limit_wait:
                    raise PlatformUnavailable(f"{method} {url}: rate limited ({failure.message})")
            else:
                attempts += 1
                if attempts >= self.config.max_attempts:
                    raise PlatformUnavailable(
                        f"{method} {url}: {attempts} attempts failed, last {failure.message}")
                self.stats.retries += 1
                delay = self.backoff(attempts - 1)
            await self._wait(delay)


async def paginate(fetch: Callable[[T | None], Awaitable[tuple[Sequence[R], T | None]]],
                   max_pages: int = 100_000) -> list[R]:
    """Every row of a paged report: ``fetch(token)`` returns a page and the next token or None.

    A token seen twice means the platform loops; that is an error, not an endless pull."""
    rows: list[R] = []
    token: T | None = None
    seen: set[T] = set()
    for _ in range(max_pages):
        page, token = await fetch(token)
        rows.extend(page)
        if token is None:
            return rows
        if token in seen:
            raise PlatformError(f"pagination returned the token {token!r} twice")
        seen.add(token)
    raise PlatformError(f"more than {max_pages} pages")


def next_link(url: Any, root: str) -> str | None:
    """A platform's next-page URL, refused unless it points back at the platform (the request
    carries credentials)."""
    if url is None:
        return None
    if not isinstance(url, str) or not url.startswith(root.rstrip("/") + "/"):
        raise PlatformError(f"next page {url!r} is not under {root}")
    return url


@dataclass(frozen=True)
class Cursor:
    """Per account, the first reporting day the next pull reads (ISO date); JSON round-trips."""

    next_start: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"version": 1, "next_start": dict(sorted(self.next_start.items()))}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Cursor:
        if not data:
            return cls()
        if data.get("version") != 1:
            raise ValueError(f"unknown cursor version {data.get('version')!r}")
        starts = {str(k): str(v) for k, v in data["next_start"].items()}
        for day in starts.values():
            date.fromisoformat(day)
        return cls(starts)

    def start(self, account: str) -> date | None:
        day = self.next_start.get(account)
        return date.fromisoformat(day) if day else None

    def advanced(self, account: str, day: date) -> Cursor:
        held = self.start(account)
        if held is not None and held >= day:
            return self
        return Cursor({**self.next_start, account: day.isoformat()})


def pull_end(now: float) -> date:
    """The last reporting day a pull asks for: today in the easternmost time zone."""
    return (datetime.fromtimestamp(now, UTC) + AHEAD_OF_UTC).date()


def reread_start(now: float, restatement_days: int) -> date:
    """The first day every pull reads again: ``restatement_days`` before today (UTC)."""
    return datetime.fromtimestamp(now, UTC).date() - timedelta(days=restatement_days)


def day_chunks(start: date, end: date, days: int) -> list[tuple[date, date]]:
    """[start, end] as consecutive inclusive ranges of at most ``days`` days."""
    chunks = []
    while start <= end:
        last = min(end, start + timedelta(days=days - 1))
        chunks.append((start, last))
        start = last + timedelta(days=1)
    return chunks


@dataclass(frozen=True)
class Batch:
    """What one request range of one account gave."""

    metrics: list[dict[str, Any]] = field(default_factory=list)
    touchpoints: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


@dataclass(frozen=True)
class PullResult:
    """Records and rejects of a pull (or of one chunk of it) and the cursor to save after them."""

    metrics: tuple[dict[str, Any], ...]
    touchpoints: tuple[dict[str, Any], ...]
    rejects: tuple[Reject, ...]
    cursor: Cursor


@dataclass(frozen=True)
class MutationResult:
    """A change sent to a platform under an idempotency key, and the platform's answer."""

    request_id: str
    response: Any


IDEMPOTENCY_HEADER = "Idempotency-Key"


class Connector(ABC):
    """Pulls one platform's reports for every configured account, chunk by chunk."""

    platform: ClassVar[str]

    def __init__(self, config: ConnectorConfig, runtime: Runtime | None = None,
                 session: aiohttp.ClientSession | None = None) -> None:
        self.config = config
        self.runtime = runtime or Runtime()
        self.session = session
        self.stats = HttpStats()

    def headers(self) -> dict[str, str]:
        return {}

    def classify(self, status: int, headers: Mapping[str, str], body: Any) -> Failure | None:
        return http_failure(status, headers, body, self.runtime.now())

    def cooldown(self, headers: Mapping[str, str]) -> float:
        """Seconds to hold off after a successful response (usage headers near their limit)."""
        return 0.0

    def http(self, session: aiohttp.ClientSession) -> Http:
        return Http(session, self.config, self.runtime, self.stats, self.classify, self.cooldown,
                    self.headers())

    @abstractmethod
    async def fetch(self, http: Http, account: str, start: date, end: date) -> Batch:
        """Everything the platform reports for ``account`` over reporting days [start, end]."""

    async def pull_chunks(self, cursor: Cursor) -> AsyncGenerator[PullResult, None]:
        """One result per account and range of days; save each result's cursor after using it."""
        owned = self.session is None
        session = self.session or aiohttp.ClientSession()
        try:
            http = self.http(session)
            end = pull_end(self.runtime.now())
            reread_from = reread_start(self.runtime.now(), self.config.restatement_days)
            for account in self.config.account_ids:
                first = cursor.start(account) or reread_start(
                    self.runtime.now(), max(self.config.initial_days, self.config.restatement_days))
                for low, high in day_chunks(min(first, reread_from), end, self.config.days_per_request):
                    batch = await self.fetch(http, account, low, high)
                    cursor = cursor.advanced(account, min(high + timedelta(days=1), reread_from))
                    yield PullResult(tuple(batch.metrics), tuple(batch.touchpoints),
                                     tuple(batch.rejects), cursor)
        finally:
            if owned:
                await session.close()

    async def send(self, method: str, url: str, **kwargs: Any) -> Any:
        """One request outside a pull (a mutation), with the same waits and retries."""
        if self.session is not None:
            return await self.http(self.session).request(method, url, **kwargs)
        async with aiohttp.ClientSession() as session:
            return await self.http(session).request(method, url, **kwargs)

    async def pull(self, cursor: Cursor) -> PullResult:
        """A whole pull in one result (the cursor after the last chunk)."""
        metrics: list[dict[str, Any]] = []
        touchpoints: list[dict[str, Any]] = []
        rejects: list[Reject] = []
        async for chunk in self.pull_chunks(cursor):
            metrics.extend(chunk.metrics)
            touchpoints.extend(chunk.touchpoints)
            rejects.extend(chunk.rejects)
            cursor = chunk.cursor
        return PullResult(tuple(metrics), tuple(touchpoints), tuple(rejects), cursor)
