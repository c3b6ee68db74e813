from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from typing import Any

import pytest
from fastavro import parse_schema
from fastavro.validation import validate

from streams import topics
from streams.kernel.paths import SCHEMAS_DIR
from streams.kernel.records import OutputRecord
from streams.simulators.chat import ad_metrics, conversations, meta_spend_to_micros

SCHEMAS = SCHEMAS_DIR / "avro"
START = 1_780_000_000_000  # 2026-05-28T20:26:40Z
HOUR = 3_600_000


def _schema(name: str) -> Any:
    return parse_schema(json.loads((SCHEMAS / name).read_text()))


@pytest.fixture(scope="module")
def chat() -> list[OutputRecord]:
    return list(conversations(5000, seed=3, start_ms=START))


@pytest.fixture(scope="module")
def ads() -> list[OutputRecord]:
    return list(ad_metrics(5000, seed=5, start_ms=START))


@pytest.mark.parametrize("count", [0, 1, 7, 1234])
def test_exact_counts(count: int) -> None:
    assert sum(1 for _ in conversations(count, start_ms=START)) == count
    assert sum(1 for _ in ad_metrics(count, start_ms=START)) == count


def test_deterministic_by_seed() -> None:
    assert list(conversations(500, seed=1, start_ms=START)) == list(
        conversations(500, seed=1, start_ms=START))
    assert list(conversations(500, seed=1, start_ms=START)) != list(
        conversations(500, seed=2, start_ms=START))
    assert list(ad_metrics(500, seed=1, start_ms=START)) == list(
        ad_metrics(500, seed=1, start_ms=START))
    assert list(ad_metrics(500, seed=1, start_ms=START)) != list(
        ad_metrics(500, seed=2, start_ms=START))


def test_default_start_is_wall_clock() -> None:
    import time

    now = time.time() * 1000
    first = next(conversations(1))
    assert abs(first.value["occurred_at"] - now) < 60_000
    last = list(ad_metrics(200))[-1]
    assert now - 3 * HOUR < last.value["interval_start"] <= now


def test_chat_records_validate(chat: list[OutputRecord]) -> None:
    schema = _schema("chat_event.v1.avsc")
    for rec in chat:
        assert rec.topic == topics.CHAT_EVENTS
        validate(rec.value, schema, raise_errors=True)


def test_ad_records_validate(ads: list[OutputRecord]) -> None:
    schema = _schema("ad_metric.v1.avsc")
    for rec in ads:
        assert rec.topic == topics.AD_METRICS
        validate(rec.value, schema, raise_errors=True)


def test_chat_keys_are_conversation_ids(chat: list[OutputRecord]) -> None:
    assert all(rec.key == rec.value["conversation_id"] for rec in chat)


def test_unique_event_ids(chat: list[OutputRecord]) -> None:
    ids = [rec.value["event_id"] for rec in chat]
    assert len(set(ids)) == len(ids)


def test_conversation_lifecycle_order(chat: list[OutputRecord]) -> None:
    by_conversation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in chat:
        by_conversation[rec.key].append(rec.value)
    ended = handed_off = 0
    for events in by_conversation.values():
        times = [e["occurred_at"] for e in events]
        assert times == sorted(times) and len(set(times)) == len(times)
        kinds = [e["event_type"] for e in events]
        roles = [e["sender_role"] for e in events]
        assert kinds[0] == "STARTED" and roles[0] == "SYSTEM"
        assert kinds.count("STARTED") <= 1 and kinds.count("ENDED") <= 1
        if "ENDED" in kinds:
            ended += 1
            assert kinds[-1] == "ENDED"
        if "HANDOFF" in kinds:
            handed_off += 1
            after = roles[kinds.index("HANDOFF") + 1:]
            assert "BOT" not in after
        messages = [e for e in events if e["event_type"] == "MESSAGE"]
        assert all(m["text"] for m in messages)
        assert all(e["text"] is None for e in events if e["event_type"] != "MESSAGE")
        if messages:
            assert messages[0]["sender_role"] == "CUSTOMER"
        assert "AGENT" not in roles or "HANDOFF" in kinds
    assert ended > 0.7 * len(by_conversation) and handed_off > 0


def test_conversations_interleave(chat: list[OutputRecord]) -> None:
    times = [rec.value["occurred_at"] for rec in chat]
    assert times == sorted(times)
    open_now: set[str] = set()
    most = 0
    for rec in chat:
        if rec.value["event_type"] == "STARTED":
            open_now.add(rec.key)
        elif rec.value["event_type"] == "ENDED":
            open_now.discard(rec.key)
        most = max(most, len(open_now))
    assert most >= 5


