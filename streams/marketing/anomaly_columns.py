"""Incremental scores of the stream's anomaly detector (``anomaly_stage``).

A score of hour ``t`` reads, besides the counters of its windows, each window's residual and
counting variance over the ``scale_hours`` before ``t`` (the pooled noise scale) and the
expected numerator of each hour of its windows (the seasonal baseline times the hour's
denominator). ``Derived`` keeps those per-hour figures of a campaign next to its counters, so
a judged hour computes its own column and reads the rest, instead of rebuilding baselines
and residuals over weeks of columns for every judged hour.

Columns of a ``Derived`` (``Layout``): the expected numerator of each metric's hour, the
expected conversion count behind CPA (``count_hour``), the sums of the 24 hours ending at the
hour (the trailing level and unit of a later hour add seven of them), then the residual and
the counting variance of every (metric, window) pair. The figures themselves are computed
in ``anomaly_figures``.

Invariants:
- a column's figures are a function of the counters of its hour and earlier hours only, each
  computed directly from them (no running sums): figures rebuilt from the counters after a
  restart equal the ones kept;
- a change to the counters of hour ``h`` invalidates the figures of every column from ``h`` on
  (a later column's baseline, window or trailing level may read it); ``judge`` computes them
  again, oldest first, before any score reads them;
- the columns kept reach ``keep_hours`` (``scale_hours + max_lateness_hours + the longest
  window``) behind the newest hour: the oldest hour that can still be judged reads its pooled
  residuals over the previous ``scale_hours``, each of those its window of expected hours;
- severities equal those of ``score_columns`` over the whole series (the same medians and
  scales; window and trailing sums taken in another order, so figures equal to rounding);
- a batch is cut into groups of at most ``GROUP_CELLS`` columns, so its arrays stay bounded
  however long a backlog is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np
from numpy.typing import NDArray

from streams.marketing.anomaly_figures import (
    DAY_ROWS,
    day_sums,
    hour_figures,
    trailing,
    windows,
)
from streams.marketing.anomaly_scoring import (
    COUNT_TESTED,
    MAD_TO_SIGMA,
    METRICS,
    AnomalyPolicy,
    Array,
    _count_checked,
    _sorted_median,
)

#: columns computed in one vectorised pass (about 7 kB of gathered counters each)
GROUP_CELLS: Final = 4096
#: the trailing level and unit over ``scale_hours`` are sums of 24-hour sums, each kept with
#: its last hour: the five counters (NaN as 0), how many of them were known, and the hours
#: whose cost, clicks and conversions were not all known or all missing
DAY: Final = 24
#: columns allocated beyond those needed when a campaign's figures grow
SPARE_COLUMNS: Final = 48
Found = tuple[int, int, int, tuple[float, float, float, float, int]]


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each figure sits in a ``Derived`` and the lags a baseline reads, for a policy."""

    policy: AnomalyPolicy
    pairs: tuple[tuple[int, int], ...]  # (metric index, window hours)
    weekly: tuple[int, ...]
    daily: tuple[int, ...]
    span: int  # the longest window
    reaches: tuple[Reach, ...] = ()  # what a cell gathers: counters (``_offsets``), figures (``_back``)

    @staticmethod
    def of(policy: AnomalyPolicy) -> Layout:
        pairs = tuple((i, w) for i, m in enumerate(METRICS) for w in policy.windows_of(m))
        if policy.scale_hours % DAY:
            raise ValueError("scale_hours must be whole days (the trailing level sums days)")
        layout = Layout(policy, pairs,
                        tuple(policy.season * k for k in range(1, policy.weeks + 1)),
                        tuple(policy.short_season * k for k in range(1, policy.days + 1)),
                        max(w for _, w in pairs))
        return replace(layout, reaches=(_offsets(layout), _back(layout)))

    @property
    def hours_rows(self) -> int:
        """Rows of the hour's own figures: expected numerators, the CPA count, the day sums."""
        return len(METRICS) + 1 + DAY_ROWS

    @property
    def rows(self) -> int:
        return self.hours_rows + 2 * len(self.pairs)

    @property
    def resid(self) -> slice:
        return slice(self.hours_rows, self.hours_rows + len(self.pairs))

    @property
    def samp(self) -> slice:
        return slice(self.hours_rows + len(self.pairs), self.rows)

    @property
    def recent(self) -> int:
        """Columns of counters a cell reads up to itself (its windows and its day sums)."""
        return max(self.span, DAY)

    @property
    def keep_hours(self) -> int:
        """The oldest judgeable hour's pool reaches ``scale_hours`` back, and each hour of it
        its trailing level through day sums another ``scale_hours``."""
        p = self.policy
        return p.max_lateness_hours + 2 * p.scale_hours


