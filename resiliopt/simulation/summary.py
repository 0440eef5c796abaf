"""What a Monte Carlo reports from its merged sketch: ``summary.json``, percentile frames and
histograms for the plots (docs/simulate.md, "Results stream")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt._provenance import versions
from resiliopt.simulation.plots import shares_from_counts
from resiliopt.simulation.runfiles import CHUNK, part_names
from resiliopt.simulation.stats import METRICS, RunStats

SAMPLE_TRAJECTORIES = 200


def sample(out: Path, scenarios: int) -> pd.DataFrame:
    """Day and F_C of the first scenarios (at most SAMPLE_TRAJECTORIES), for the light lines."""
    files = [part_names(out, s)[0] for s in range(0, min(scenarios, SAMPLE_TRAJECTORIES), CHUNK)]
    df = pd.concat([pd.read_parquet(f, columns=["scenario", "day", "fc"]) for f in files], ignore_index=True)
    return df[df["scenario"] < SAMPLE_TRAJECTORIES]


def percentile_frames(stats: RunStats, slice_days: int) -> dict[str, pd.DataFrame]:
    """Percentiles 10/50/90 of F_C and r per day (index ``day``, columns 0.1, 0.5, 0.9)."""
    idx = pd.Index(np.arange(stats.n_slices) * slice_days, name="day")
    return {
        m: pd.DataFrame({q: stats.percentile(m, q)[0] for q in (0.1, 0.5, 0.9)}, index=idx) for m in METRICS
    }


def histograms(stats: RunStats, cm, col: str = "supply_rate") -> dict[int, np.ndarray]:
    """Supply-rate counts in 10 bins on [0, 1] at every slice (for the histogram plot)."""
    return {int(k * cm.slice_days): stats.histogram(col, k) for k in range(stats.n_slices)}


def supply_shares(stats: RunStats, slice_days: int, days=(0, 30, 60)) -> dict:
    """Shares of scenarios with a supply rate near 0.1 (< 0.2) and near 1 (>= 0.8) (Fig. 6),
    for both rates, at the given days (the last slice if the run is shorter)."""
    out = {}
    for col in ("supply_rate", "supply_rate_units"):
        out[col] = {
            str(d): shares_from_counts(stats.histogram(col, min(d // slice_days, stats.n_slices - 1)))
            for d in days
        }
    return out


def summarize(stats: RunStats, cm, params: dict) -> dict:
    """Percentiles of F_C and r per slice, time to the threshold, run parameters, versions."""
    days = (np.arange(stats.n_slices) * cm.slice_days).tolist()
    pct, bound = {}, 0.0
    for col in ("fc", "supply_rate", "supply_rate_units"):
        pct[col] = {"day": days}
        for q, name in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
            v, err = stats.percentile(col, q)
            pct[col][name] = np.round(v, 6).tolist()
            bound = max(bound, float(err.max()))
    fc0, fc0_err = stats.percentile("fc", 0.5)
    reached = stats.reached("days_to_threshold")
    hist = {}
    if reached:
        edges = [0, 1, 15, 31, 61, 91, 181, 271, 366, np.inf]
        counts = stats.value_histogram("days_to_threshold", edges)
        hist = {f"[{a:g}, {b:g})": int(c) for a, b, c in zip(edges, edges[1:], counts, strict=False)}
    return {
        "parameters": params,
        "threshold": cm.case.community.threshold,
        "versions": versions(),
        "percentiles": pct,
        "percentile_error_bound": bound,
        "time_to_threshold": {
            "reached_share": float(reached / stats.n),
            "p10": stats.value_quantile("days_to_threshold", 0.1),
            "p50": stats.value_quantile("days_to_threshold", 0.5),
            "p90": stats.value_quantile("days_to_threshold", 0.9),
            "histogram_days": hist,
        },
        "days_to_full_recovery_p50": stats.value_quantile("days_to_full", 0.5),
        "fc0_p50": float(fc0[0]),
        "fc0_p50_error_bound": float(fc0_err[0]),
        "supply_rate_shares": supply_shares(stats, cm.slice_days),
        "unreachable_share_day0_mean": stats.mean("unreachable_share_day0"),
    }
