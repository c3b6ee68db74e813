"""Refit of BG/NBD + Gamma-Gamma on 100,000 customers, and whether it recovers their parameters.

Run: ``python -m benchmarks.clv_bench``. Draws customers from the BG/NBD and Gamma-Gamma
generative processes with the published CDNOW parameters (seeded, ages 26-52 weeks), times the
two maximum-likelihood fits (median of three, wall and CPU), checks each fitted parameter against
the truth in units of its standard error, and merges slice ``clv`` into
benchmarks/results/latest.json. Goal: a refit in 10 s or less. Prints the CDNOW fits too when the
`lifetimes` data is installed.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import astuple
from pathlib import Path
from typing import Any

import numpy as np

from streams.predictive import clv, clv_cdnow, clv_simulate

CUSTOMERS = 100_000
SEED = 2005
REPEATS = 3
RESULTS = Path(__file__).parent / "results" / "latest.json"


def _recovery(fit: tuple[float, ...], truth: tuple[float, ...],
              errors: tuple[float, ...]) -> tuple[float, float]:
    """(largest relative error, largest |log error| in standard errors)."""
    ratio = np.array(fit) / np.array(truth)
    return float(np.max(np.abs(ratio - 1.0))), float(np.max(np.abs(np.log(ratio) / np.array(errors))))


def measure() -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    truth_bgnbd, truth_gg = clv_cdnow.PUBLISHED_BGNBD, clv_cdnow.PUBLISHED_GAMMA_GAMMA
    T = rng.uniform(26.0, 52.0, CUSTOMERS)
    x, t_x = clv_simulate.simulate_bgnbd(truth_bgnbd, T, rng)
    m = clv_simulate.simulate_gamma_gamma(truth_gg, x, rng)
    times: list[tuple[float, float]] = []
    cpu: list[float] = []
    for _ in range(REPEATS):
        start, start_cpu = time.perf_counter(), time.process_time()
        bgnbd = clv.fit_bgnbd(x, t_x, T)
        middle = time.perf_counter()
        gamma_gamma = clv.fit_gamma_gamma(x, m)
        times.append((middle - start, time.perf_counter() - middle))
        cpu.append(time.process_time() - start_cpu)
    rel_bg, z_bg = _recovery(astuple(bgnbd.params), astuple(truth_bgnbd),
                             clv.bgnbd_log_standard_errors(bgnbd.params, x, t_x, T))
    rel_gg, z_gg = _recovery(astuple(gamma_gamma.params), astuple(truth_gg),
                             clv.gamma_gamma_log_standard_errors(gamma_gamma.params, x, m))
    return {
        "customers": CUSTOMERS,
        "fit_seconds": round(statistics.median(b + g for b, g in times), 3),
        "bgnbd_fit_seconds": round(statistics.median(b for b, _ in times), 3),
        "gamma_gamma_fit_seconds": round(statistics.median(g for _, g in times), 3),
        # CPU time of the process: the wall time above also counts waiting on a busy machine.
        "fit_cpu_seconds": round(statistics.median(cpu), 3),
        "repeat_customers": int(np.count_nonzero(x)),
        "converged": bgnbd.converged and gamma_gamma.converged,
        "bgnbd_params": [round(v, 4) for v in astuple(bgnbd.params)],
        "gamma_gamma_params": [round(v, 4) for v in astuple(gamma_gamma.params)],
        "recovery_max_rel_error": round(max(rel_bg, rel_gg), 4),
        "recovery_max_abs_z": round(max(z_bg, z_gg), 2),
    }


def cdnow() -> dict[str, Any] | None:
    try:
        x, t_x, T, m = clv_cdnow.summary()
    except FileNotFoundError:
        return None
    bgnbd, gamma_gamma = clv.fit_bgnbd(x, t_x, T), clv.fit_gamma_gamma(x, m)
    return {
        "bgnbd": [round(v, 4) for v in astuple(bgnbd.params)],
        "bgnbd_published": list(astuple(clv_cdnow.PUBLISHED_BGNBD)),
        "bgnbd_log_likelihood": round(bgnbd.log_likelihood, 2),
        "gamma_gamma": [round(v, 4) for v in astuple(gamma_gamma.params)],
        "gamma_gamma_published": list(astuple(clv_cdnow.PUBLISHED_GAMMA_GAMMA)),
    }


def merge(slice_name: str, figures: dict[str, Any]) -> None:
    """Read-modify-write of latest.json that keeps every other key."""
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault("slices", {})[slice_name] = figures
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def main() -> None:
    figures = measure()
    merge("clv", figures)
    print(json.dumps({"clv": figures, "cdnow": cdnow()}, indent=2))


if __name__ == "__main__":
    main()
