"""Quality of the campaign anomaly detector, on simulated labels and on a public benchmark.

(a) Simulated campaigns (``streams.simulators.anomalies``) with injected spend spikes, CTR drops,
    tracking breaks and budgets exhausted early. The thresholds were tuned on seed 7; the
    figures come from held-out seeds (``--seeds``, default 101-105, 40 campaigns x 9 weeks
    each). Every hour from the second week on is scored exactly as the stream would (same
    scorer, same episode logic); per kind: recall, precision and detection delay in hours
    (definitions in ``streams.marketing.anomaly_evaluation``), plus the precision of the new
    alerts of all six metrics and their false alerts per series-week.
(b) The UCR Time Series Anomaly Archive (Wu & Keogh, KDD Cup 2021), series 135
    ``InternalBleeding16`` (arterial blood pressure, one labelled anomaly in 7,501 points), as
    shipped inside the ``aeon`` wheel (BSD-3-Clause; read from the installed files, never
    downloaded; ``aeon`` itself is not imported). Its first 1,200 points are the anomaly-free
    training part. The detector runs with the period estimated from that part as its season,
    no minimum change, and every other setting as for campaigns. UCR's own protocol: the single
    most anomalous point must fall within 100 points of the labelled range; also reported:
    the alerts that the default threshold raises, and those of lower thresholds.

Prints a table and merges ``"quality": {"anomaly": {...}}`` into benchmarks/results/latest.json
(read-modify-write; other "quality" entries are kept).

``python -m benchmarks.anomaly_quality [--seeds 101,102,103,104,105] [--no-write]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from streams.marketing.anomaly import step_episode
from streams.marketing.anomaly_evaluation import Label, as_dicts, evaluate, series_alerts
from streams.marketing.anomaly_scoring import DEFAULT_RULES, AnomalyPolicy, MetricRule, score_columns
from streams.simulators.anomalies import simulate

RESULTS = Path(__file__).parent / "results" / "latest.json"
UCR_FILE = "datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TEST.csv"
UCR_TRAIN = 1200
UCR_MARGIN = 100


def simulated(seeds: list[int], campaigns: int = 40, weeks: int = 9, first: int = 168) -> dict[str, Any]:
    """Per-kind quality over the seeds together."""
    alerts = []
    labels = []
    series_weeks = 0.0
    for i, seed in enumerate(seeds):
        sim = simulate(campaigns=campaigns, weeks=weeks, seed=seed)
        counters = (sim.impressions, sim.clicks, sim.cost, sim.conversions, sim.value)
        for a in series_alerts(counters, first):
            alerts.append(type(a)(a.series + i * campaigns, a.column, a.metric, a.direction, a.status,
                                  a.severity))
        labels += [Label(lb.campaign + i * campaigns, lb.kind, lb.start, lb.end) for lb in sim.labels]
        series_weeks += float(np.sum(~np.isnan(sim.cost[:, first:]))) / 168
    report = as_dicts(evaluate(alerts, labels, series_weeks))
    report["campaigns"] = campaigns * len(seeds)
    report["weeks"] = weeks
    report["seeds"] = seeds
    return report


def ucr_path() -> Path:
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the UCR series ships in the aeon wheel: make bench (it installs "
                         "aeon==1.6.0 without its dependencies)")
    return Path(next(iter(spec.submodule_search_locations))) / UCR_FILE


def ucr(path: Path) -> dict[str, Any]:
    """UCR 135: top-1 location hit, and alerts at several thresholds."""
    table = np.genfromtxt(path, delimiter=",", skip_header=1)
    values, labels = table[:, 1], table[:, 2]
    anomaly = np.flatnonzero(labels)
    lo, hi = int(anomaly.min()) - UCR_MARGIN, int(anomaly.max()) + UCR_MARGIN
    train = values[:UCR_TRAIN] - values[:UCR_TRAIN].mean()
    autocorr = np.correlate(train, train, "full")[UCR_TRAIN - 1:]
    period = int(np.argmax(autocorr[20:UCR_TRAIN // 2]) + 20)
    policy = AnomalyPolicy(season=period, short_season=period, weeks=4, days=4, min_days=2,
                           scale_hours=2 * period, min_scale_points=period // 2, fallback_scale=0.0,
                           min_change=0.0, rules={**DEFAULT_RULES, "spend": MetricRule()})
    num = values[None, :]
    # A plain positive series: scored as a count metric whose counting noise is nil.
    scores = score_columns("spend", num, np.ones_like(num), num * 1e9, UCR_TRAIN, policy)
    z = np.nan_to_num(scores.z[0])
    top = int(np.argmax(np.abs(z))) + UCR_TRAIN
    out: dict[str, Any] = {
        "dataset": "UCR Anomaly Archive 135_UCR_Anomaly_InternalBleeding16 (aeon 1.6.0 wheel)",
        "points": int(values.size), "train_points": UCR_TRAIN, "season_estimated": period,
        "label": [int(anomaly.min()), int(anomaly.max())], "top1_index": top,
        "top1_hit": bool(lo <= top <= hi),
        "max_abs_z_inside": round(float(np.abs(z[lo - UCR_TRAIN:hi - UCR_TRAIN]).max()), 2),
        "max_abs_z_outside": round(float(np.abs(np.r_[z[:lo - UCR_TRAIN], z[hi - UCR_TRAIN:]]).max()), 2),
    }
    for threshold in (policy.warn_z, 3.5, 3.0):
        found, false = 0, 0
        episodes: dict[str, dict[str, int] | None] = {"up": None, "down": None}
        for col in np.flatnonzero(np.abs(z) >= threshold):
            direction = "up" if z[col] > 0 else "down"
            episodes[direction], status = step_episode(episodes[direction], int(col), 1, policy)
            if status == "new":
                if lo <= col + UCR_TRAIN <= hi:
                    found += 1
                else:
                    false += 1
        out[f"alerts_at_z{threshold:g}"] = {"in_label": found, "false": false}
    return out


def merge(entry: dict[str, Any], path: Path = RESULTS) -> None:
    """Read-modify-write of latest.json: only ``quality.anomaly`` changes."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("quality", {})["anomaly"] = entry
    path.write_text(json.dumps(data, indent=2) + "\n")


