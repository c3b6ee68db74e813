"""Best contact time: the hour of the week a person engages most, shrunk towards their segment.

A person's engagement (touchpoints: visits, email opens and clicks, chats) is counted by hour
of the week (168 bins, 0 = Monday 00:00 in UTC). With few events a person's own mode is
noise, so the estimate adds ``strength`` pseudo-events spread as the person's segment engages
(``ContactModel.shares``: each person of the segment counts once, however active), then
takes the largest bin; a person with no events gets the segment's best hour. Segments are
whatever the caller groups persons by (the profile's ``segment`` attribute or lifecycle
stage); an unknown segment uses the share of everyone.

Invariants: pure and deterministic (ties go to the earliest hour of the week); shares are
non-negative and sum to 1; ``confidence`` is the chosen bin's share of the shrunk counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

DAY_MS: Final = 86_400_000
HOUR_MS: Final = 3_600_000
HOURS: Final = 168
DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERYONE: Final = ""


def hour_of_week(ms: int) -> int:
    """0 = Monday 00:00 UTC (1970-01-01 was a Thursday)."""
    return int(((ms // DAY_MS + 3) % 7) * 24 + (ms % DAY_MS) // HOUR_MS)


def label(hour: int) -> str:
    """``tue 18:00``."""
    return f"{DAYS[hour // 24]} {hour % 24:02d}:00"


class ContactTime(NamedTuple):
    hour_of_week: int
    confidence: float
    events: int  # the person's own events behind it


@dataclass(frozen=True, eq=False)
class ContactModel:
    segments: tuple[str, ...]  # EVERYONE first
    shares: NDArray[np.float64]  # (segments, 168), rows sum to 1
    strength: float = 8.0  # pseudo-events of the segment's shape added to a person's counts

    def share(self, segment: str) -> NDArray[np.float64]:
        row = self.segments.index(segment) if segment in self.segments else 0
        out: NDArray[np.float64] = self.shares[row]
        return out


def histogram(hours: Iterable[int]) -> NDArray[np.float64]:
    return np.bincount(np.fromiter(hours, np.int64), minlength=HOURS).astype(np.float64)[:HOURS]


def fit_contact(hours_by_person: Mapping[str, Sequence[int]], segment_of: Mapping[str, str],
                strength: float = 8.0, smoothing: float = 0.1) -> ContactModel:
    """Each segment's engagement shape: persons' hour-of-week shares averaged (each person
    once), plus ``smoothing`` of a uniform week so no hour has a zero share."""
    sums: dict[str, NDArray[np.float64]] = {EVERYONE: np.zeros(HOURS)}
    for person, hours in hours_by_person.items():
        if not hours:
            continue
        own = histogram(hours)
        own /= own.sum()
        for segment in {EVERYONE, segment_of.get(person, EVERYONE)}:
            sums.setdefault(segment, np.zeros(HOURS))
            sums[segment] += own
    names = (EVERYONE, *sorted(s for s in sums if s != EVERYONE))
    shares = np.vstack([sums[s] + smoothing / HOURS * max(1.0, sums[s].sum()) for s in names])
    shares /= shares.sum(axis=1, keepdims=True)
    return ContactModel(names, shares, strength)


def best_time(model: ContactModel, hours: Sequence[int], segment: str) -> ContactTime:
    shrunk = histogram(hours) + model.strength * model.share(segment)
    best = int(np.argmax(shrunk))  # the first of equal bins
    return ContactTime(best, round(float(shrunk[best] / shrunk.sum()), 4), len(hours))


__all__ = ["ContactModel", "ContactTime", "best_time", "fit_contact", "hour_of_week", "label"]
