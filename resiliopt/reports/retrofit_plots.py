"""Plots of retrofit results: F_C against budget for greedy and the exact optimum (docs/retrofit.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from resiliopt._plotting import pyplot, save_figure


def plot_sweep(sweep: pd.DataFrame, directory: str | Path, stem: str = "sweep") -> list[Path]:
    """F_C right after the earthquake against budget (top) and what greedy leaves (bottom).

    ``sweep`` is :func:`resiliopt.retrofit.buildings.sweep`'s table; the grid columns are drawn
    when present. Writes ``<stem>.png`` and ``<stem>.svg`` into ``directory`` (the caller makes
    it atomic).
    """
    plt = pyplot()

    directory = Path(directory)
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]}, constrained_layout=True
    )
    b = sweep["budget"]
    ax.plot(b, sweep["fc_exact"], "o-", color="k", label="exact (global optimum, SCIP)", ms=4)
    ax.plot(b, sweep["fc_greedy"], ":", color="tab:blue", label="greedy (continuous fractions)")
    if "fc_grid" in sweep:
        ax.plot(b, sweep["fc_grid"], "s--", color="tab:orange", label="grid optimum (MILP)", ms=3)
    ax.set_ylabel("F_C right after the earthquake")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax2.bar(
        b,
        sweep["exact_minus_greedy"],
        width=0.6 * (b.diff().median() if len(b) > 1 else 1.0),
        color="tab:red",
    )
    ax2.set_ylabel("exact - greedy")
    ax2.set_xlabel("budget, billion CNY")
    ax2.grid(alpha=0.3)
    return save_figure(fig, directory, stem)


def plot_bridge_evaluation(per_plan: dict[str, pd.DataFrame], directory: str | Path, stem: str = "bridges"):
    """Distribution of the first slice's weighted delivery per plan, out of sample."""
    plt = pyplot()

    directory = Path(directory)
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    names = list(per_plan)
    ax.boxplot([per_plan[k]["resources"] for k in names], tick_labels=names)
    ax.set_ylabel("resources delivered on day 0, units")
    ax.grid(alpha=0.3)
    return save_figure(fig, directory, stem)