@dataclass(slots=True)
class Derived:
    """A campaign's per-hour figures for the columns ``[origin, end)``; ``values`` may hold
    spare columns after them, which appends fill in place (never columns before ``end``: a
    copy of an earlier state may share the array)."""

    origin: int
    values: Array  # (Layout.rows, capacity)
    width: int

    @property
    def end(self) -> int:
        return self.origin + self.width

    @property
    def valid(self) -> Array:
        return self.values[:, :self.width]

    def upto(self, end: int) -> Derived:
        """The columns before ``end``, in an array of its own when that drops columns."""
        if end >= self.end:
            return self
        width = max(end - self.origin, 0)
        return Derived(self.origin, self.values[:, :width].copy(), width)

    def since(self, start: int) -> Derived:
        """The columns from ``start`` on (a view)."""
        cut = min(max(start - self.origin, 0), self.width)
        if not cut:
            return self
        return Derived(self.origin + cut, self.values[:, cut:], self.width - cut)

    def grown(self, end: int) -> Derived:
        """Room for the columns up to ``end`` (appended after the valid ones)."""
        need = end - self.origin
        if need <= self.values.shape[1]:
            return Derived(self.origin, self.values, self.width)
        values = np.full((self.values.shape[0], need + SPARE_COLUMNS), np.nan)
        values[:, :self.width] = self.valid
        return Derived(self.origin, values, self.width)


def take(values: Array, origin: int, cols: NDArray[np.int64]) -> Array:
    """``values[:, cols - origin]`` with NaN for columns outside ``values``."""
    if not values.shape[1]:
        return np.full((values.shape[0], *cols.shape), np.nan)
    rel = cols - origin
    inside = (rel >= 0) & (rel < values.shape[1])
    out = values[:, np.where(inside, rel, 0)]
    if not inside.all():
        out[:, ~inside] = np.nan
    return out


@dataclass(frozen=True, slots=True)
class Reach:
    """Column offsets a cell reads, with their bounds (computed once, not per gather)."""

    offsets: NDArray[np.int64]
    low: int
    high: int

    @staticmethod
    def of(offsets: list[int]) -> Reach:
        return Reach(np.array(offsets, dtype=np.int64), min(offsets), max(offsets))


def take_run(values: Array, origin: int, lo: int, hi: int, reach: Reach) -> Array:
    """``take`` of the columns ``t + offsets`` for ``t`` in ``[lo, hi)``, ``(rows, hi - lo,
    offsets)``; without the masks when they all fall inside ``values`` (the common case)."""
    cols = ((reach.offsets + (lo - origin))[None, :] if hi - lo == 1  # a live hour
            else np.arange(lo - origin, hi - origin)[:, None] + reach.offsets[None, :])
    if lo - origin + reach.low >= 0 and hi - 1 - origin + reach.high < values.shape[1]:
        return values[:, cols]
    return take(values, 0, cols)


@dataclass(slots=True)
class Job:
    """One campaign's part of a batch: counters ``(5, hours)`` from ``origin``, its valid
    figures, the columns to compute ``[start, stop)`` and the hours to judge."""

    key: str
    origin: int
    counters: Array
    derived: Derived
    start: int
    stop: int
    targets: list[int]
    found: list[Found] = field(default_factory=list)


@dataclass(slots=True)
class _Candidates:
    """Target windows that could alert (one entry each) and what their scores need."""

    jobs: list[Job] = field(default_factory=list)
    hours: list[int] = field(default_factory=list)
    pairs: list[int] = field(default_factory=list)
    figures: list[Array] = field(default_factory=list)  # (9, n) blocks: see ``_FIGURES``


_FIGURES: Final = ("resid", "samp", "obs", "den", "count", "exp", "change", "short", "unit")


def judge(layout: Layout, jobs: list[Job]) -> None:
    """Compute every job's columns ``[start, stop)`` (oldest first), then score its targets:
    sets each job's ``derived`` (cut to ``keep_hours`` behind ``stop``) and ``found`` (metric
    index, hour, severity, (z, value, baseline, change, window)) of every target hour and
    metric with a severity, as ``score_columns`` scores them."""
    candidates = _Candidates()
    for group in _groups(jobs):
        _compute(layout, group, candidates)
    _score(layout, candidates)
    for job in jobs:
        job.derived = job.derived.since(job.stop - layout.keep_hours)


