"""The soak's population knob (``TOUCHSTREAM_SOAK_CUSTOMERS``) as the simulator applies it:
known customers come from the given number of people, unknown ones carry no customer id (so
they make no person downstream), and leaving it out changes nothing. Pure: no broker."""

from __future__ import annotations

from collections import Counter

from streams.kernel.records import OutputRecord
from streams.simulators.chat import CUSTOMER_POOL, conversations
from tests.faults import harness


def _customers(records: list[OutputRecord]) -> Counter[str | None]:
    """Conversations per customer id (None: an unknown customer)."""
    first: dict[str, str | None] = {}
    for r in records:
        first.setdefault(r.key, r.value["customer"]["customer_id"])
    return Counter(first.values())


def test_known_customers_come_from_the_given_population() -> None:
    records = list(conversations(20_000, seed=5, start_ms=0, customers=50))
    seen = _customers(records)
    known = {c for c in seen if c is not None}
    assert known <= {f"cus_{n:06d}" for n in range(1, 51)}
    assert len(known) == 50  # ~1,100 known conversations over 50 people: every one drawn
    # the unknown share is the simulator's (45 %), whatever the population
    assert 0.35 < seen[None] / sum(seen.values()) < 0.55


def test_the_load_passes_the_population_on() -> None:
    known = {c for c in _customers(list(harness.chat_load(3_000, 6, 10))) if c is not None}
    assert known == {f"cus_{n:06d}" for n in range(1, 11)}


def test_the_default_population_is_the_simulators() -> None:
    default = list(conversations(3_000, seed=6, start_ms=0))
    assert default == list(conversations(3_000, seed=6, start_ms=0, customers=CUSTOMER_POOL))
    ids = {c for c in _customers(default) if c is not None}
    assert max(int(c[4:]) for c in ids) > 1_000  # drawn from 20,000, not a small pool
