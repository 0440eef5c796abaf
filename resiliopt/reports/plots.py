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


def _fan(ax, slices: pd.DataFrame, col: str, color: str, label: str | None = None):
    q = slices.groupby("day")[col].quantile([0.1, 0.5, 0.9]).unstack()
    days = q.index.to_numpy()
    ax.fill_between(days, q[0.1], q[0.9], color=color, alpha=0.2, lw=0)
    ax.plot(days, q[0.5], color=color if label else "black", lw=2, label=(label or "median"))
    ax.plot(
        days, q[0.1], color=color if label else "black", lw=1, ls="--", label=None if label else "10 / 90 %"
    )
    ax.plot(days, q[0.9], color=color if label else "black", lw=1, ls="--")


def recovery_plots(slices: pd.DataFrame, threshold: float, out: str | Path) -> list[Path]:
    """Write the fan chart of F_C, the supply-rate histograms and the supply-rate fan."""
    plt = pyplot()
    out = Path(out)
    n = slices["scenario"].nunique()
    paths = []

    fig, ax = plt.subplots(figsize=(7, 4))
    # light trajectories: a sample of at most 200 scenarios, drawn by index for reproducibility
    pivot = slices.pivot(index="day", columns="scenario", values="fc")
    ax.plot(pivot.index, pivot.iloc[:, :200], color="tab:red", alpha=0.03, lw=0.8)
    _fan(ax, slices, "fc", "tab:red")
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
    last = int(slices["day"].max())
    bins = np.linspace(0, 1, 11)
    for ax, (name, day) in zip(axes, MONTHS.items(), strict=True):
        d = min(day, last)
        r = slices.loc[slices["day"] == d, "supply_rate"]
        w = np.full(len(r), 1.0 / max(len(r), 1))
        ax.hist(r.clip(0, 1), bins=bins, weights=w, color="tab:green", edgecolor="white")
        ax.set(title=f"{name}" + ("" if d == day else f" (day {d})"), xlabel="supply rate r")
    axes[0].set_ylabel("share of scenarios")
    fig.suptitle("Resource supply rate", y=1.06)
    paths += save_figure(fig, out, "supply_hist")

    fig, ax = plt.subplots(figsize=(7, 4))
    _fan(ax, slices, "supply_rate", "tab:green")
    ax.set(
        xlabel="days after the earthquake",
        ylabel="supply rate r",
        ylim=(0, 1.02),
        title=f"Supply rate over time ({n} scenarios)",
    )
    ax.legend(loc="lower right")
    paths += save_figure(fig, out, "supply_fan")
    return paths


def compare_plots(variants: dict[str, pd.DataFrame], threshold: float, out: str | Path) -> list[Path]:
    """Median and 10-90 % band of F_C and of r for each variant, on shared axes."""
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
            _fan(ax, sl, col, color, label=label)
        if col == "fc":
            ax.axhline(threshold, color="black", lw=1, ls=":")
        ax.set(xlabel="days after the earthquake", ylabel=ylabel, ylim=(0, 1.02))
        ax.legend(loc="lower right")
        paths += save_figure(fig, out, name)
    return paths