def test_languages_channels_and_identifiers(chat: list[OutputRecord]) -> None:
    started = [r.value for r in chat if r.value["event_type"] == "STARTED"]
    languages = Counter(v["language"] for v in started)
    channels = Counter(v["channel"] for v in started)
    assert set(languages) == {"en", "es", "fr", "de", "pt"}
    assert languages.most_common(1)[0][0] == "en"
    assert set(channels) == {"WEB", "MOBILE", "EMAIL", "PHONE", "SMS", "SOCIAL"}
    assert channels.most_common(1)[0][0] == "WEB"
    customers = [v["customer"] for v in started]
    assert any(c["customer_id"] for c in customers)
    assert any(c["anonymous_id"] and not c["customer_id"] for c in customers)
    assert all(c["email"] for v, c in zip(started, customers, strict=True)
               if v["channel"] == "EMAIL")
    assert all(c["phone"] and c["phone"].startswith("+") for v, c in
               zip(started, customers, strict=True) if v["channel"] in ("PHONE", "SMS"))


def test_texts_mostly_unique_and_in_language(chat: list[OutputRecord]) -> None:
    texts = [r.value["text"] for r in chat if r.value["text"]]
    assert len(set(texts)) > 0.5 * len(texts)
    spanish = [r.value["text"] for r in chat
               if r.value["language"] == "es" and r.value["sender_role"] == "BOT"]
    assert spanish and not any("{" in t for t in texts)
    assert sum("pedido" in t or "plan" in t or "factura" in t or "Gracias" in t
               or "reembolso" in t for t in spanish) > 0


def test_ad_revisions_report_later(ads: list[OutputRecord]) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    revisions = 0
    for rec in ads:
        v = rec.value
        slot = (v["platform"], v["campaign_id"], v["level"], v["ad_group_id"],
                v["interval_start"])
        if slot in seen:
            revisions += 1
            assert v["reported_at"] > seen[slot]
        seen[slot] = v["reported_at"]
    assert 0.01 * len(ads) < revisions < 0.06 * len(ads)


def test_ad_metrics_shape(ads: list[OutputRecord]) -> None:
    platforms = Counter(r.value["platform"] for r in ads)
    assert set(platforms) == {"GOOGLE_ADS", "META", "EMAIL", "WEB_ANALYTICS"}
    levels = Counter(r.value["level"] for r in ads)
    assert levels["CAMPAIGN"] > levels["AD_GROUP"] > 0
    for rec in ads:
        v = rec.value
        assert rec.key == f"{v['platform']}:{v['campaign_id']}"
        assert v["interval_end"] - v["interval_start"] == HOUR
        assert v["interval_start"] % HOUR == 0
        assert v["reported_at"] > v["interval_end"]
        assert 0 <= v["clicks"] <= v["impressions"]
        assert v["currency"] in ("USD", "EUR", "GBP")
        extra = v["extra"]
        if v["platform"] == "META":
            assert set(extra) == {"reach", "frequency"}
        elif v["platform"] == "EMAIL":
            assert {"sends", "opens", "bounces", "unsubscribes"} <= set(extra)
            assert extra["sends"] - extra["bounces"] == v["impressions"]
        elif v["platform"] == "WEB_ANALYTICS":
            assert v["cost_micros"] == 0
            assert extra["sessions"] == v["impressions"]
            assert extra["key_events"] == v["conversions"]
    campaign_rows = [r.value for r in ads if r.value["level"] == "CAMPAIGN"]
    hourly = [v["impressions"] for v in campaign_rows]
    assert min(hourly) < 1_000 and max(hourly) > 10_000
    starts = [r.value["interval_start"] for r in ads]
    assert starts[0] == START // HOUR * HOUR and max(starts) > starts[0] + 24 * HOUR
    reported = [r.value["reported_at"] for r in ads]
    assert reported == sorted(reported)


def test_ad_group_rows_sum_to_campaign(ads: list[OutputRecord]) -> None:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    campaign: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in ads:
        v = rec.value
        slot = (v["platform"], v["campaign_id"], v["interval_start"])
        if v["level"] == "AD_GROUP":
            groups[slot].append(v)
        elif slot not in campaign:  # first report, before any revision
            campaign[slot] = v
    size: dict[str, int] = defaultdict(int)
    for (_, campaign_id, _), rows in groups.items():
        size[campaign_id] = max(size[campaign_id], len({r["ad_group_id"] for r in rows}))
    checked = 0
    for slot, rows in groups.items():
        first = {r["ad_group_id"]: r for r in reversed(rows)}  # earliest per ad group
        if slot in campaign and len(first) == size[slot[1]]:
            assert sum(r["impressions"] for r in first.values()) == campaign[slot]["impressions"]
            assert sum(r["cost_micros"] for r in first.values()) == campaign[slot]["cost_micros"]
            checked += 1
    assert checked > 0


def test_meta_spend_to_micros_is_exact() -> None:
    assert meta_spend_to_micros("0.01") == 10_000
    assert meta_spend_to_micros("123.45") == 123_450_000
    assert meta_spend_to_micros("0.29") == 290_000  # 0.29 * 1e6 in floats is 289999.99...
    assert meta_spend_to_micros("1234567.891234") == 1_234_567_891_234
    with pytest.raises(ValueError):
        meta_spend_to_micros("0.0000001")


