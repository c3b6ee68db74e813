"""The CDNOW data that the BG/NBD and Gamma-Gamma papers fit, read from the files `lifetimes` ships.

The `lifetimes` package (dev extra) is used only as a carrier of its data files: they are found
through ``importlib.util.find_spec`` and read here, without importing the package (its fitters
predate current scipy and pandas).

Invariants: the 2,357-customer sample (customers whose first purchase was in the first quarter of
1997); the calibration period ends on 1997-09-30, weeks are the time unit of the published fits.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
from pathlib import Path
from typing import Final

import numpy as np

from streams.predictive.clv import Array, BgNbdParams, GammaGammaParams
from streams.predictive.rfm import Conversion

# Fader, Hardie and Lee 2005 (BG/NBD, Table/Figure fits) and 2005 "RFM and CLV" (spend model).
PUBLISHED_BGNBD: Final = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
PUBLISHED_GAMMA_GAMMA: Final = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
CALIBRATION_END: Final = dt.date(1997, 9, 30)
_EPOCH: Final = dt.date(1970, 1, 1)


def data_dir() -> Path:
    """The folder of the CDNOW files; FileNotFoundError when `lifetimes` is not installed."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the CDNOW data comes with the `lifetimes` package (dev extra)")
    return Path(spec.origin).parent / "datasets"


def summary() -> tuple[Array, Array, Array, Array]:
    """(x, t_x, T, mean repeat spend) of the 2,357 customers in weeks, as published."""
    table = np.loadtxt(data_dir() / "cdnow_customers_summary_with_transactions.csv", delimiter=",",
                       skiprows=1, dtype=np.float64)
    return table[:, 1].copy(), table[:, 2].copy(), table[:, 3].copy(), table[:, 4].copy()


def day_ms(day: dt.date) -> int:
    return (day - _EPOCH).days * 86_400_000


def sample_conversions() -> list[Conversion]:
    """Every purchase of the 2,357 customers (to 1998-06-30) as conversion records.

    Lines are `master id, sample id, yyyymmdd, CDs, dollars`; the sample id is the customer id.
    """
    conversions: list[Conversion] = []
    with (data_dir() / "CDNOW_sample.txt").open() as lines:
        for number, row in enumerate(csv.reader(lines, delimiter=" ", skipinitialspace=True)):
            _, customer, day, _, dollars = row
            date = dt.date(int(day[:4]), int(day[4:6]), int(day[6:]))
            conversions.append({
                "conversion_id": f"cdnow-{number}", "occurred_at": day_ms(date), "type": "purchase",
                "value": float(dollars), "currency": "USD",
                "identifiers": {"customer_id": str(int(customer))},
            })
    return conversions
