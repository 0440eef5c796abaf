"""Recovery plots in the kind of paper 004's figures (PNG and SVG, written atomically).

* ``fc_fan``: F_C over time, 10-90 % band, median and 10/90 % lines, the threshold (Fig. 5);
* ``supply_hist``: histograms of the supply rate at 0, 1, 2, 6 and 12 months (Fig. 6), for
  the weighted rate (19) and, when the run has it, the unit rate (delivered / demanded);
* ``supply_fan``: the supply rate over time, same band and lines (Fig. 11);
* ``compare_fc`` / ``compare_supply``: medians and bands of several variants (Figs. 10-11).

Every plot names its case and variant in the title and has a legend entry for the band.
In the comparison plots the medians are drawn over all bands, each variant with its own
line style, and earlier variants with wider lines, so that a curve lying on another still
shows (as a wider outline behind the narrower one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt._plotting import pyplot, save_figure

MONTHS = {"0": 0, "1 month": 30, "2 months": 60, "6 months": 180, "12 months": 364}
BAND = "10-90 % of scenarios"
#: Fig. 6's bins: "near 0.1" is a rate below 0.2, "near 1" a rate of 0.8 or more
LOW, HIGH = 0.2, 0.8


def shares_from_counts(counts: np.ndarray) -> dict[str, float]:
    """Shares near 0.1 (< 0.2) and near 1 (>= 0.8) from counts in 10 equal bins on [0, 1]."""
    n = max(int(counts.sum()), 1)
    return {"near_0.1": float(counts[:2].sum() / n), "near_1": float(counts[8:].sum() / n)}


def _fan(ax, q: pd.DataFrame, color: str, label: str | None = None):
    """Band 10-90 %, median and the 10 / 90 % lines of a percentile frame (index day,
    columns 0.1, 0.5, 0.9); one legend entry each."""
    days = q.index.to_numpy()
    ax.fill_between(days, q[0.1], q[0.9], color=color, alpha=0.2, lw=0, label=BAND)
    ax.plot(days, q[0.5], color="black", lw=2, label=label or "median")
    ax.plot(days, q[0.1], color="black", lw=1, ls="--", label="10 / 90 %")
    ax.plot(days, q[0.9], color="black", lw=1, ls="--")


def _title(what: str, n: int, name: str | None) -> str:
    return f"{what}: {name} ({n} scenarios)" if name else f"{what} ({n} scenarios)"


def recovery_plots(
    percentiles: dict[str, pd.DataFrame],
    sample: pd.DataFrame,
    supply_counts: dict[int, np.ndarray],
    n: int,
    threshold: float,
    out: str | Path,
    name: str | None = None,
    units_counts: dict[int, np.ndarray] | None = None,
) -> list[Path]:
    """Write the fan chart of F_C, the supply-rate histograms and the supply-rate fan.

    From a run's merged statistics, never its full table: ``percentiles`` per column (see
    ``_fan``), ``sample`` the day/scenario/fc rows of the first scenarios (light lines),
    ``supply_counts`` the counts of r in 10 bins on [0, 1] at each day (``units_counts`` the
    same for the unit rate), ``n`` scenarios; ``name`` (``"beijing, variant none"``) goes
    into every title.
    """
    plt = pyplot()
    out = Path(out)
    paths = []

    fig, ax = plt.subplots(figsize=(7, 4))
    pivot = sample.pivot(index="day", columns="scenario", values="fc")
    ax.plot(pivot.index, pivot, color="tab:red", alpha=0.03, lw=0.8, rasterized=True)
    ax.plot([], [], color="tab:red", alpha=0.3, lw=0.8, label=f"scenarios ({pivot.shape[1]} drawn)")
    _fan(ax, percentiles["fc"], "tab:red")
    ax.axhline(threshold, color="tab:blue", lw=1, ls=":", label=f"F_C = {threshold:g}")
    ax.set(
        xlabel="days after the earthquake",
        ylabel="community functionality F_C",
        title=_title("Recovery trajectories", n, name),
        ylim=(0, 1.02),
    )
    ax.legend(loc="lower right")
    paths += save_figure(fig, out, "fc_fan")

    rates = [(supply_counts, "r, weighted (19)", "tab:green")]
    if units_counts:
        rates.append((units_counts, "r, delivered / demanded units", "tab:purple"))
    fig, grid = plt.subplots(
        len(rates), len(MONTHS), figsize=(14, 3.2 * len(rates)), sharey=True, squeeze=False
    )
    bins = np.linspace(0, 1, 11)
    for row, (counts, what, color) in zip(grid, rates, strict=True):
        days = np.array(sorted(counts))
        for ax, (month, day) in zip(row, MONTHS.items(), strict=True):
            d = int(days[days <= day].max()) if (days <= day).any() else int(days[0])
            c = counts[d]
            ax.hist(bins[:-1], bins=bins, weights=c / max(c.sum(), 1), color=color, edgecolor="white")
            ax.set(title=f"{month}" + ("" if d == day else f" (day {d})"), xlabel=what)
        row[0].set_ylabel("share of scenarios")
    fig.suptitle(_title("Resource supply rate, share of scenarios", n, name), y=1.02)
    fig.tight_layout()
    paths += save_figure(fig, out, "supply_hist")

    fig, ax = plt.subplots(figsize=(7, 4))
    _fan(ax, percentiles["supply_rate"], "tab:green", label="median, weighted (19)")
    if "supply_rate_units" in percentiles:
        q = percentiles["supply_rate_units"]
        ax.plot(
            q.index, q[0.5], color="tab:purple", lw=1.5, ls="-.", label="median, delivered / demanded units"
        )
    ax.set(
        xlabel="days after the earthquake",
        ylabel="supply rate r",
        ylim=(0, 1.02),
        title=_title("Supply rate over time", n, name),
    )
    ax.legend(loc="lower right")
    paths += save_figure(fig, out, "supply_fan")
    return paths


def compare_plots(
    variants: dict[str, dict[str, pd.DataFrame]],
    threshold: float,
    out: str | Path,
    name: str | None = None,
    n: int | None = None,
) -> list[Path]:
    """Median and 10-90 % band of F_C and of r for each variant (its percentile frames).

    Bands first (light, with a hatch each), then every median on top with its own colour,
    line style and width, so that no curve hides another.
    """
    plt = pyplot()
    out = Path(out)
    colors = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange"]
    styles = ["-", "--", "-.", ":", (0, (5, 1, 1, 1))]
    hatches = ["", "//", "\\\\", "..", "xx"]
    k = len(variants)
    paths = []
    for col, stem, ylabel in (
        ("fc", "compare_fc", "F_C"),
        ("supply_rate", "compare_supply", "supply rate r (19)"),
    ):
        fig, ax = plt.subplots(figsize=(7, 4))
        qs = {label: frames[col] for label, frames in variants.items()}
        for i, (label, q) in enumerate(qs.items()):
            c = colors[i % len(colors)]
            ax.fill_between(
                q.index, q[0.1], q[0.9], facecolor=c, alpha=0.12, edgecolor=c, lw=0.5,
                hatch=hatches[i % len(hatches)], label=f"{label}: {BAND}",
            )  # fmt: skip
        for i, (label, q) in enumerate(qs.items()):
            ax.plot(
                q.index, q[0.5], color=colors[i % len(colors)], ls=styles[i % len(styles)],
                lw=1.2 + 1.1 * (k - 1 - i), zorder=3 + i, label=f"{label}: median",
            )  # fmt: skip
        if col == "fc":
            ax.axhline(threshold, color="black", lw=1, ls=":", label=f"F_C = {threshold:g}")
        each = f" ({n} scenarios each, same seed)" if n else " (same seed)"
        ax.set(
            xlabel="days after the earthquake",
            ylabel=ylabel,
            ylim=(0, 1.02),
            title="Variants compared" + (f": {name}" if name else "") + each,
        )
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small", ncol=2, frameon=False)
        paths += save_figure(fig, out, stem)
    return paths
