"""Files of a retrofit study: its tables, plots and report, written together (docs/retrofit.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from resiliopt._atomic import atomic_directory
from resiliopt._json import dumps
from resiliopt._plotting import pyplot, save_figure
from resiliopt.reports.html import REPORT_NAME, render
from resiliopt.retrofit import RetrofitResult


def write_retrofit(
    result: RetrofitResult, out: str | Path, force: bool = False, report_params: dict | None = None
) -> Path:
    """Write a study of :func:`resiliopt.retrofit.run_retrofit` to ``out``: all files or none.

    Each table as ``<name>.csv``; a plan also as ``plan.json``; the sweep's and the bridges'
    plots; with ``report_params`` (shown in its parameters section) ``report.html`` too. ``out``
    must be new, empty or an earlier retrofit output (``force``: see :mod:`resiliopt._atomic`).
    """
    with atomic_directory(out, "retrofit", force) as tmp:
        for name, df in result.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)
        if result.kind == "plan":
            (tmp / "plan.json").write_text(dumps(result.plan.to_dict(), indent=1))
        elif result.kind == "sweep":
            plot_sweep(result.tables["sweep"], tmp)
        elif result.kind == "bridges":
            plot_bridge_evaluation(result.per_scenario, tmp)
        if report_params is not None:
            params = {k: str(v) for k, v in report_params.items()}
            (tmp / REPORT_NAME).write_text(render(tmp, params, shown_as=out), encoding="utf-8")
    return Path(out)


def plot_sweep(sweep: pd.DataFrame, directory: str | Path, stem: str = "sweep") -> list[Path]:
    """F_C right after the earthquake against budget (top) and what greedy leaves (bottom).

    ``sweep`` is :func:`resiliopt.retrofit.studies.sweep`'s table; the grid columns are drawn
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
