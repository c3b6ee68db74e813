"""Realistic synthetic traffic for the input topics, without Kafka.

Pure and deterministic: every choice comes from ``random.Random(seed)``, so the same
``(count, seed, start_ms)`` always gives the same records. ``start_ms=None`` anchors the
traffic to the wall clock (chat: a history whose last event is now; ad metrics: a history that
ends at the current hour), so that nothing lies in the future; pass ``start_ms`` for fully
reproducible output.

Values match the Avro contract of their topic: enum symbols as strings, timestamps as epoch
milliseconds, absent nullable fields as ``None`` and empty maps as ``{}``.
"""

from __future__ import annotations

import heapq
import math
import random
import time
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from streams import topics
from streams.kernel.records import OutputRecord
from streams.simulators.ads import (
    Campaign,
    hourly_rows,
    make_campaigns,
    meta_spend_to_micros,
    revise,
)
from streams.simulators.text import EN, PLAN_PRICES, PLANS, SCENARIO_CATEGORY, LanguagePack
from streams.simulators.text_intl import DE, ES, FR, PT

__all__ = ["ConversationTruth", "OutputRecord", "ad_metrics", "conversations",
           "labelled_conversations", "meta_spend_to_micros"]

T = TypeVar("T")

HOUR_MS: Final = 3_600_000


@dataclass(frozen=True)
class ConversationTruth:
    """What the simulator knows of a conversation and does not put on its events."""

    conversation_id: str
    scenario: str
    language: str
    cause: str | None  # one of CAUSES, None when the bot resolves it
    customer_value: float | None  # None for an unknown customer
    events: int  # all events of the conversation, to tell a complete one from a cut one


# --- chat ------------------------------------------------------------------------------------

LANGUAGES: Final[dict[str, LanguagePack]] = {p.tag: p for p in (EN, ES, FR, DE, PT)}
LANGUAGE_WEIGHTS: Final = (("en", 70), ("es", 12), ("fr", 7), ("de", 6), ("pt", 5))
CHANNEL_WEIGHTS: Final = (
    ("WEB", 40), ("MOBILE", 25), ("EMAIL", 9), ("PHONE", 8), ("SMS", 7), ("SOCIAL", 11),
)
SCENARIO_WEIGHTS: Final = (
    ("password_reset", 10), ("delivery_status", 14), ("how_to", 10), ("late_delivery", 9),
    ("double_charge", 5), ("broken_product", 7), ("escalation", 4), ("pricing", 8),
    ("demo", 4), ("billing", 8), ("cancellation", 6), ("refund", 6),
)
#: Why a conversation needs a person; None (benign) when the bot can resolve it. The chat
#: service hands a conversation over (a HANDOFF event) exactly when it has a cause, and only
#: after the customer's messages have shown it, so the cause is in the content:
#:
#: - ``human_request``: the customer asks for a person (``LanguagePack.ask_human``);
#: - ``sentiment_worsening``: the mood sinks over several messages (follow-up, then
#:   ``frustrated``, then ``angry``);
#: - ``bot_failure_loop``: the bot keeps failing (``bot_fallback``) and the customer asks again;
#: - ``legal_threat``: the customer threatens legal action (``legal``);
#: - ``policy_topic``: a refund or cancellation conversation; by policy a person handles it
#:   even when the bot could answer;
#: - ``vip_negative``: a high-value customer turns negative (``disappointed``), or complains;
#: - ``unclear``: the customer never says what it is about (``vague``); the bot cannot tell.
CAUSES: Final = ("human_request", "sentiment_worsening", "bot_failure_loop", "legal_threat",
                 "policy_topic", "vip_negative", "unclear")
