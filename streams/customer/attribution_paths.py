"""Channel paths: what the Markov and Shapley models read.

Invariants:
- A ``Paths`` value holds channel paths in CSR form with, per path, how many journeys ended
  in a conversion (``conversions``), their total value (``values``) and how many did not
  convert (``nulls``): the shape of ChannelAttribution's ``Data.csv`` (path;
  total_conversions; total_conversion_value; total_null), aggregated or one row a journey.
- Every path has at least one channel; empty journeys carry no channel to credit and are left
  out (``channel_paths`` counts them in ``unattributed``).
- Converting paths are conversions' journeys; non-converting paths are each person's
  touchpoints after their last conversion (see ``attribution.non_converting``).
- Amounts are never converted: value credits are computed per currency (``in_currency``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import ArrayLike

from streams.customer.attribution import (
    ConversionTable,
    Floats,
    Ints,
    Journeys,
    Objects,
    TouchTable,
    non_converting,
)


@dataclass(frozen=True)
class Paths:
    """Channel paths: path ``i`` is ``channels[codes[offsets[i]:offsets[i + 1]]]``."""

    channels: tuple[str, ...]
    offsets: Ints
    codes: Ints
    conversions: Floats
    values: Floats
    nulls: Floats

    def __post_init__(self) -> None:
        if len(self.offsets) != len(self.conversions) + 1 or (np.diff(self.offsets) < 1).any():
            raise ValueError("every path needs at least one channel, and one count per path")

    def __len__(self) -> int:
        return len(self.conversions)

    @property
    def lengths(self) -> Ints:
        return np.diff(self.offsets)

    @classmethod
    def from_sequences(cls, paths: Sequence[Sequence[str]], conversions: ArrayLike,
                       values: ArrayLike | None = None, nulls: ArrayLike | None = None) -> Paths:
        names = sorted({str(c) for p in paths for c in p})
        index = {c: i for i, c in enumerate(names)}
        codes = np.array([index[str(c)] for p in paths for c in p], dtype=np.int64)
        offsets = np.zeros(len(paths) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in paths], out=offsets[1:])
        n = len(paths)
        return cls(tuple(names), offsets, codes, np.asarray(conversions, dtype=np.float64),
                   np.zeros(n) if values is None else np.asarray(values, dtype=np.float64),
                   np.zeros(n) if nulls is None else np.asarray(nulls, dtype=np.float64))

    def sequences(self) -> list[tuple[str, ...]]:
        names = self.channels
        codes = self.codes.tolist()
        bounds = self.offsets.tolist()
        return [tuple(names[c] for c in codes[a:b]) for a, b in pairwise(bounds)]


def parse_paths(lines: Sequence[str], sep: str = ">") -> list[list[str]]:
    """Channel lists from ChannelAttribution-style path strings (``"a > b > c"``)."""
    return [[c.strip() for c in line.split(sep) if c.strip()] for line in lines]


@dataclass(frozen=True)
class ChannelPaths:
    paths: Paths  # values summed over every currency: use ``in_currency`` for value credits
    currency: Objects  # per path: its conversion's currency, None for a non-converting path
    unattributed: int  # conversions whose journey was empty
    unattributed_value: float

    def in_currency(self, currency: str) -> Paths:
        """The paths with the value of conversions in other currencies set to 0 (their
        conversions still count), so that value credits never add up two currencies."""
        p = self.paths
        return Paths(p.channels, p.offsets, p.codes, p.conversions,
                     np.where(self.currency == currency, p.values, 0.0), p.nulls)


def channel_paths(touches: TouchTable, conversions: ConversionTable, journeys: Journeys) -> ChannelPaths:
    """One path per conversion with a non-empty journey, then one per person with touches after
    their last conversion; each path's counts are those of one journey."""
    lengths = journeys.lengths
    has = lengths > 0
    conv_offsets = np.r_[0, np.cumsum(lengths[has])].astype(np.int64)
    null_offsets, null_rows = non_converting(journeys, touches, conversions)
    rows = np.concatenate([journeys.touch, null_rows])
    offsets = np.concatenate([conv_offsets, conv_offsets[-1] + null_offsets[1:]])
    n_conv, n_null = int(has.sum()), len(null_offsets) - 1
    paths = Paths(touches.channels, offsets, touches.channel[rows].astype(np.int64),
                  np.r_[np.ones(n_conv), np.zeros(n_null)],
                  np.r_[conversions.value[has], np.zeros(n_null)],
                  np.r_[np.zeros(n_conv), np.ones(n_null)])
    currency = np.empty(n_conv + n_null, dtype=object)
    currency[:n_conv] = conversions.currency[has]
    return ChannelPaths(paths, currency, int((~has).sum()), float(conversions.value[~has].sum()))