def _groups(jobs: list[Job]) -> list[list[tuple[Job, int, int]]]:
    """Each job's columns in order, in groups of at most ``GROUP_CELLS``; a job's later columns
    never share a group with its earlier ones, which they read."""
    groups: list[list[tuple[Job, int, int]]] = [[]]
    size = 0
    for job in jobs:
        for lo in range(job.start, job.stop, GROUP_CELLS):
            hi = min(lo + GROUP_CELLS, job.stop)
            if size + hi - lo > GROUP_CELLS or (groups[-1] and groups[-1][-1][0] is job):
                groups.append([])
                size = 0
            groups[-1].append((job, lo, hi))
            size += hi - lo
    return [g for g in groups if g]


def _offsets(layout: Layout) -> Reach:
    """Columns of counters gathered for a cell: the ``recent`` up to itself, then its lags."""
    return Reach.of([*range(-layout.recent + 1, 1),
                     *(-lag for lag in (*layout.weekly, *layout.daily))])


def _back(layout: Layout) -> Reach:
    """Figures read for a cell: the expected hours of its windows, its trailing day sums."""
    return Reach.of([*range(-layout.span + 1, 1),
                     *(-1 - DAY * k for k in range(layout.policy.scale_hours // DAY))])


def _compute(layout: Layout, group: list[tuple[Job, int, int]], candidates: _Candidates) -> None:
    """One group's columns: their figures written into the jobs' ``derived``; the targets'
    windows that could alert added to ``candidates``."""
    p = layout.policy
    recent = layout.recent
    offsets = layout.reaches[0]
    gathered = np.concatenate(
        [take_run(job.counters, job.origin, lo, hi, offsets) for job, lo, hi in group], axis=1)
    cells = gathered.shape[1]
    expected, short, count_hour = hour_figures(p, gathered[:, :, recent - 1:])
    n_metrics = len(METRICS)
    own = layout.hours_rows
    hours = np.concatenate([expected.reshape(n_metrics, cells), count_hour[None],
                            day_sums(gathered[:, :, recent - DAY:recent])])
    back = layout.reaches[1]
    read = []
    at = 0
    for n, (job, lo, hi) in enumerate(group):
        d = job.derived
        if not d.width:
            d = Derived(lo, d.values[:, :0], 0)
        d = d.grown(hi)
        d.values[:own, lo - d.origin:hi - d.origin] = hours[:, at:at + hi - lo]
        d.width = hi - d.origin
        job.derived = d
        read.append(take_run(d.values[:own, :d.width], d.origin, lo, hi, back))
        group[n] = (job, lo, hi)
        at += hi - lo
    kept = np.concatenate(read, axis=1)  # (hours_rows, cells, span + days)
    # no day sum before the columns kept: hours before the campaign's first (a miss rebuilds
    # enough columns that no judged hour reads such a level)
    trail = np.nan_to_num(kept[n_metrics + 1:, :, layout.span:], nan=0.0).sum(axis=2)
    past: list[Array] = []
    if np.any(trail[10] > 0):
        past.append(np.concatenate(
            [take(job.counters, job.origin,
                  np.arange(lo, hi)[:, None] + np.arange(-p.scale_hours, 0)[None, :])
             for job, lo, hi in group], axis=1)[:, trail[10] > 0])
    level, unit = trailing(trail, past)
    window_hours = kept[:n_metrics + 1, :, :layout.span]
    figures = windows(p, layout.pairs, gathered[:, :, recent - layout.span:recent],
                       window_hours[:n_metrics].reshape(n_metrics * cells, -1),
                       window_hours[n_metrics], level, unit)
    rows = [(i * cells, w) for i, w in layout.pairs]
    resid = np.stack([figures[w].resid[r:r + cells] for r, w in rows])
    samp = np.stack([figures[w].samp[r:r + cells] for r, w in rows])
    target = np.zeros(cells, dtype=bool)
    at = 0
    for job, lo, hi in group:
        d = job.derived
        d.values[layout.resid, lo - d.origin:hi - d.origin] = resid[:, at:at + hi - lo]
        d.values[layout.samp, lo - d.origin:hi - d.origin] = samp[:, at:at + hi - lo]
        target[[at + t - lo for t in job.targets if lo <= t < hi]] = True
        at += hi - lo
    with np.errstate(invalid="ignore"):
        # an upper bound of |z| (no excess noise, no fallback, no count test), as the screen
        could = (target[None] & (np.abs(resid) >= np.log1p(p.min_change))
                 & (np.abs(resid) / np.sqrt(samp + p.scale_floor**2) * (1 + 1e-9) >= p.warn_z))
    pair_at, cell_at = np.nonzero(could)
    if not pair_at.size:
        return
    starts = np.cumsum([0] + [hi - lo for _, lo, hi in group])
    owner = np.searchsorted(starts, cell_at, side="right") - 1
    rows_at = np.array([rows[k][0] for k in pair_at.tolist()]) + cell_at
    block = []
    for name in _FIGURES:
        if name == "short":
            block.append(short[rows_at])
        elif name == "unit":
            block.append(unit[rows_at])
        else:
            block.append(np.array([getattr(figures[rows[k][1]], name)[r]
                                   for k, r in zip(pair_at.tolist(), rows_at.tolist(),
                                                   strict=True)]))
    candidates.figures.append(np.stack(block))
    for k, c, o in zip(pair_at.tolist(), cell_at.tolist(), owner.tolist(), strict=True):
        job, lo, _ = group[o]
        candidates.jobs.append(job)
        candidates.hours.append(lo + c - int(starts[o]))
        candidates.pairs.append(k)


def _pool(d: Derived, rows: tuple[int, int], t: int, trail: Reach) -> Array:
    """Residuals and counting variances of one (metric, window) over the hours before ``t``:
    a plain slice when every one is kept (the common case)."""
    a, b = t + trail.low - d.origin, t - d.origin
    if a >= 0 and b <= d.width:
        return d.values[rows, a:b]
    return take_run(d.values[rows, :d.width], d.origin, t, t + 1, trail)[:, 0]


def _score(layout: Layout, candidates: _Candidates) -> None:
    """The full score of the target windows that could alert: their pooled noise scale from
    the residuals kept, then ``z``, the count test and the severity (``score_columns``)."""
    if not candidates.jobs:
        return
    p = layout.policy
    trail = Reach.of(list(range(-p.scale_hours, 0)))
    pools = np.stack([
        _pool(job.derived, (layout.resid.start + k, layout.samp.start + k), t, trail)
        for job, t, k in zip(candidates.jobs, candidates.hours, candidates.pairs, strict=True)],
        axis=1)  # (2, candidates, scale_hours)
    med, _ = _sorted_median(pools[0])
    mad, count = _sorted_median(np.abs(pools[0] - med[:, None]))
    samp_med, _ = _sorted_median(pools[1])
    excess = np.sqrt(np.maximum((MAD_TO_SIGMA * mad) ** 2 - np.nan_to_num(samp_med), 0.0))
    extra = np.where(count >= p.min_scale_points, excess, p.default_scale)
    f = dict(zip(_FIGURES, np.concatenate(candidates.figures, axis=1), strict=True))
    fallback = np.where(f["short"] > 0, p.fallback_scale**2, 0.0)
    sigma = np.sqrt(extra**2 + f["samp"] + p.scale_floor**2 + fallback)
    z = f["resid"] / sigma
    metric = np.array([layout.pairs[k][0] for k in candidates.pairs])
    for i, name in enumerate(METRICS):
        rows = np.flatnonzero(metric == i)
        if name in COUNT_TESTED and rows.size:
            z[rows] = _count_checked(name, z[rows], f["obs"][rows], f["den"][rows],
                                     f["count"][rows], f["unit"][rows],
                                     1.5 if name in ("spend", "roas") else 1.0, extra[rows])
    mag = np.abs(np.nan_to_num(z))
    big = np.abs(np.nan_to_num(f["resid"])) >= np.log1p(p.min_change)
    sev = np.where(big & (mag >= p.critical_z), 2, np.where(big & (mag >= p.warn_z), 1, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        value, baseline = f["obs"] / f["den"], f["exp"] / f["den"]
    best: dict[tuple[int, int, int], tuple[int, float, Job, tuple[float, float, float, float, int]]] = {}
    for n in np.flatnonzero((sev > 0) & ~np.isnan(z)).tolist():
        job, t, (i, w) = candidates.jobs[n], candidates.hours[n], layout.pairs[candidates.pairs[n]]
        key = (id(job), i, t)
        held = best.get(key)
        # windows in the policy's order: a later one wins on a higher severity or a larger |z|
        if held is None or sev[n] > held[0] or (sev[n] == held[0] and mag[n] > held[1]):
            best[key] = (int(sev[n]), float(mag[n]), job, (
                float(z[n]), float(value[n]), float(baseline[n]), float(f["change"][n]), w))
    for (_, i, t), (severity, _, job, figures) in best.items():
        job.found.append((i, t, severity, figures))