#: Causes of conversations that are not refund or cancellation, with their weights; None is a
#: benign conversation.
CAUSE_WEIGHTS: Final[tuple[tuple[str | None, int], ...]] = (
    (None, 68), ("human_request", 8), ("sentiment_worsening", 7), ("bot_failure_loop", 7),
    ("legal_threat", 3), ("unclear", 5), ("vip_negative", 2),
)
POLICY_SCENARIOS: Final = frozenset({"refund", "cancellation"})
#: Chance that a benign conversation has one failed bot answer it recovers from.
HICCUP_CHANCE: Final = 0.12
#: Customer value (customer_value in the STARTED metadata) of known customers: the share in
#: each tier and its range; unknown customers have no value.
VALUE_TIERS: Final = ((0.18, (1_000.0, 25_000.0)), (0.32, (200.0, 1_000.0)),
                      (0.50, (5.0, 200.0)))
HIGH_VALUE: Final = 1_000.0
TEAM_BY_CATEGORY: Final[dict[str, str]] = {
    "support": "support", "complaint": "customer_care", "sales": "sales",
    "billing": "billing", "cancellation": "retention",
}
ENDED_CHANCE: Final = 0.88
KNOWN_CUSTOMER_CHANCE: Final = 0.55
CUSTOMER_POOL: Final = 20_000
MEAN_ARRIVAL_GAP_S: Final = 6.0
#: (customer think time, bot latency) in seconds, by channel.
PACING: Final[dict[str, tuple[tuple[int, int], tuple[int, int]]]] = {
    "WEB": ((4, 45), (1, 3)), "MOBILE": ((5, 60), (1, 3)), "SOCIAL": ((8, 90), (1, 4)),
    "SMS": ((10, 120), (1, 5)), "PHONE": ((2, 12), (1, 2)), "EMAIL": ((120, 1800), (5, 40)),
}
EMAIL_DOMAINS: Final = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me",
                        "gmx.de", "orange.fr", "uol.com.br", "hotmail.es", "acme-corp.com")
PAGES: Final = ("/", "/help", "/help/orders", "/account/billing", "/pricing", "/checkout",
                "/orders", "/products/brio-200", "/login")
BOTS: Final = ("bot-aria-v3", "bot-aria-v4")


def _weighted(rng: random.Random, table: Sequence[tuple[T, int]]) -> T:
    total = sum(w for _, w in table)
    pick = rng.random() * total
    for item, weight in table:
        pick -= weight
        if pick < 0:
            return item
    return table[-1][0]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _customer_language(n: int) -> str:
    # a known customer always speaks the same language (Knuth multiplicative hash -> bucket)
    bucket = (n * 2654435761 % 2**32) / 2**32 * sum(w for _, w in LANGUAGE_WEIGHTS)
    for tag, weight in LANGUAGE_WEIGHTS:
        bucket -= weight
        if bucket < 0:
            return tag
    return "en"


def _phone(rng: random.Random, lang: str) -> str:
    prefix = {"en": "+1", "es": "+34", "fr": "+33", "de": "+49", "pt": "+55"}[lang]
    return prefix + "".join(str(rng.randrange(10)) for _ in range(10 if lang in "en pt" else 9))


def _money(pack: LanguagePack, value: float) -> str:
    text = f"{value:,.2f}"
    if pack.decimal_comma:
        text = text.replace(",", " ").replace(".", ",")
    return pack.money_format.format(symbol=pack.currency_symbol, value=text)


def _date(pack: LanguagePack, epoch_ms: int) -> str:
    tm = time.gmtime(epoch_ms / 1000)
    return pack.date_format.format(day=tm.tm_mday, month=pack.months[tm.tm_mon - 1])


@dataclass
class _Speaker:
    """Picks lines without repeating one until all have been said."""

    rng: random.Random
    lines: tuple[str, ...]
    _left: list[str] = field(default_factory=list)

    def next(self) -> str:
        if not self._left:
            self._left = list(self.lines)
            self.rng.shuffle(self._left)
        return self._left.pop()


