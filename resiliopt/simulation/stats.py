r"""Mergeable statistics of a Monte Carlo run: computed per chunk, merged, never all slices at once.

Per slice (day) and per column ``fc`` and ``supply_rate``: a histogram of ``BINS`` equal bins
on [0, 1] (values outside go to the end bins) holding, for every bin, the count and the
exact smallest and largest value. Merging two chunks adds counts and takes the min/max, so
the merged sketch does not depend on the order or the grouping of chunks.

A percentile is read as pandas reads it (linear interpolation between the order statistics
:math:`x_{\lfloor h \rfloor}` and :math:`x_{\lceil h \rceil}`, :math:`h = (n-1) q`). An order
statistic that is the first or the last value of its bin is that bin's min or max, exact; one
inside a bin is reported as the middle of the bin's [min, max], off by at most half that
range (at most half a bin, 1 / (2 BINS) = 0.0005). Every percentile comes with this bound and
``summary.json`` states the largest (``percentile_error_bound``; 0 means all exact).

Per scenario: ``days_to_threshold`` and ``days_to_full`` take day values only, so their
distributions are kept as exact value counts (at most one entry per slice) and their
percentiles are exact.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

BINS = 1000
METRICS = ("fc", "supply_rate", "supply_rate_units")
#: per-scenario columns of which the run keeps the sum (for their mean)
SUMS = ("unreachable_share_day0",)


def chunk_stats(slices: pd.DataFrame, scenarios: pd.DataFrame, slice_days: int) -> dict:
    """The sketch of one chunk (small: at most one entry per slice row)."""
    day_idx = (slices["day"].to_numpy() // slice_days).astype(np.int64)
    out = {"n": len(scenarios)}
    for m in METRICS:
        v = slices[m].to_numpy(dtype=float)
        b = np.clip(np.floor(v * BINS), 0, BINS - 1).astype(np.int64)
        key = day_idx * BINS + b
        order = np.lexsort((v, key))
        key, v = key[order], v[order]
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        last = np.r_[first[1:] - 1, len(key) - 1]
        out[m] = (key[first], last - first + 1, v[first], v[last])
    for col in SUMS:
        out[col] = float(scenarios[col].sum()) if col in scenarios else 0.0
    for col in ("days_to_threshold", "days_to_full"):
        s = scenarios[col].to_numpy(dtype=float)
        vals, counts = np.unique(s[~np.isnan(s)], return_counts=True)
        out[col] = (vals, counts, int(np.isnan(s).sum()))
    return out


class RunStats:
    """The merged sketch of a run with ``n_slices`` slices per scenario."""

    def __init__(self, n_slices: int):
        self.n_slices = n_slices
        self.n = 0
        size = n_slices * BINS
        self.count = {m: np.zeros(size, dtype=np.int64) for m in METRICS}
        self.vmin = {m: np.full(size, np.inf) for m in METRICS}
        self.vmax = {m: np.full(size, -np.inf) for m in METRICS}
        self.values = {c: Counter() for c in ("days_to_threshold", "days_to_full")}
        self.missing = {c: 0 for c in ("days_to_threshold", "days_to_full")}
        #: each chunk's sum, summed exactly by :func:`math.fsum` when read: the mean does not
        #: depend on the order in which workers finish their chunks (any worker count)
        self._sums: dict[str, list[float]] = {c: [] for c in SUMS}

    def add(self, part: dict) -> None:
        self.n += part["n"]
        for m in METRICS:
            key, cnt, lo, hi = part[m]
            self.count[m][key] += cnt
            self.vmin[m][key] = np.minimum(self.vmin[m][key], lo)
            self.vmax[m][key] = np.maximum(self.vmax[m][key], hi)
        for c in SUMS:
            self._sums[c].append(part.get(c, 0.0))
        for c in self.values:
            vals, counts, nan = part[c]
            self.values[c].update(dict(zip(vals.tolist(), counts.tolist(), strict=True)))
            self.missing[c] += nan

    # ----------------------------------------------------------------- reading
    def _order_stat(self, m: str, r: int) -> tuple[np.ndarray, np.ndarray]:
        """The r-th smallest value (0-based) of every slice, and its error bound."""
        cnt = self.count[m].reshape(self.n_slices, BINS)
        cum = np.cumsum(cnt, axis=1)
        b = (cum <= r).sum(axis=1)
        rows = np.arange(self.n_slices)
        lo = self.vmin[m].reshape(self.n_slices, BINS)[rows, b]
        hi = self.vmax[m].reshape(self.n_slices, BINS)[rows, b]
        before = cum[rows, b] - cnt[rows, b]
        first, last = r == before, r == cum[rows, b] - 1
        val = np.where(first, lo, np.where(last, hi, 0.5 * (lo + hi)))
        err = np.where(first | last, 0.0, 0.5 * (hi - lo))
        return val, err

    def percentile(self, m: str, q: float) -> tuple[np.ndarray, np.ndarray]:
        """Percentile ``q`` of column ``m`` at every slice (pandas' linear rule), with bounds."""
        h = (self.n - 1) * q
        lo, hi = int(np.floor(h)), int(np.ceil(h))
        a, ea = self._order_stat(m, lo)
        if hi == lo:
            return a, ea
        b, eb = self._order_stat(m, hi)
        return a + (b - a) * (h - lo), np.maximum(ea, eb)

    def histogram(self, m: str, slice_index: int, edges_bins: int = 10) -> np.ndarray:
        """Counts of column ``m`` at one slice in ``edges_bins`` equal bins on [0, 1]."""
        cnt = self.count[m].reshape(self.n_slices, BINS)[slice_index]
        return cnt.reshape(edges_bins, BINS // edges_bins).sum(axis=1)

    def value_quantile(self, col: str, q: float) -> float | None:
        """Exact percentile ``q`` of the non-missing values of a per-scenario column."""
        c = self.values[col]
        if not c:
            return None
        vals = np.array(sorted(c))
        cum = np.cumsum([c[v] for v in vals])
        h = (cum[-1] - 1) * q
        lo, hi = int(np.floor(h)), int(np.ceil(h))
        a, b = vals[np.searchsorted(cum, lo, side="right")], vals[np.searchsorted(cum, hi, side="right")]
        return float(a + (b - a) * (h - lo))

    def value_histogram(self, col: str, edges: list[float]) -> np.ndarray:
        c = self.values[col]
        vals = np.array(sorted(c), dtype=float)
        return np.histogram(vals, bins=edges, weights=[c[v] for v in vals])[0].astype(np.int64)

    @property
    def sums(self) -> dict[str, float]:
        """The sum of each column of :data:`SUMS` over the scenarios, rounded once (exactly)."""
        return {c: math.fsum(v) for c, v in self._sums.items()}

    def mean(self, col: str) -> float | None:
        """Mean over the scenarios of a column of :data:`SUMS`."""
        return math.fsum(self._sums[col]) / self.n if self.n else None

    def reached(self, col: str) -> int:
        return int(sum(self.values[col].values()))
