"""A local stand-in for the ad platforms' report and mutation APIs, for tests and demos.

One aiohttp application serves, on loopback, Google Ads ``searchStream`` and ``:mutate``, Meta
Insights report jobs and object updates, SendGrid-style single-send statistics and the v3
``mail/send`` API (each send recorded once under its ``Idempotency-Key``), and the GA4
``runReport`` API, over seeded campaigns with hourly seasonality.

Invariants:
- Deterministic: the same seed, clock and request sequence give the same answers. The figures
  of an hour depend only on (seed, platform, entity, day, hour, revision).
- Restatement: every report request (a searchStream, a Meta job, the first page of a stats or
  runReport read) bumps the platform's revision; days within ``restatement_days`` of the
  platform's local today are reported at the current revision (conversions and their value
  change), older days at revision 0.
- Faults are injected before a request is served (429 with the platform's hints, 5xx, Google's
  in-stream error), at ``rate_429``/``rate_5xx`` or scripted with ``fail_next`` (200 there
  means Google's in-stream error), and ``stall_next`` answers late; a mutation can
  be applied and its answer lost (``lose_answers``) so that retries with the same request id
  must not apply it twice. Every mutation is recorded once under its request id.
- Product code never imports this module.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import random
import re
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GOOGLE, META, EMAIL, GA4 = "google", "meta", "email", "ga4"
TOKEN = "sim-token"
DEVICES = (("DESKTOP", 0.45), ("MOBILE", 0.45), ("TABLET", 0.10))
ACCOUNTS = {GOOGLE: ("1234567890", "America/New_York", "USD"),
            META: ("act_884120337", "Europe/Berlin", "EUR"),
            EMAIL: ("esp_acme", "UTC", "USD"),
            GA4: ("properties/318840021", "Europe/London", "GBP")}
GA4_SOURCES = (("google", "cpc", "spring_sale"), ("facebook", "paid_social", "spring_sale"),
               ("newsletter", "email", "march_news"), ("(direct)", "(none)", "(direct)"))


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 7
    now: Callable[[], float] = time.time
    history_days: int = 30
    campaigns: int = 2
    ad_groups: int = 2
    ads: int = 1
    restatement_days: int = 3
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    retry_after_seconds: int = 2
    google_batch_rows: int = 500
    meta_job_polls: int = 3
    meta_fail_first_job: bool = False
    bad_rows: bool = False


@dataclass(frozen=True)
class Ad:
    campaign_id: str
    campaign_name: str
    ad_group_id: str
    ad_id: str
    scale: float
    cpc_micros: int
    cvr: float
    aov: float


@dataclass
class Mutation:
    request_id: str
    platform: str
    target: str
    changes: dict[str, Any]
    response: Any
    fingerprint: str


def season(hour: int) -> float:
    """Share of the daily peak: quiet at night, highest in the afternoon and evening."""
    return 0.15 + 0.85 * max(0.0, math.sin(math.pi * (hour - 6) / 18)) if hour >= 6 else 0.15


@dataclass
class Simulator:
    config: SimulatorConfig = field(default_factory=SimulatorConfig)
    fail_next: list[int] = field(default_factory=list)
    stall_next: int = 0
    stall_seconds: float = 1.0
    lose_answers: int = 0
    revisions: Counter[str] = field(default_factory=Counter)
    served: Counter[tuple[str, int]] = field(default_factory=Counter)
    mutations: dict[str, Mutation] = field(default_factory=dict)
    applied: list[Mutation] = field(default_factory=list)
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: email sends by request id (``Idempotency-Key``), each recorded once; and all requests
    sends: dict[str, dict[str, Any]] = field(default_factory=dict)
    send_requests: int = 0
    url: str = ""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)
        self.ads = {p: self._ads(p) for p in (GOOGLE, META, EMAIL)}
        for ads in self.ads.values():
            for ad in ads:
                self.state.setdefault(ad.campaign_id, {"budget_micros": 50_000_000, "status": "ENABLED"})
                self.state.setdefault(ad.ad_group_id, {"bid_micros": ad.cpc_micros})

    def _ads(self, platform: str) -> list[Ad]:
        rng = random.Random(f"{self.config.seed}|{platform}|world")
        base = {GOOGLE: 20418839000, META: 120208771340000, EMAIL: 0}[platform]
        ads = []
        for c in range(self.config.campaigns):
            cid = f"ss_{c + 1:03d}" if platform == EMAIL else str(base + 100 * c)
            for g in range(1 if platform == EMAIL else self.config.ad_groups):
                for a in range(1 if platform == EMAIL else self.config.ads):
                    ads.append(Ad(cid, f"{platform} campaign {c + 1}", str(base + 100 * c + 10 * g + 1),
                                  str(base + 100 * c + 10 * g + a + 2), rng.uniform(200, 900),
                                  rng.randrange(300_000, 1_500_000), rng.uniform(0.02, 0.08),
                                  rng.uniform(30, 120)))
        return ads

    # -- the world -----------------------------------------------------------------------
    def today(self, platform: str) -> datetime:
        return datetime.fromtimestamp(self.config.now(), UTC).astimezone(ZoneInfo(ACCOUNTS[platform][1]))

    def hours(self, platform: str, start: date, end: date) -> Iterator[tuple[date, int]]:
        """Local reporting hours in [start, end] that have begun and are within the history."""
        now = self.today(platform)
        day = max(start, now.date() - timedelta(days=self.config.history_days))
        while day <= min(end, now.date()):
            for hour in range(24 if day < now.date() else now.hour + 1):
                yield day, hour
            day += timedelta(days=1)

    def figures(self, platform: str, ad: Ad, day: date, hour: int, share: float = 1.0,
                device: str = "") -> tuple[int, int, int, float, float]:
        """(impressions, clicks, cost micros, conversions, value) of one ad and hour."""
        rng = random.Random(f"{self.config.seed}|{platform}|{ad.ad_id}|{device}|{day}|{hour}")
        impressions = int(ad.scale * share * season(hour) * rng.uniform(0.6, 1.4))
        clicks = int(impressions * rng.uniform(0.01, 0.08))
        cost = clicks * int(ad.cpc_micros * rng.uniform(0.6, 1.0))
        conversions = clicks * ad.cvr * rng.uniform(0.5, 1.5)
        if day >= self.today(platform).date() - timedelta(days=self.config.restatement_days):
            revision = self.revisions[platform]  # late conversions keep arriving
            conversions *= 1 + 0.3 * random.Random(f"{ad.ad_id}|{day}|{hour}|{revision}").random()
        return impressions, clicks, cost, round(conversions, 2), round(conversions * ad.aov, 2)

    # -- faults and auth -------------------------------------------------------------------
    @web.middleware
    async def faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        platform = (request.match_info.route.name or "").split("_")[0]
        if not platform:
            return await handler(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.error(platform, 401, "bad or missing credentials")
        if self.stall_next > 0:  # answer too late: the client's timeout must fire
            self.stall_next -= 1
            await asyncio.sleep(self.stall_seconds)
        status = self.fail_next.pop(0) if self.fail_next else 0
        if not status and self.rng.random() < self.config.rate_429:
            status = 429
        if not status and self.rng.random() < self.config.rate_5xx:
            status = self.rng.choice((500, 502, 503, 200 if platform == GOOGLE else 503))
        if status == 200 and platform == GOOGLE:  # Google's in-stream failure after a batch
            body = [{"results": []}, {"error": {"code": 503, "status": "UNAVAILABLE",
                                                  "message": "backend unavailable"}}]
            return self.answer(platform, web.json_response(body))
        if status:
            return self.error(platform, status, "injected")
        return self.answer(platform, await handler(request))

    def answer(self, platform: str, response: web.StreamResponse) -> web.StreamResponse:
        if platform == META and response.status == 200:
            response.headers.update(self.meta_usage())
        self.served[platform, response.status] += 1
        return response

    def error(self, platform: str, status: int, message: str) -> web.StreamResponse:
        headers: dict[str, str] = {}
        wait = self.config.retry_after_seconds
        rpc = {401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED"}.get(status, "UNAVAILABLE")
        body: Any = {"error": {"code": status, "status": rpc, "message": message}}
        if platform == GOOGLE and status == 429:
            body["error"]["details"] = [{"errors": [{"errorCode": {"quotaError": rpc}, "details": {
                "quotaErrorDetails": {"rateScope": "DEVELOPER", "retryDelay": f"{wait}s"}}}]}]
        elif platform == META and status in (401, 429):
            code, status = (190, 401) if status == 401 else (17, 400)
            body = {"error": {"message": message, "type": "OAuthException", "code": code}}
            usage = [{"type": "ads_insights", "call_count": 100, "total_cputime": 40,
                      "total_time": 40, "estimated_time_to_regain_access": wait / 60}]
            headers["x-business-use-case-usage"] = json.dumps({"884120337": usage})
        elif platform == EMAIL and status == 429:
            body = {"errors": [{"message": "too many requests"}]}
            headers["X-RateLimit-Reset"] = str(int(self.config.now()) + wait)
            headers["X-RateLimit-Remaining"] = "0"
        elif status == 429 and platform != GA4:
            headers["Retry-After"] = str(wait)
        return self.answer(platform, web.json_response(body, status=status, headers=headers))

    # -- Google Ads ------------------------------------------------------------------------
    async def google_search(self, request: web.Request) -> web.StreamResponse:
        query = str((await request.json()).get("query", ""))
        found = re.search(r"\bFROM\s+(\w+)", query)
        resource = found.group(1) if found else ""
        if resource == "campaign":
            budgets = [{"campaign": {"id": ad.campaign_id},
                        "campaignBudget": {"id": str(int(ad.campaign_id) + 7)}}
                       for ad in self.ads[GOOGLE][:: self.config.ad_groups * self.config.ads]]
            return web.json_response([{"results": budgets}])
        span = re.search(r"segments\.date\s+BETWEEN\s+'([\d-]+)'\s+AND\s+'([\d-]+)'", query)
        if resource != "ad_group_ad" or span is None:
            return web.json_response({"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                                "message": "unsupported query"}}, status=400)
        start, end = days(span.group(1), span.group(2))
        self.revisions[GOOGLE] += 1
        _, tz, currency = ACCOUNTS[GOOGLE]
        rows: list[dict[str, Any]] = []
        for day, hour in self.hours(GOOGLE, start, end):
            for ad in self.ads[GOOGLE]:
                for device, share in DEVICES:
                    imps, clicks, cost, conv, value = self.figures(GOOGLE, ad, day, hour, share, device)
                    metrics: dict[str, Any] = {
                        "impressions": str(imps), "clicks": str(clicks), "costMicros": str(cost),
                        "conversions": conv, "conversionsValue": value}
                    segments: dict[str, Any] = {"device": device, "date": day.isoformat(), "hour": hour}
                    rows.append({
                        "customer": {"currencyCode": currency, "timeZone": tz},
                        "campaign": {"id": ad.campaign_id, "name": ad.campaign_name},
                        "campaignBudget": {"amountMicros": str(self.state[ad.campaign_id]["budget_micros"])},
                        "adGroup": {"id": ad.ad_group_id,
                                    "cpcBidMicros": str(self.state[ad.ad_group_id]["bid_micros"])},
                        "adGroupAd": {"ad": {"id": ad.ad_id}},
                        # proto3 JSON leaves out zeros, as the real API does
                        "segments": {k: v for k, v in segments.items() if v != 0},
                        "metrics": {k: v for k, v in metrics.items() if v not in ("0", 0, 0.0)}})
        if self.config.bad_rows and rows:
            rows.extend(bad_google(rows[-1], self.today(GOOGLE).date()))
        size = self.config.google_batch_rows
        batches = [{"results": rows[i:i + size], "fieldMask": "...", "requestId": f"r{i}"}
                   for i in range(0, len(rows), size)] or [{"fieldMask": "...", "requestId": "r0"}]
        return web.json_response(batches)

    async def google_mutate(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        changes = {}
        for op in body.get("operations", ()):
            update = dict(op["update"])
            target = update.pop("resourceName")
            changes[target] = update
        return await self.mutate(request, GOOGLE, body, changes, lambda: {
            "results": [{"resourceName": name} for name in changes]})

    # -- Meta --------------------------------------------------------------------------------
    async def meta_object(self, request: web.Request) -> web.StreamResponse:
        object_id = request.match_info["object_id"]
        account, tz, currency = ACCOUNTS[META]
        if object_id == account:
            return web.json_response({"id": account, "currency": currency, "timezone_name": tz})
        job = self.jobs.get(object_id)
        if job is None:
            return web.json_response({"error": {"code": 100, "message": "unknown object"}}, status=400)
        job["polls"] += 1
        done = min(100, job["polls"] * 100 // self.config.meta_job_polls)
        status = "Job Failed" if job["fails"] and done == 100 else (
            "Job Completed" if done == 100 else "Job Running")
        return web.json_response({"id": object_id, "async_status": status,
                                  "async_percent_completion": done})

    async def meta_start_job(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        span = json.loads(str(form["time_range"]))
        self.revisions[META] += 1
        account, _, currency = ACCOUNTS[META]
        rows = []
        for day, hour in self.hours(META, *days(span["since"], span["until"])):
            for ad in self.ads[META]:
                imps, clicks, cost, conv, _ = self.figures(META, ad, day, hour)
                actions = [{"action_type": "link_click", "value": str(clicks)},
                           {"action_type": "purchase", "value": str(round(conv))}]
                rows.append({"account_id": account[4:], "account_currency": currency,
                             "campaign_id": ad.campaign_id, "campaign_name": ad.campaign_name,
                             "adset_id": ad.ad_group_id, "ad_id": ad.ad_id, "impressions": str(imps),
                             "clicks": str(clicks), "spend": f"{cost / 1e6:.2f}", "actions": actions,
                             "action_values": [{"action_type": "purchase",
                                                "value": f"{round(conv) * ad.aov:.2f}"}],
                             "date_start": day.isoformat(), "date_stop": day.isoformat(),
                             "hourly_stats_aggregated_by_advertiser_time_zone":
                                 f"{hour:02d}:00:00 - {hour:02d}:59:59"})
        if self.config.bad_rows and rows:
            rows.extend(bad_meta(rows[-1], self.today(META).date()))
        run_id = str(6_000_000_000 + len(self.jobs))
        fails = self.config.meta_fail_first_job and not self.jobs
        self.jobs[run_id] = {"rows": rows, "polls": 0, "fails": fails}
        return web.json_response({"report_run_id": run_id})

    async def meta_insights(self, request: web.Request) -> web.StreamResponse:
        job = self.jobs.get(request.match_info["object_id"])
        if job is None or job["polls"] < self.config.meta_job_polls or job["fails"]:
            return web.json_response({"error": {"code": 100, "message": "report not ready"}}, status=400)
        return web.json_response(page_of(request, job["rows"], "limit", "after", lambda body, nxt: {
            "data": body, "paging": {"cursors": {"after": nxt}, **({"next": nxt and request.url.update_query(
                after=nxt).human_repr()} if nxt else {})}}))

    def meta_usage(self) -> dict[str, str]:
        used = sum(self.served[META, s] for s in (200, 400)) % 10 * 10  # climbs to 90, then resets
        usage = [{"type": "ads_insights", "call_count": used, "total_cputime": used // 2,
                  "total_time": used // 2, "estimated_time_to_regain_access": 0}]
        return {"x-business-use-case-usage": json.dumps({"884120337": usage})}

    async def meta_update(self, request: web.Request) -> web.StreamResponse:
        form = dict(await request.post())
        target = request.match_info["object_id"]
        fields = ("daily_budget", "bid_amount", "status")
        changes = {target: {k: str(v) for k, v in form.items() if k in fields}}
        return await self.mutate(request, META, changes, changes, lambda: {"success": True})

    # -- email --------------------------------------------------------------------------------
    async def email_stats(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if "page_token" not in q:
            self.revisions[EMAIL] += 1
        rows = []
        for day, hour in self.hours(EMAIL, *days(q["start_date"], q["end_date"])):
            if hour != 9:  # a send goes out at 09:00; the day's row appears then
                continue
            for ad in self.ads[EMAIL]:
                imps, clicks, _, conv, _ = self.figures(EMAIL, ad, day, hour)
                late = int(conv * 40)  # opens keep arriving for days: restated
                sends = imps * 10
                stats = {"requests": sends, "delivered": sends - imps // 20,
                         "opens": imps * 4 + 2 * late, "unique_opens": imps * 3 + late,
                         "clicks": clicks * 2, "unique_clicks": clicks, "bounces": imps // 20,
                         "unsubscribes": clicks // 10, "spam_reports": clicks // 50}
                rows.append({"id": ad.campaign_id, "ab_variation": "", "ab_phase": "all",
                             "aggregation": day.isoformat(), "stats": stats})
        if self.config.bad_rows and rows:
            rows.extend(bad_email(rows[-1], self.today(EMAIL).date()))
        headers = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "599",
                   "X-RateLimit-Reset": str(int(self.config.now()) + 60)}
        return web.json_response(page_of(request, rows, "page_size", "page_token", lambda body, nxt: {
            "results": body, "_metadata": {"count": len(rows), **({"next": request.url.update_query(
                page_token=nxt).human_repr()} if nxt else {})}}), headers=headers)

    async def email_send(self, request: web.Request) -> web.StreamResponse:
        """SendGrid v3 ``POST /v3/mail/send``: 202 with ``X-Message-Id``; a request id seen
        before answers the same id without sending again."""
        self.send_requests += 1
        request_id = request.headers.get("Idempotency-Key", "")
        body = await request.json()
        try:
            to = str(body["personalizations"][0]["to"][0]["email"])
        except (KeyError, IndexError, TypeError):
            to = ""
        if not request_id or "@" not in to:
            field = "Idempotency-Key" if not request_id else "personalizations.0.to.0.email"
            return web.json_response({"errors": [{"message": "invalid", "field": field}]},
                                     status=400)
        held = self.sends.get(request_id)
        if held is not None:
            return web.Response(status=202, headers={"X-Message-Id": held["message_id"],
                                                     "Idempotent-Replayed": "true"})
        message_id = f"sim-msg-{len(self.sends) + 1}"
        self.sends[request_id] = {"message_id": message_id, "to": to, "body": body}
        return web.Response(status=202, headers={"X-Message-Id": message_id})

    # -- GA4 ----------------------------------------------------------------------------------
    async def ga4_report(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        offset, limit = int(body.get("offset", 0)), int(body.get("limit", 10_000))
        if offset == 0:
            self.revisions[GA4] += 1
        span = body["dateRanges"][0]
        _, tz, currency = ACCOUNTS[GA4]
        dims = [d["name"] for d in body["dimensions"]]
        mets = [m["name"] for m in body["metrics"]]
        rows = []
        for day, hour in self.hours(GA4, *days(span["startDate"], span["endDate"])):
            for i, (source, medium, campaign) in enumerate(GA4_SOURCES):
                ad = self.ads[GOOGLE][i % len(self.ads[GOOGLE])]
                _, clicks, _, conv, value = self.figures(GA4, ad, day, hour, 0.2, source)
                sessions = clicks * 3 + 1
                values = {"dateHour": f"{day:%Y%m%d}{hour:02d}", "sessionSource": source,
                          "sessionMedium": medium, "sessionCampaignName": campaign,
                          "sessions": sessions, "engagedSessions": sessions * 2 // 3,
                          "totalUsers": sessions - clicks, "keyEvents": round(conv),
                          "purchaseRevenue": f"{value:.2f}"}
                rows.append({"dimensionValues": [{"value": str(values[d])} for d in dims],
                             "metricValues": [{"value": str(values[m])} for m in mets]})
        if self.config.bad_rows and rows:
            rows.extend(bad_ga4(rows[-1], self.today(GA4).date(), dims, mets))
        return web.json_response({
            "dimensionHeaders": [{"name": d} for d in dims],
            "metricHeaders": [{"name": m, "type": "TYPE_INTEGER"} for m in mets],
            "rows": rows[offset:offset + limit], "rowCount": len(rows),
            "metadata": {"currencyCode": currency, "timeZone": tz}, "kind": "analyticsData#runReport"})

    # -- mutations ---------------------------------------------------------------------------
    async def mutate(self, request: web.Request, platform: str, body: Any, changes: dict[str, Any],
                     respond: Callable[[], Any]) -> web.StreamResponse:
        request_id = request.headers.get("Idempotency-Key", "")
        if not request_id:
            return web.json_response({"error": {"code": 400, "message": "Idempotency-Key missing"}},
                                     status=400)
        fingerprint = json.dumps(body, sort_keys=True)
        held = self.mutations.get(request_id)
        if held is not None:
            if held.fingerprint != fingerprint:
                return web.json_response({"error": {"code": 409, "message": "request id reused"}},
                                         status=409)
            return web.json_response(held.response, headers={"Idempotent-Replayed": "true"})
        for target, fields in changes.items():
            kind, _, entity = target.rpartition("/")
            if kind.endswith("campaignBudgets"):  # a campaign's budget id is its id + 7
                entity = str(int(entity) - 7)
            self.apply(entity, fields)
        mutation = Mutation(request_id, platform, ",".join(changes), changes, respond(), fingerprint)
        self.mutations[request_id] = mutation
        self.applied.append(mutation)
        if self.lose_answers > 0:  # applied, but the answer never arrives
            self.lose_answers -= 1
            return web.json_response({"error": {"code": 503, "status": "UNAVAILABLE", "message": "lost"}},
                                     status=503)
        return web.json_response(mutation.response)

    def apply(self, target: str, fields: dict[str, Any]) -> None:
        state = self.state.setdefault(target, {})
        for name, value in fields.items():
            key = {"amountMicros": "budget_micros", "cpcBidMicros": "bid_micros",
                   "daily_budget": "budget_minor", "bid_amount": "bid_minor"}.get(name, name)
            state[key] = int(value) if key != "status" else value

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults])
        r = app.router
        r.add_post(r"/{ver}/customers/{cid:\d+}/googleAds:searchStream", self.google_search, name=GOOGLE)
        r.add_post(r"/{ver}/customers/{cid:\d+}/{collection:[A-Za-z]+}:mutate", self.google_mutate,
                   name=GOOGLE + "_mutate")
        r.add_post(r"/{ver}/{object_id:act_\d+}/insights", self.meta_start_job, name=META)
        r.add_get(r"/{ver}/{object_id:\d+}/insights", self.meta_insights, name=META + "_insights")
        r.add_get(r"/{ver}/{object_id:[a-z_\d]+}", self.meta_object, name=META + "_object")
        r.add_post(r"/{ver}/{object_id:\d+}", self.meta_update, name=META + "_update")
        r.add_get("/v3/marketing/stats/singlesends", self.email_stats, name=EMAIL)
        r.add_post("/v3/mail/send", self.email_send, name=EMAIL + "_send")
        r.add_post(r"/v1beta/properties/{pid:\d+}:runReport", self.ga4_report, name=GA4)
        return app


def days(first: str, last: str) -> tuple[date, date]:
    return date.fromisoformat(first), date.fromisoformat(last)


def page_of(request: web.Request, rows: list[Any], size_name: str, token_name: str,
            build: Callable[[list[Any], str | None], Any]) -> Any:
    """One page of ``rows``; the next-page token is an opaque offset."""
    size = int(request.query.get(size_name, "100"))
    token = request.query.get(token_name)
    start = int(base64.urlsafe_b64decode(token).decode()) if token else 0
    end = start + size
    return build(rows[start:end], base64.urlsafe_b64encode(str(end).encode()).decode()
                 if end < len(rows) else None)


def _variants(row: dict[str, Any], changes: list[Callable[[dict[str, Any]], None]]) -> list[dict[str, Any]]:
    out = []
    for change in changes:
        copy = json.loads(json.dumps(row))
        change(copy)
        out.append(copy)
    return out


def bad_google(row: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Clicks above impressions, NaN conversions, negative impressions, unknown currency, future."""
    future = (today + timedelta(days=30)).isoformat()
    return _variants(row, [
        lambda r: r["metrics"].update(impressions="5", clicks="9"),
        lambda r: r["metrics"].update(conversions=float("nan")),
        lambda r: r["metrics"].update(impressions="-4"),
        lambda r: r["customer"].update(currencyCode="XYZ"),
        lambda r: r["segments"].update(date=future)])