def _customer_value(number: int) -> float:
    """A known customer's value, the same in every conversation of theirs."""
    rng = random.Random(number * 7919 + 13)
    pick = rng.random()
    for share, (lo, hi) in VALUE_TIERS:
        pick -= share
        if pick < 0:
            return round(rng.uniform(lo, hi), 2)
    return round(rng.uniform(*VALUE_TIERS[-1][1]), 2)


def _cause(rng: random.Random, scenario: str, category: str, high_value: bool) -> str | None:
    if scenario in POLICY_SCENARIOS:
        return "policy_topic"
    if scenario == "escalation":
        return rng.choice(("human_request", "sentiment_worsening"))
    if high_value and (category == "complaint" or rng.random() < 0.15):
        return "vip_negative"
    cause = _weighted(rng, CAUSE_WEIGHTS)
    if cause == "vip_negative":  # drawn for a customer who is not high-value
        return None
    if cause == "legal_threat" and category not in ("complaint", "billing"):
        return "sentiment_worsening"
    return cause


@dataclass
class _Conversation:
    rng: random.Random
    start_ms: int
    truth: ConversationTruth | None = None
    customers: int = CUSTOMER_POOL

    def events(self) -> list[OutputRecord]:
        rng = self.rng
        known = rng.random() < KNOWN_CUSTOMER_CHANCE
        number = rng.randint(1, self.customers)
        lang = _customer_language(number) if known else _weighted(rng, LANGUAGE_WEIGHTS)
        pack = LANGUAGES[lang]
        channel = _weighted(rng, CHANNEL_WEIGHTS)
        scenario = _weighted(rng, SCENARIO_WEIGHTS)
        category = SCENARIO_CATEGORY[scenario]
        script = pack.scripts[scenario]
        value = _customer_value(number) if known else None
        cause = _cause(rng, scenario, category, value is not None and value >= HIGH_VALUE)
        name_rng = random.Random(number) if known else rng
        first, last = name_rng.choice(pack.names), name_rng.choice(pack.surnames)
        email = (f"{_ascii(first)}.{_ascii(last)}{number % 97}@"
                 f"{EMAIL_DOMAINS[number % len(EMAIL_DOMAINS)]}")
        customer: dict[str, str | None] = {
            "customer_id": f"cus_{number:06d}" if known else None,
            "email": email if channel == "EMAIL" or rng.random() < (0.4 if known else 0.1)
            else None,
            "phone": _phone(random.Random(number) if known else rng, lang)
            if channel in ("PHONE", "SMS") else None,
            "anonymous_id": f"anon-{rng.getrandbits(64):016x}"
            if channel in ("WEB", "MOBILE", "SOCIAL") and (not known or rng.random() < 0.3)
            else None,
        }
        plan = rng.choice(PLANS)
        seats = rng.choice((3, 5, 8, 12, 20, 35, 50, 120, 250))
        slots = {
            "name": first, "surname": last, "agent": rng.choice(pack.names),
            "order": f"TS-{rng.randint(1_000_000, 9_999_999)}",
            "tracking": "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
                                       for _ in range(16)),
            "product": rng.choice(pack.products),
            "amount": _money(pack, rng.choice((rng.uniform(9, 120), rng.uniform(120, 900)))),
            "price": _money(pack, PLAN_PRICES[plan]),
            "date": _date(pack, self.start_ms - rng.randint(1, 21) * 86_400_000),
            "new_date": _date(pack, self.start_ms + rng.randint(1, 10) * 86_400_000),
            "plan": plan, "seats": str(seats), "days": str(rng.randint(2, 15)),
            "minutes": str(rng.randint(2, 25)), "last4": f"{rng.randint(0, 9999):04d}",
            "email": email,
        }
        conversation_id = _uuid(rng)
        bot_id = rng.choice(BOTS)
        (think_lo, think_hi), (lat_lo, lat_hi) = PACING[channel]
        out: list[OutputRecord] = []
        now = self.start_ms

        def emit(event_type: str, role: str, text: str | None = None,
                 sender: str | None = None, metadata: dict[str, str] | None = None) -> None:
            out.append(OutputRecord(topics.CHAT_EVENTS, conversation_id, {
                "event_id": _uuid(rng),
                "conversation_id": conversation_id,
                "event_type": event_type,
                "occurred_at": now,
                "channel": channel,
                "sender_role": role,
                "sender_id": sender,
                "text": text,
                "language": lang,
                "customer": dict(customer),
                "metadata": metadata or {},
            }))

        casual = channel in ("MOBILE", "SMS", "SOCIAL")

        def customer_says(line: str, first: bool = False) -> str:
            if first and rng.random() < 0.35:
                line = rng.choice(pack.customer_intro) + " " + line
            if rng.random() < 0.4:
                line = line + " " + rng.choice(pack.customer_tail)
            text = line.format_map(slots)
            if casual and rng.random() < 0.2:  # typed on a phone
                text = text[0].lower() + text[1:].rstrip(".")
            return text

        def bot_says(line: str) -> str:
            if rng.random() < 0.55:
                line = rng.choice(pack.bot_intro) + " " + line
            return line.format_map(slots)

        def wait(lo: int, hi: int) -> None:
            nonlocal now
            now += rng.randint(lo, hi) * 1000 + rng.randrange(1000)

        def customer_turn(text: str) -> None:
            wait(think_lo, think_hi)
            emit("MESSAGE", "CUSTOMER", text)

        def bot_turn(line: str, fallback: bool = False) -> None:
            wait(lat_lo, lat_hi)
            flagged = fallback and rng.random() < 0.5  # some bot platforms flag a fallback
            emit("MESSAGE", "BOT", bot_says(line), sender=bot_id,
                 metadata={"fallback": "true"} if flagged else None)

        start_metadata = _start_metadata(rng, channel)
        if value is not None:  # looked up in the CRM by the chat service
            start_metadata["customer_value"] = f"{value:.2f}"
        emit("STARTED", "SYSTEM", metadata=start_metadata)
        follow = [line for line in script.follow_up if cause is not None
                  or line not in pack.upset]
        rng.shuffle(follow)
        bot = _Speaker(rng, script.bot)
        wait(1, 8)
        opening = rng.choice(pack.vague if cause == "unclear" else script.opening)
        ask_in_opening = cause == "human_request" and rng.random() < 0.3
        if ask_in_opening:
            opening = opening + " " + rng.choice(pack.ask_human)
        question = opening.format_map(slots)
        emit("MESSAGE", "CUSTOMER", customer_says(opening, first=True))

        def exchanges(count: int) -> None:
            """The bot answers, the customer goes on with the scenario (never a line twice)."""
            for _ in range(min(count, len(follow))):
                bot_turn(bot.next())
                customer_turn(customer_says(follow.pop()))

        thanked = False
        if cause is None:
            if rng.random() < HICCUP_CHANCE:  # one failed answer, the customer rephrases
                bot_turn(rng.choice(pack.bot_fallback), fallback=True)
                customer_turn(f"{rng.choice(pack.repeat_prefix)} {question}")
            exchanges(rng.randint(0, 3))
            bot_turn(bot.next())
            if rng.random() < 0.6:
                customer_turn(customer_says(rng.choice(pack.thanks)))
                bot_turn(rng.choice(pack.bot_more))
                thanked = True
        elif cause == "human_request":
            exchanges(0 if ask_in_opening else rng.randint(0, 2))
            if not ask_in_opening:
                bot_turn(bot.next())
                customer_turn(customer_says(rng.choice(pack.ask_human)))
        elif cause == "sentiment_worsening":
            exchanges(rng.randint(0, 1))
            for line in (*rng.sample(pack.frustrated, rng.randint(1, 2)),
                         rng.choice(pack.angry)):
                bot_turn(bot.next())
                customer_turn(customer_says(line))
        elif cause == "bot_failure_loop":
            exchanges(rng.randint(0, 1))
            fallbacks = rng.sample(pack.bot_fallback, min(len(pack.bot_fallback),
                                                          rng.randint(2, 3)))
            for i, line in enumerate(fallbacks):
                bot_turn(line, fallback=True)
                if i < len(fallbacks) - 1 or rng.random() < 0.5:
                    customer_turn(f"{rng.choice(pack.repeat_prefix)} {question}")
        elif cause == "legal_threat":
            exchanges(rng.randint(0, 2))
            if rng.random() < 0.5:
                bot_turn(bot.next())
                customer_turn(customer_says(rng.choice(pack.frustrated)))
            bot_turn(bot.next())
            customer_turn(customer_says(rng.choice(pack.legal)))
        elif cause == "vip_negative":
            exchanges(rng.randint(0, 2))
            bot_turn(bot.next())
            customer_turn(customer_says(rng.choice(pack.disappointed + pack.frustrated)))
        elif cause == "unclear":
            for line in rng.sample(pack.vague, rng.randint(1, 2)):
                bot_turn(rng.choice(pack.bot_clarify))
                customer_turn(customer_says(line))
        else:  # policy_topic: the bot may well answer; a person takes it over by policy
            exchanges(rng.randint(0, 2))
        resolution = "resolved"
        if cause is not None:
            wait(lat_lo, lat_hi)
            emit("MESSAGE", "BOT", bot_says(rng.choice(pack.bot_handoff)), sender=bot_id)
            wait(lat_lo, lat_hi)
            emit("HANDOFF", "SYSTEM", sender=bot_id, metadata={
                "target_team": TEAM_BY_CATEGORY[category], "reason": cause})
            wait(20, 300)
            agent_id = f"agent-{rng.randint(1, 180):04d}"
            agent = _Speaker(rng, script.agent)
            replies = rng.randint(2, 5)
            for i in range(replies):
                if i % 2 == 0:
                    line = rng.choice(pack.agent_bye) if i == replies - 1 and i else agent.next()
                    emit("MESSAGE", "AGENT", line.format_map(slots), sender=agent_id)
                    wait(think_lo, think_hi)
                else:
                    line = rng.choice(pack.thanks if rng.random() < 0.6 else script.follow_up)
                    emit("MESSAGE", "CUSTOMER", customer_says(line))
                    wait(lat_lo * 5, lat_hi * 10)
        elif category == "complaint" and not thanked and rng.random() < 0.4:
            resolution = "unresolved"
        if rng.random() < ENDED_CHANCE:
            wait(1, 30)
            emit("ENDED", "SYSTEM", metadata={
                "resolution": resolution,
                "ended_by": rng.choice(("customer", "timeout",
                                        "agent" if cause is not None else "bot")),
            })
        self.truth = ConversationTruth(conversation_id, scenario, lang, cause, value, len(out))
        return out


