"""Recovery plots in the kind of paper 004's figures (PNG and SVG, written atomically).

* ``fc_fan``: F_C over time, 10-90 % band, median and 10/90 % lines, the threshold (Fig. 5);
* ``supply_hist``: histograms of the supply rate at 0, 1, 2, 6 and 12 months (Fig. 6);
* ``supply_fan``: the supply rate over time, same band and lines (Fig. 11);
* ``compare_fc`` / ``compare_supply``: medians and bands of several variants (Figs. 10-11).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

MONTHS = {"0": 0, "1 month": 30, "2 months": 60, "6 months": 180, "12 months": 364}


def pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, out: Path, name: str) -> list[Path]:
    """Save ``fig`` as OUT/NAME.png and .svg (each via a temporary file and a rename), close it."""
    paths = []
    for ext in ("png", "svg"):
        p = out / f"{name}.{ext}"
        tmp = out / f".{name}.tmp.{ext}"
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.replace(tmp, p)
        paths.append(p)
    pyplot().close(fig)
    return paths


def _fan(ax, q: pd.DataFrame, color: str, label: str | None = None):
    """Band and lines of a percentile frame (index day, columns 0.1, 0.5, 0.9)."""
    days = q.index.to_numpy()
    ax.fill_between(days, q[0.1], q[0.9], color=color, alpha=0.2, lw=0)
    ax.plot(days, q[0.5], color=color if label else "black", lw=2, label=(label or "median"))
    ax.plot(
        days, q[0.1], color=color if label else "black", lw=1, ls="--", label=None if label else "10 / 90 %"
    )
    ax.plot(days, q[0.9], color=color if label else "black", lw=1, ls="--")


def recovery_plots(
    percentiles: dict[str, pd.DataFrame],
    sample: pd.DataFrame,
    supply_counts: dict[int, np.ndarray],
    n: int,
    threshold: float,
    out: str | Path,
) -> list[Path]:
    """Write the fan chart of F_C, the supply-rate histograms and the supply-rate fan.

    From a run's merged statistics, never its full table: ``percentiles`` per column (see
    ``_fan``), ``sample`` the day/scenario/fc rows of the first scenarios (light lines),
    ``supply_counts`` the counts of r in 10 bins on [0, 1] at each day, ``n`` scenarios.
    """
    plt = pyplot()
    out = Path(out)
    paths = []

    fig, ax = plt.subplots(figsize=(7, 4))
    pivot = sample.pivot(index="day", columns="scenario", values="fc")
    ax.plot(pivot.index, pivot, color="tab:red", alpha=0.03, lw=0.8, rasterized=True)
    _fan(ax, percentiles["fc"], "tab:red")
    ax.axhline(threshold, color="tab:blue", lw=1, ls=":", label=f"F_C = {threshold:g}")
    ax.set(
        xlabel="days after the earthquake",
        ylabel="community functionality F_C",
        title=f"Recovery trajectories ({n} scenarios)",
        ylim=(0, 1.02),
    )
    ax.legend(loc="lower right")
    paths += save_figure(fig, out, "fc_fan")

    fig, axes = plt.subplots(1, len(MONTHS), figsize=(13, 3), sharey=True)
    days = np.array(sorted(supply_counts))
    bins = np.linspace(0, 1, 11)
    for ax, (name, day) in zip(axes, MONTHS.items(), strict=True):
        d = int(days[days <= day].max()) if (days <= day).any() else int(days[0])
        c = supply_counts[d]
        ax.hist(bins[:-1], bins=bins, weights=c / max(c.sum(), 1), color="tab:green", edgecolor="white")
        ax.set(title=f"{name}" + ("" if d == day else f" (day {d})"), xlabel="supply rate r")
    axes[0].set_ylabel("share of scenarios")
    fig.suptitle("Resource supply rate", y=1.06)
    paths += save_figure(fig, out, "supply_hist")

    fig, ax = plt.subplots(figsize=(7, 4))
    _fan(ax, percentiles["supply_rate"], "tab:green")
    ax.set(
        xlabel="days after the earthquake",
        ylabel="supply rate r",
        ylim=(0, 1.02),
        title=f"Supply rate over time ({n} scenarios)",
    )
    ax.legend(loc="lower right")
    paths += save_figure(fig, out, "supply_fan")
    return paths


def compare_plots(
    variants: dict[str, dict[str, pd.DataFrame]], threshold: float, out: str | Path
) -> list[Path]:
    """Median and 10-90 % band of F_C and of r for each variant (its percentile frames)."""
    plt = pyplot()
    out = Path(out)
    colors = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange"]
    paths = []
    for col, name, ylabel in (
        ("fc", "compare_fc", "F_C"),
        ("supply_rate", "compare_supply", "supply rate r"),
    ):
        fig, ax = plt.subplots(figsize=(7, 4))
        for (label, sl), color in zip(variants.items(), colors * 3, strict=False):
            _fan(ax, sl[col], color, label=label)
        if col == "fc":
            ax.axhline(threshold, color="black", lw=1, ls=":")
        ax.set(xlabel="days after the earthquake", ylabel=ylabel, ylim=(0, 1.02))
        ax.legend(loc="lower right")
        paths += save_figure(fig, out, name)
    return paths
