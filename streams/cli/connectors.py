"""``touchstream connectors sync``: pull the ad platforms into ``ad.metrics``; and
``touchstream simulate platforms``: a local stand-in for them on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import click
from pydantic import SecretStr

from streams.cli.common import console, current_settings, fail, print_result, run_until_signalled
from streams.ops import connectors as ops
from streams.settings import Settings


def _show(report: ops.SyncReport) -> None:
    status = f"[red]{report.error}[/red]" if report.error else "ok"
    console.print(f"{report.platform}: {report.metrics} metric rows, {report.touchpoints} "
                  f"touchpoints, {report.rejects} rejects in {report.chunks} chunks, "
                  f"{report.seconds:.1f} s: {status}")


@click.group("connectors")
def connectors_group() -> None:
    """Ad-platform connectors (Google Ads, Meta, email, GA4)."""


@connectors_group.command("sync")
@click.option("--once", is_flag=True, help="Pull every connector once and exit.")
def sync(once: bool) -> None:
    """Pull every configured platform on its schedule (connectors_schedule_seconds) into
    ad.metrics (rejects to ad.metrics.dlq), resuming from the saved cursors."""
    settings = current_settings()
    if not ops.connectors_from_settings(settings):
        fail("no connector is configured: set the account ids and credentials of a platform "
             "(e.g. TOUCHSTREAM_GOOGLE_ADS_CUSTOMER_IDS, ..._DEVELOPER_TOKEN, ..._ACCESS_TOKEN)")
    if once:
        reports = asyncio.run(ops.run(settings, once=True, on_report=_show))
        if any(r.error for r in reports):
            raise SystemExit(1)
        return
    console.print(f"syncing every {settings.connectors_schedule_seconds:.0f} s; Ctrl-C stops")
    run_until_signalled(lambda stop: ops.run(settings, stop, on_report=_show))


@connectors_group.command("list")
def list_connectors() -> None:
    """The configured connectors, their accounts and saved cursors."""
    settings = current_settings()
    store = ops.CursorStore(settings.effective_connectors_state_dir)
    rows = [(c.platform, ", ".join(c.config.account_ids), c.config.root,
             ", ".join(f"{a}: {d}" for a, d in store.load(c.platform).next_start.items()) or None)
            for c in ops.connectors_from_settings(settings)]
    print_result("connectors", ("platform", "accounts", "url", "next start"), rows)


@connectors_group.command("webhook")
def webhook() -> None:
    """Receive the email platform's Event Webhook (POST /webhooks/email, bearer token) and
    produce its events to touchpoints (rejects to touchpoints.dlq)."""
    from aiohttp import web

    from streams.contract.codec import AvroCodec
    from streams.io.publisher import Publisher
    from streams.ops.connectors_webhook import PATH, webhook_app

    settings = current_settings()
    if settings.email_webhook_token is None:
        fail("set TOUCHSTREAM_EMAIL_WEBHOOK_TOKEN (the bearer token the platform sends)")
    publisher = Publisher(settings)
    codec = AvroCodec.from_settings(settings)
    app = webhook_app(settings, publisher.publish, codec.encode)
    host, port = settings.email_webhook_host, settings.email_webhook_port
    console.print(f"email Event Webhook on http://{host}:{port}{PATH}; Ctrl-C stops it")
    try:
        web.run_app(app, host=host, port=port, print=None)
    finally:
        publisher.close()


@connectors_group.group("rates")
def rates_group() -> None:
    """Exchange rates into the reporting currency (the currency_rates table)."""


@rates_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--reporting", default="USD", show_default=True,
              help="The reporting currency the rates convert into.")
@click.option("--source", default=None, help="Where the rates come from (default: the file name).")
def load_rates(path: str, reporting: str, source: str | None) -> None:
    """Publish a CSV of day,currency,rate (units of the reporting currency per unit) to
    currency.rates; the worker keeps them in currency_rates."""
    import time
    from pathlib import Path

    from streams.marketing.rates import records_from_csv
    from streams.ops.optimise import Publishing

    settings = current_settings()
    file = Path(path)
    try:
        records = records_from_csv(file.read_text(), reporting, source or file.name,
                                   int(time.time() * 1000))
    except ValueError as exc:
        fail(f"{file}: {exc}")
        return
    Publishing(settings).publish(records)
    console.print(f"{len(records)} rates into {reporting.upper()} published to "
                  f"{settings.topic('currency.rates')}")


def simulator_env(url: str) -> dict[str, str]:
    """The settings that point every connector at a platform simulator served at ``url``."""
    from streams.simulators.platforms import ACCOUNTS, EMAIL, GA4, GOOGLE, META, TOKEN

    return {
        "TOUCHSTREAM_GOOGLE_ADS_BASE_URL": url,
        "TOUCHSTREAM_GOOGLE_ADS_CUSTOMER_IDS": f'["{ACCOUNTS[GOOGLE][0]}"]',
        "TOUCHSTREAM_GOOGLE_ADS_DEVELOPER_TOKEN": "sim-developer-token",
        "TOUCHSTREAM_GOOGLE_ADS_ACCESS_TOKEN": TOKEN,
        "TOUCHSTREAM_META_BASE_URL": url,
        "TOUCHSTREAM_META_AD_ACCOUNT_IDS": f'["{ACCOUNTS[META][0]}"]',
        "TOUCHSTREAM_META_ACCESS_TOKEN": TOKEN,
        "TOUCHSTREAM_EMAIL_BASE_URL": url,
        "TOUCHSTREAM_EMAIL_ACCOUNT_IDS": f'["{ACCOUNTS[EMAIL][0]}"]',
        "TOUCHSTREAM_EMAIL_API_KEY": TOKEN,
        "TOUCHSTREAM_EMAIL_CURRENCY": ACCOUNTS[EMAIL][2],
        "TOUCHSTREAM_GA4_BASE_URL": url,
        "TOUCHSTREAM_GA4_PROPERTY_IDS": f'["{ACCOUNTS[GA4][0]}"]',
        "TOUCHSTREAM_GA4_ACCESS_TOKEN": TOKEN,
    }


def simulator_settings(settings: Settings, url: str) -> Settings:
    """``settings`` with every connector pointed at the simulator at ``url``."""
    from streams.simulators.platforms import ACCOUNTS, EMAIL, GA4, GOOGLE, META, TOKEN

    token = SecretStr(TOKEN)
    return settings.model_copy(update={
        "google_ads_base_url": url, "google_ads_customer_ids": [ACCOUNTS[GOOGLE][0]],
        "google_ads_developer_token": SecretStr("sim-developer-token"),
        "google_ads_access_token": token,
        "meta_base_url": url, "meta_ad_account_ids": [ACCOUNTS[META][0]],
        "meta_access_token": token,
        "email_base_url": url, "email_account_ids": [ACCOUNTS[EMAIL][0]], "email_api_key": token,
        "email_currency": ACCOUNTS[EMAIL][2],
        "ga4_base_url": url, "ga4_property_ids": [ACCOUNTS[GA4][0]], "ga4_access_token": token,
    })


@click.command("platforms")
@click.option("--port", type=int, default=8089, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--campaigns", type=int, default=2, show_default=True, help="Per platform.")
@click.option("--rate-429", type=float, default=0.0, show_default=True,
              help="Share of requests answered with HTTP 429.")
@click.option("--rate-5xx", type=float, default=0.0, show_default=True,
              help="Share of requests answered with a server error.")
@click.option("--bad-rows", is_flag=True, help="Add rows that break the contract to reports.")
def simulate_platforms(port: int, seed: int, campaigns: int, rate_429: float, rate_5xx: float,
                       bad_rows: bool) -> None:
    """Google Ads, Meta, email and GA4 report APIs on 127.0.0.1 (a simulator)."""
    from streams.simulators.platforms import SimulatorConfig, run

    url = f"http://127.0.0.1:{port}"
    console.print(f"platform simulator on {url}; point the connectors at it with:")
    for name, value in simulator_env(url).items():
        console.print(f"  export {name}='{value}'", highlight=False, markup=False)
    run("127.0.0.1", port, SimulatorConfig(seed=seed, campaigns=campaigns, rate_429=rate_429,
                                           rate_5xx=rate_5xx, bad_rows=bad_rows))


#: (insight, parameters, columns shown) of the marketing part of ``make demo``
MARKETING_INSIGHTS: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = (
    ("campaign_roi_hourly", {"level": "AD", "hours": "6"}, (
        "platform", "campaign_id:campaign", "device", "spend_reporting:spend USD",
        "ctr", "cpc", "roas", "roi")),
    ("campaign_pacing", {}, ("platform", "campaign_id:campaign", "spend_today:spent",
                             "daily_budget:budget", "pacing", "status")),
)


def marketing_demo(settings: Settings, show: Any, wait: Any) -> None:
    """The marketing part of ``make demo``: connector sync from the platform simulator, KPIs
    and ROI, anomalies with their drill-down on labelled simulated campaigns, and a dry-run
    optimisation cycle. ``show(title, result, columns)`` prints an insight's rows;
    ``wait()`` returns once everything produced is in ClickHouse."""
    import tempfile
    import time
    from pathlib import Path

    from streams.io.producer import produce_records
    from streams.io.query import Querier
    from streams.kernel.records import OutputRecord
    from streams.marketing.kpis import metric_key
    from streams.ops import optimise
    from streams.ops.optimise_anomalies import drill, recent_alerts
    from streams.simulators import anomalies
    from streams.simulators.platforms import SimulatorConfig, running

    console.rule("marketing: connectors, ROI, anomalies, recommendations")
    with running(SimulatorConfig(seed=1, history_days=40, campaigns=3)) as sim:
        synced = simulator_settings(settings, sim.url).model_copy(update={
            "connectors_state_dir": Path(tempfile.mkdtemp(prefix="connectors-")),
            "connectors_initial_days": 36, "meta_poll_seconds": 0.05,
            "meta_throttle_pause_seconds": 0.05})
        console.print(f"platform simulator on {sim.url}: one sync of every connector")
        for report in asyncio.run(ops.run(synced, once=True)):
            _show(report)
    labelled = anomalies.simulate(campaigns=2, weeks=5, seed=5, events_per_campaign=2)
    extra: dict[str, Any] = {"campaign_name": None, "ad_group_id": None, "ad_id": None, "device": None,
             "bid_micros": None, "budget_micros": None, "audience": None, "extra": {}}
    values = sorted(({**extra, **r, "platform": "OTHER"} for r in anomalies.rows(labelled)),
                    key=lambda v: v["interval_start"])
    produce_records(settings, [OutputRecord("ad.metrics", metric_key(v["platform"],
                                                                     v["campaign_id"]), v)
                               for v in values], encode=_codec(settings).encode)
    console.print(f"{len(values)} hours of {labelled.campaigns} simulated campaigns with "
                  f"{len(labelled.labels)} labelled anomalies produced")
    wait()
    querier = Querier(settings)
    for name, params, shown in MARKETING_INSIGHTS:
        show(name, querier.insight(name, params), shown)

    def query(sql: str, params: Any) -> list[dict[str, Any]]:
        return querier.sql(sql, params).dicts()

    alerts = recent_alerts(query, 0, limit=200)
    found = [a for a in alerts if a["platform"] == "OTHER"]
    console.print(f"{len(found)} anomaly alerts on the simulated campaigns "
                  f"(labels: {', '.join(f'c{x.campaign:04d} {x.kind}' for x in labelled.labels)})")
    for a in found[:3]:
        ranked = drill(query, a, top=2)
        top = "; ".join(f"{dim} {c.key} {c.share:.0%}" for dim, items in ranked.items()
                        for c in items[:1])
        at = time.strftime("%Y-%m-%d %H:00", time.gmtime(a["hour"] / 1000))
        console.print(f"  {a['campaign_id']} {a['metric']} {a['direction']} {a['severity']} "
                      f"{a['change']:+.0%} at {at} — behind it: {top}")
    done = optimise.cycle(query, optimise.now_ms(), days=35, dry_run=True)
    if done is not None:
        accepted = done.result.outcome.accepted
        console.print(f"optimisation (dry run): {len(accepted)} recommendations, "
                      f"{len(done.result.outcome.refused)} refused by the guard rails")
        for rid, rec in zip(done.submitted, accepted, strict=True):
            console.print(f"  {rid} {rec.action} {rec.campaign_id} {rec.change:+.0%} "
                          f"(confidence {rec.confidence:.2f}): {rec.rationale}")
        optimise.Publishing(settings).publish(done.records)
    querier.close()


def _codec(settings: Settings) -> Any:
    from streams.contract.codec import AvroCodec

    return AvroCodec.from_settings(settings)