def _start_metadata(rng: random.Random, channel: str) -> dict[str, str]:
    if channel == "WEB":
        return {"page": rng.choice(PAGES), "widget_version": "2.14.0"}
    if channel == "MOBILE":
        os_name = rng.choice(("iOS", "Android"))
        return {"os": os_name, "app_version": f"5.{rng.randint(8, 14)}.{rng.randint(0, 4)}"}
    if channel == "SOCIAL":
        return {"network": rng.choice(("facebook", "instagram", "x", "whatsapp"))}
    if channel == "EMAIL":
        return {"mailbox": "support@touchstream.example"}
    if channel == "PHONE":
        return {"ivr_option": str(rng.randint(1, 5)), "transcribed": "true"}
    return {}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def conversations(count: int, *, seed: int = 7, start_ms: int | None = None,
                  customers: int = CUSTOMER_POOL) -> Iterator[OutputRecord]:
    """``count`` chat.events records of interleaved conversations, in time order.

    Conversations start at random (Poisson) moments, so several are open at once; the stream
    stops after exactly ``count`` records, possibly in the middle of a conversation. Known
    customers are drawn from ``customers`` people (a smaller population sees each person
    more often).
    """
    return _chat(count, seed, start_ms, None, customers)


def labelled_conversations(count: int, *, seed: int = 7, start_ms: int | None = None
                           ) -> tuple[list[OutputRecord], dict[str, ConversationTruth]]:
    """The records of ``conversations(count, seed=seed, start_ms=start_ms)`` and the truth of
    every conversation they hold a part of (``events`` tells whether all of it is there)."""
    truths: dict[str, ConversationTruth] = {}
    records = list(_chat(count, seed, start_ms, truths))
    held = {r.key for r in records}
    return records, {cid: t for cid, t in truths.items() if cid in held}