def test_meta_costs_are_whole_cents(ads: list[OutputRecord]) -> None:
    meta = [r.value for r in ads if r.value["platform"] == "META"]
    assert meta
    for v in meta:
        spend = f"{v['cost_micros'] // 1_000_000}.{v['cost_micros'] % 1_000_000 // 10_000:02d}"
        assert meta_spend_to_micros(spend) == v["cost_micros"]


def test_spikes_and_drops_occur() -> None:
    rows = [r.value for r in ad_metrics(40_000, seed=11, start_ms=START)
            if r.value["level"] == "CAMPAIGN"]
    by_campaign: dict[str, list[int]] = defaultdict(list)
    for v in rows:
        by_campaign[v["campaign_id"]].append(v["impressions"])
    jumps = 0
    for series in by_campaign.values():
        for a, b in itertools.pairwise(series):
            if a > 50 and b > 50 and (b > 2.5 * a or b < a / 2.5):
                jumps += 1
    assert jumps > 0


# --- escalation ground truth -----------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled() -> tuple[list[OutputRecord], dict[str, Any]]:
    from streams.simulators.chat import labelled_conversations

    return labelled_conversations(8000, seed=4, start_ms=START)


def test_labelled_conversations_are_the_same_stream(
        labelled: tuple[list[OutputRecord], dict[str, Any]]) -> None:
    records, truths = labelled
    assert records == list(conversations(8000, seed=4, start_ms=START))
    assert set(truths) == {r.key for r in records}


def test_hand_off_exactly_when_a_person_is_needed(
        labelled: tuple[list[OutputRecord], dict[str, Any]]) -> None:
    from streams.simulators.chat import CAUSES, LANGUAGES, POLICY_SCENARIOS

    records, truths = labelled
    by_conversation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_conversation[rec.key].append(rec.value)
    causes: Counter[str | None] = Counter()
    for cid, truth in truths.items():
        events = by_conversation[cid]
        if len(events) != truth.events:
            continue  # cut by the end of the stream
        causes[truth.cause] += 1
        kinds = [e["event_type"] for e in events]
        assert ("HANDOFF" in kinds) == (truth.cause is not None)
        assert (truth.cause == "policy_topic") == (truth.scenario in POLICY_SCENARIOS)
        pack = LANGUAGES[truth.language]
        before = events[:kinds.index("HANDOFF")] if "HANDOFF" in kinds else events
        said = [e["text"] for e in before if e["sender_role"] == "CUSTOMER"]
        if truth.cause is None:  # a benign conversation never complains on the way
            assert not any(line.format_map(defaultdict(str)).split("{")[0] in text
                           for line in pack.upset | set(pack.frustrated) for text in said
                           if len(line) > 25)
        if truth.cause == "human_request":
            asks = [a.lower().rstrip(".") for a in pack.ask_human]
            assert any(a in text.lower() for a in asks for text in said)
        if truth.cause == "bot_failure_loop":
            bots = [e for e in before if e["sender_role"] == "BOT"]
            assert sum(any(e["text"].endswith(f) for f in pack.bot_fallback)
                       for e in bots) >= 2
        if truth.cause == "vip_negative":
            assert truth.customer_value is not None and truth.customer_value >= 1000
        if "HANDOFF" in kinds:
            assert events[kinds.index("HANDOFF")]["metadata"]["reason"] == truth.cause
    assert set(causes) == {None, *CAUSES}
    assert 0.4 < causes[None] / sum(causes.values()) < 0.75


def test_known_customers_carry_a_stable_value(
        labelled: tuple[list[OutputRecord], dict[str, Any]]) -> None:
    records, _ = labelled
    values: dict[str, set[str]] = defaultdict(set)
    for rec in records:
        v = rec.value
        if v["event_type"] == "STARTED":
            value = v["metadata"].get("customer_value")
            assert (value is not None) == (v["customer"]["customer_id"] is not None)
            if value is not None:
                values[v["customer"]["customer_id"]].add(value)
    assert values and all(len(v) == 1 for v in values.values())
    assert any(float(next(iter(v))) >= 1000 for v in values.values())


def test_expected_team_follows_the_routing_policy() -> None:
    from streams.evaluation.quality import expected_team
    from streams.simulators.chat import ConversationTruth

    def team(scenario: str, value: float | None, cause: str | None = None) -> str:
        return expected_team(ConversationTruth("c", scenario, "en", cause, value, 1))

    # LABELS.md: login problems are technical; cancellations go to retention whatever the
    # customer's value; a complaint whose topic names no team goes to general
    assert team("password_reset", None) == "technical"
    assert team("delivery_status", 5000.0) == "sales"
    assert team("cancellation", 5000.0) == "retention"
    assert team("cancellation", 500.0) == "retention"
    assert team("cancellation", None) == "retention"
    assert team("broken_product", 5000.0) == "general"
    assert team("broken_product", 50.0) == "general"
    assert team("refund", None) == "billing"
    assert team("demo", None, "unclear") == "general"