def bad_meta(row: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """NaN spend, negative impressions, clicks above impressions, unknown currency, reversed, future."""
    before, future = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=30)).isoformat()
    return _variants(row, [
        lambda r: r.update(spend="NaN"), lambda r: r.update(impressions="-3"),
        lambda r: r.update(impressions="2", clicks="7"), lambda r: r.update(account_currency="ABC"),
        lambda r: r.update(date_start=today.isoformat(), date_stop=before),
        lambda r: r.update(date_start=future, date_stop=future)])


def bad_email(row: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Negative delivered, unique clicks above delivered, infinite opens, a future day."""
    return _variants(row, [
        lambda r: r["stats"].update(delivered=-1), lambda r: r["stats"].update(delivered=3, unique_clicks=8),
        lambda r: r["stats"].update(opens=float("inf")),
        lambda r: r.update(aggregation=(today + timedelta(days=30)).isoformat())])


def bad_ga4(row: dict[str, Any], today: date, dims: list[str], mets: list[str]) -> list[dict[str, Any]]:
    """Negative sessions, infinite revenue, engaged above all sessions, a future hour."""
    def metric(name: str, value: str) -> Callable[[dict[str, Any]], None]:
        return lambda r: r["metricValues"][mets.index(name)].update(value=value)

    def engaged(r: dict[str, Any]) -> None:
        metric("sessions", "2")(r)
        metric("engagedSessions", "5")(r)

    return _variants(row, [
        metric("sessions", "-1"), metric("purchaseRevenue", "Infinity"), engaged,
        lambda r: r["dimensionValues"][dims.index("dateHour")].update(
            value=f"{today + timedelta(days=30):%Y%m%d}12")])


def webhook_batches(seed: int, start_ms: int, events: int, batch_size: int, bad: bool = False
                    ) -> list[list[dict[str, Any]]]:
    """SendGrid Event Webhook POST bodies: one event of each kind per recipient and campaign step,
    with one event delivered twice (as the webhook may) and, with ``bad``, three broken events."""
    rng = random.Random(f"{seed}|webhook")
    kinds = ("delivered", "open", "click", "bounce", "unsubscribe", "spamreport")
    out: list[dict[str, Any]] = []
    for n in range(events):
        kind = kinds[min(int(rng.expovariate(1.2)), len(kinds) - 1)]
        campaign = f"ss_{rng.randrange(1, 3):03d}"
        event: dict[str, Any] = {
                 "email": f"user{rng.randrange(1000)}@example.com", "timestamp": start_ms // 1000 + n,
                 "event": kind, "sg_event_id": f"ev{seed}-{n:06d}", "sg_message_id": f"msg{n // 3}",
                 "category": [campaign], "singlesend_id": campaign}
        if kind == "click":
            event["url"] = f"https://shop.example.com/sale?utm_source=newsletter&utm_medium=email&utm_campaign={campaign}"
        if kind == "bounce":
            event.update(reason="550 5.1.1 mailbox unavailable", type="bounce")
        out.append(event)
    if out:
        out.insert(len(out) // 2, dict(out[0]))
    if bad:
        out += [{"event": "open", "timestamp": start_ms // 1000, "sg_event_id": "bad-1"},
                {"email": "x@example.com", "event": "open", "timestamp": "soon", "sg_event_id": "bad-2"},
                {"email": "y@example.com", "event": "open", "timestamp": start_ms // 1000 + 86_400 * 30,
                 "sg_event_id": "bad-3"}]
    return [out[i:i + batch_size] for i in range(0, len(out), batch_size)]


@contextlib.asynccontextmanager
async def serving(config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
                  ) -> AsyncIterator[Simulator]:
    """The simulator served by the running event loop until the block ends (port 0: any free)."""
    sim = Simulator(config or SimulatorConfig())
    runner = web.AppRunner(sim.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    sim.url = f"http://{host}:{runner.addresses[0][1]}"
    try:
        yield sim
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def running(config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
            ) -> Iterator[Simulator]:
    """The simulator served from a background thread (for synchronous callers)."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        box["loop"], box["stop"] = asyncio.get_running_loop(), stop
        async with serving(config, host, port) as sim:
            box["sim"] = sim
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the platform simulator did not start")
    try:
        yield box["sim"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)


def run(host: str = "127.0.0.1", port: int = 8089, config: SimulatorConfig | None = None) -> None:
    """Serve until interrupted."""
    web.run_app(Simulator(config or SimulatorConfig()).app(), host=host, port=port)


if __name__ == "__main__":
    run()