def _chat(count: int, seed: int, start_ms: int | None,
          truths: dict[str, ConversationTruth] | None,
          customers: int = CUSTOMER_POOL) -> Iterator[OutputRecord]:
    if start_ms is None:
        # a history that ends now, as events that already happened: none lies in the future
        last = 0
        for record in _chat(count, seed, 0, None, customers):
            last = record.value["occurred_at"]
        start_ms = _now_ms() - last
    rng = random.Random(seed)
    next_start = start_ms
    pending: list[tuple[int, int, OutputRecord]] = []
    seq = 0
    for _ in range(count):
        while not pending or next_start <= pending[0][0]:
            conversation = _Conversation(rng, next_start, customers=customers)
            for rec in conversation.events():
                heapq.heappush(pending, (rec.value["occurred_at"], seq, rec))
                seq += 1
            if truths is not None and conversation.truth is not None:
                truths[conversation.truth.conversation_id] = conversation.truth
            next_start += max(1, round(rng.expovariate(1 / MEAN_ARRIVAL_GAP_S) * 1000))
        yield heapq.heappop(pending)[2]


# --- ad metrics ------------------------------------------------------------------------------

#: Share of rows re-reported later with revised figures.
REVISION_CHANCE: Final = 0.03
#: Rows reach the topic this long after their interval ends.
REPORT_DELAY_MIN: Final = (5, 40)


