"""Readable reason codes from per-feature contributions (LightGBM ``pred_contrib``).

Invariants: a contribution is in log-odds of the raw model, before calibration; calibration
is monotone, so a feature that pushes the log-odds up pushes the score up. Positive drivers
are the largest contributions above ``min_effect``, negative drivers the most negative ones
below ``-min_effect``, at most ``top_k`` of each, strongest first. Every feature has a code:
one without a mapping gets ``FEATURE_NAME`` and a plain "name is value" text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class ReasonCode:
    """A code and text templates; ``{value}`` is the row's (unclipped) feature value."""

    code: str
    positive: str  # text when the feature raises the score
    negative: str | None = None  # text when it lowers it; the positive text if None


@dataclass(frozen=True)
class Reason:
    feature: str
    code: str
    text: str
    value: float
    contribution: float  # log-odds; > 0 raises the score


def format_value(value: float) -> str:
    if math.isnan(value):
        return "unknown"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


def default_code(feature: str) -> ReasonCode:
    return ReasonCode(feature.upper(), f"{feature} is {{value}}")


def reason_codes_for(names: Sequence[str], mapping: Mapping[str, ReasonCode]) -> tuple[ReasonCode, ...]:
    unknown = set(mapping) - set(names)
    if unknown:
        raise ValueError(f"reason codes for features the model does not have: {sorted(unknown)}")
    return tuple(mapping.get(name) or default_code(name) for name in names)


def _reason(name: str, code: ReasonCode, value: float, contribution: float) -> Reason:
    template = code.positive if contribution > 0 or code.negative is None else code.negative
    return Reason(name, code.code, template.format(value=format_value(value)), value, contribution)


def top_reasons(names: Sequence[str], codes: Sequence[ReasonCode], values: NDArray[np.float64],
                contributions: NDArray[np.float64], top_k: int = 3, min_effect: float = 0.01
                ) -> list[tuple[tuple[Reason, ...], tuple[Reason, ...]]]:
    """(positive, negative) reasons per row; ``contributions`` is (rows, features), no bias column."""
    rows, features = contributions.shape
    k = min(top_k, features)
    # The k largest and k smallest per row, found in one vectorised sort of each row.
    order = np.argsort(contributions, axis=1, kind="stable")
    up, down = order[:, ::-1][:, :k], order[:, :k]
    up_c = np.take_along_axis(contributions, up, axis=1)
    down_c = np.take_along_axis(contributions, down, axis=1)
    up_v = np.take_along_axis(values, up, axis=1)
    down_v = np.take_along_axis(values, down, axis=1)
    out: list[tuple[tuple[Reason, ...], tuple[Reason, ...]]] = []
    for i in range(rows):
        positive = tuple(_reason(names[j], codes[j], v, c)
                         for j, c, v in zip(up[i].tolist(), up_c[i].tolist(), up_v[i].tolist(), strict=True)
                         if c > min_effect)
        negative = tuple(_reason(names[j], codes[j], v, c)
                         for j, c, v in zip(down[i].tolist(), down_c[i].tolist(), down_v[i].tolist(),
                                            strict=True)
                         if c < -min_effect)
        out.append((positive, negative))
    return out