def print_table(sim: dict[str, Any], bench: dict[str, Any]) -> None:
    print(f"(a) simulated, held-out seeds {sim['seeds']}: {sim['campaigns']} campaigns x "
          f"{sim['weeks']} weeks (signature alerts: new alerts of the kind's metric and direction)")
    print(f"{'kind':<18}{'events':>7}{'recall':>8}{'precision':>10}{'sig.alerts':>11}"
          f"{'delay p50 h':>12}{'p90 h':>7}")
    for kind in ("spend_spike", "ctr_drop", "tracking_break", "budget_exhausted"):
        q = sim[kind]
        print(f"{kind:<18}{q['events']:>7}{q['recall']:>8.3f}{q['precision']:>10.3f}{q['alerts']:>11}"
              f"{q['delay_median_h']:>12.1f}{q['delay_p90_h']:>7.1f}")
    print(f"all metrics: {sim['all_alerts']} new alerts, precision {sim['precision_all_metrics']:.3f}, "
          f"{sim['false_per_series_week']:.3f} false alerts per campaign-week")
    print(f"(b) {bench['dataset']}: top-1 hit {bench['top1_hit']} (index {bench['top1_index']}, label "
          f"{bench['label']}), max |z| inside {bench['max_abs_z_inside']} vs outside "
          f"{bench['max_abs_z_outside']}")
    for key, val in bench.items():
        if key.startswith("alerts_at_"):
            print(f"    {key}: {val}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="101,102,103,104,105")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    sim = simulated([int(s) for s in args.seeds.split(",")])
    bench = ucr(ucr_path())
    print_table(sim, bench)
    entry = {"simulated": sim, "ucr_135": bench,
             "reproduce": "python -m benchmarks.anomaly_quality"}
    if not args.no_write:
        merge(entry)
    return entry


if __name__ == "__main__":
    main()
