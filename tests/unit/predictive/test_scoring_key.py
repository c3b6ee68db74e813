"""The scoring key's text for a profile without an opt-out or tags (made once per currency)
is the text the general path writes: the same digest for every shape of attributes and tags."""

from __future__ import annotations

import hashlib
import math
import struct
from typing import Any

import pytest

from streams.predictive.churn import ChurnSignals
from streams.predictive.features import FEATURES
from streams.predictive.rfm import RfmSummary
from streams.predictive.stage import SIGNAL_KEYS, scoring_key


def reference(profile: dict[str, Any], features: dict[str, float], signals: ChurnSignals,
              summary: RfmSummary | None) -> str:
    """The key as first written: every string formatted, every time."""
    attributes = profile.get("attributes") or {}
    numbers = [*features.values(), *(signals.get(k, math.nan) for k in SIGNAL_KEYS)]
    currency = None
    if summary is not None:
        numbers += (summary.frequency, summary.recency, summary.T, summary.monetary_value)
        currency = summary.currency
    tags = profile.get("tags")
    rest = (f"{currency}|{attributes.get('opt_out', '')}|{attributes.get('unsubscribed', '')}|"
            f"{[t for t in tags if t.startswith('opt_out:')] if tags else []}")
    packed = struct.pack(f"{len(numbers)}d", *numbers)
    return hashlib.blake2b(packed + rest.encode(), digest_size=12).hexdigest()


ATTRIBUTES = [None, {}, {"plan": "pro"}, {"opt_out": ""}, {"opt_out": "email"},
              {"unsubscribed": "yes", "plan": "x"}, {"unsubscribed": ""}]
TAGS = [None, [], ["vip"], ["opt_out:email", "vip"], ["opt_out:sms"]]
SUMMARIES = [None, RfmSummary(2, 10.5, 30.0, 42.5, "USD", "weeks"),
             RfmSummary(0, 0.0, 3.0, 0.0, None, "weeks"), RfmSummary(1, 2.0, 9.0, 7.25, "EUR", "weeks")]


@pytest.mark.parametrize("summary", SUMMARIES)
def test_key_equals_the_general_text_for_every_shape(summary: RfmSummary | None) -> None:
    features = {name: float(j) if j % 3 else math.nan for j, name in enumerate(FEATURES)}
    signals = ChurnSignals(failed_payments=1, baseline_weeks=3.5)
    for attributes in ATTRIBUTES:
        for tags in TAGS:
            profile = {"person_id": "p1", "attributes": attributes, "tags": tags}
            key = scoring_key(profile, features, signals, summary)
            assert key == reference(profile, features, signals, summary)
    # an opt-out (attribute or tag) changes the key; a plan or a plain tag does not
    plain = scoring_key({"attributes": {"plan": "pro"}, "tags": ["vip"]}, features, signals,
                        summary)
    assert plain == scoring_key({}, features, signals, summary)
    assert scoring_key({"attributes": {"opt_out": "email"}}, features, signals, summary) != plain
    assert scoring_key({"tags": ["opt_out:sms"]}, features, signals, summary) != plain
