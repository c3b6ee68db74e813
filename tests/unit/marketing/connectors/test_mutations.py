"""Budget, bid and status changes: applied once per request id, even when answers get lost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from streams.marketing.connectors.base import Cursor, PlatformError
from streams.marketing.connectors.google_ads import GoogleAdsConnector
from streams.marketing.connectors.meta import MetaConnector
from streams.simulators.platforms import GOOGLE, META, SimulatorConfig, running, serving
from tests.unit.marketing.connectors.conftest import NOW, FakeClock, connector, run

CUSTOMER = "1234567890"


def test_a_google_budget_change_whose_answer_is_lost_is_applied_once() -> None:
    async def body() -> None:
        clock = FakeClock()
        async with serving(SimulatorConfig(now=lambda: NOW, history_days=1)) as sim:
            conn = connector(GOOGLE, sim, clock)
            assert isinstance(conn, GoogleAdsConnector)
            budgets = await conn.campaign_budgets(CUSTOMER)
            campaign = sim.ads[GOOGLE][0].campaign_id
            budget = budgets[campaign]
            assert len(budgets) == 2 and budget != campaign
            sim.lose_answers = 1  # applied, then a 503: the client retries with the same id
            result = await conn.set_budget(CUSTOMER, budget, 75_000_000, "rec-1")
            assert result.response == {
                "results": [{"resourceName": f"customers/{CUSTOMER}/campaignBudgets/{budget}"}]}
            assert sim.served[(GOOGLE, 503)] == 1 and conn.stats.retries == 1
            again = await conn.set_budget(CUSTOMER, budget, 75_000_000, "rec-1")
            assert again.response == result.response
            assert [m.request_id for m in sim.applied] == ["rec-1"]
            with pytest.raises(PlatformError, match="409"):  # one id, another change: refused
                await conn.set_budget(CUSTOMER, budget, 90_000_000, "rec-1")
            assert sim.state[campaign]["budget_micros"] == 75_000_000
            pulled = await conn.pull(Cursor())
            reported = {m["budget_micros"] for m in pulled.metrics if m["campaign_id"] == campaign}
            assert reported == {75_000_000}

    run(body)


def test_google_status_and_bid_changes_are_recorded_under_their_request_ids() -> None:
    async def body() -> None:
        clock = FakeClock()
        async with serving(SimulatorConfig(now=lambda: NOW, history_days=1)) as sim:
            conn = connector(GOOGLE, sim, clock)
            assert isinstance(conn, GoogleAdsConnector)
            ad = sim.ads[GOOGLE][1]
            await conn.set_status(CUSTOMER, ad.campaign_id, "PAUSED", "rec-2")
            await conn.set_bid(CUSTOMER, ad.ad_group_id, 1_250_000, "rec-3")
            with pytest.raises(ValueError):
                await conn.set_status(CUSTOMER, ad.campaign_id, "REMOVED", "rec-4")
            assert sim.mutations["rec-2"].changes == {
                f"customers/{CUSTOMER}/campaigns/{ad.campaign_id}": {"status": "PAUSED"}}
            assert sim.state[ad.campaign_id]["status"] == "PAUSED"
            pulled = await conn.pull(Cursor())
            bids = {m["bid_micros"] for m in pulled.metrics if m["ad_group_id"] == ad.ad_group_id}
            assert bids == {1_250_000}

    run(body)


def test_meta_updates_send_minor_units_and_survive_a_lost_answer() -> None:
    async def body() -> None:
        clock = FakeClock()
        async with serving(SimulatorConfig(now=lambda: NOW)) as sim:
            conn = connector(META, sim, clock)
            assert isinstance(conn, MetaConnector)
            campaign = sim.ads[META][0].campaign_id
            sim.lose_answers = 1
            sim.fail_next.append(429)  # and a rate limit before it gets through
            result = await conn.update(campaign, "rec-9", currency="EUR",
                                       daily_budget_micros=25_500_000, status="PAUSED")
            assert result.response == {"success": True}
            assert sim.state[campaign]["budget_minor"] == 2550 and sim.state[campaign]["status"] == "PAUSED"
            await conn.update(campaign, "rec-9", currency="EUR", daily_budget_micros=25_500_000,
                              status="PAUSED")
            assert len(sim.applied) == 1
            adset = sim.ads[META][0].ad_group_id
            await conn.update(adset, "rec-10", currency="JPY", bid_amount_micros=120_000_000)
            assert sim.state[adset]["bid_minor"] == 120
            with pytest.raises(ValueError, match="nothing to change"):
                await conn.update(adset, "rec-11", currency="EUR")

    run(body)


def test_the_simulator_also_runs_in_a_thread_for_synchronous_callers() -> None:
    with running(SimulatorConfig(now=lambda: NOW, history_days=1)) as sim:
        async def body() -> Any:
            conn = connector(GOOGLE, sim, FakeClock())
            assert isinstance(conn, GoogleAdsConnector)
            return await conn.set_budget(CUSTOMER, "20418839007", 1_000_000, "rec-t")

        result = asyncio.run(body())
        assert result.request_id == "rec-t" and len(sim.applied) == 1