def ad_metrics(count: int, *, seed: int = 11, start_ms: int | None = None
               ) -> Iterator[OutputRecord]:
    """Exactly ``count`` ad.metrics records: hourly rows of several campaigns per platform,
    in the order they are reported, with about 3 % revisions of earlier intervals.

    ``start_ms`` is floored to the hour and is the start of the first interval; by default the
    history ends at the current hour.
    """
    rng = random.Random(seed)
    campaigns: list[Campaign] = make_campaigns(rng)
    if start_ms is None:
        rows_per_hour = sum(1 + len(c.ad_groups) for c in campaigns)
        hours = math.ceil(count / rows_per_hour / (1 + REVISION_CHANCE))
        hour = (_now_ms() // HOUR_MS - hours) * HOUR_MS
    else:
        hour = start_ms // HOUR_MS * HOUR_MS
    pending: list[tuple[int, int, OutputRecord]] = []
    seq = 0
    emitted = 0
    while emitted < count:
        for campaign in campaigns:
            for value in hourly_rows(rng, campaign, hour):
                value["reported_at"] = (hour + HOUR_MS + rng.randint(*REPORT_DELAY_MIN) * 60_000
                                        + rng.randrange(60_000))
                key = f"{value['platform']}:{value['campaign_id']}"
                heapq.heappush(pending, (value["reported_at"], seq,
                                         OutputRecord(topics.AD_METRICS, key, value)))
                seq += 1
                if rng.random() < REVISION_CHANCE:
                    later = revise(rng, campaign, value)
                    heapq.heappush(pending, (later["reported_at"], seq,
                                             OutputRecord(topics.AD_METRICS, key, later)))
                    seq += 1
        hour += HOUR_MS
        # everything reported before the next hour's first possible report is final in order
        horizon = hour + HOUR_MS + REPORT_DELAY_MIN[0] * 60_000
        while pending and pending[0][0] < horizon and emitted < count:
            yield heapq.heappop(pending)[2]
            emitted += 1
