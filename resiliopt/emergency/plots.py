"""Plots of the emergency loop: levels and indicators over time, served demand per layer,
and a Gantt chart of the dispatch plan (PNG and SVG, via resiliopt._plotting.save_figure)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from resiliopt._plotting import pyplot, save_figure


def levels_plot(periods: pd.DataFrame, level_names: list[str], out: Path, title: str, name: str = "levels"):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    ind = [c for c in ("unserved_share", "tier1_unserved_share") if c in periods]
    for c in ind:
        ax.plot(periods["period"], periods[c], marker=".", label=c)
    ax.set_xlabel("period")
    ax.set_ylabel("indicator (share)")
    ax2 = ax.twinx()
    ax2.step(periods["period"], periods["level_index"], where="post", color="k", lw=2, label="level")
    ax2.set_yticks(range(len(level_names)), level_names)
    ax2.set_ylim(-0.3, len(level_names) - 0.7)
    ax2.set_ylabel("emergency level")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper right")
    ax.set_title(title)
    return save_figure(fig, out, name)


def served_plot(periods: pd.DataFrame, out: Path, title: str, name: str = "served"):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    for c in [c for c in periods.columns if c.startswith("unserved_share.")]:
        ax.plot(periods["period"], 1.0 - periods[c], marker=".", label=c.split(".", 1)[1])
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("period")
    ax.set_ylabel("served share of demand")
    ax.legend(title="layer", loc="lower right")
    ax.set_title(title)
    return save_figure(fig, out, name)


def gantt_plot(dispatch: pd.DataFrame, out: Path, title: str, name: str = "gantt", most: int = 60):
    plt = pyplot()
    rep = dispatch[dispatch["action"] == "repair"].sort_values(["start", "layer", "element"]).head(most)
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.18 * len(rep) + 1)))

    def crew_order(c: str):  # crew-2 before crew-10
        tail = c.rsplit("-", 1)[-1].split("+")[0]
        return (int(tail) if tail.isdigit() else 1 << 30, c)

    crews = sorted(rep["crew"].unique(), key=crew_order)
    cmap = plt.get_cmap("tab10")
    for y, r in enumerate(rep.itertuples(index=False)):
        ax.barh(y, r.end - r.start, left=r.start, color=cmap(crews.index(r.crew) % 10), edgecolor="k", lw=0.3)
    ax.set_yticks(
        range(len(rep)), [f"{r.layer} {r.kind} {r.element}" for r in rep.itertuples(index=False)], fontsize=6
    )
    ax.invert_yaxis()
    ax.set_xlabel("period")
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i % 10)) for i in range(len(crews))]
    if crews:
        ax.legend(handles, crews, title="crew", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    ax.set_title(title + (f" (first {most} repairs)" if len(dispatch) > most else ""))
    return save_figure(fig, out, name)


def evaluation_plots(runs: pd.DataFrame, comparison: pd.DataFrame, out: Path, title: str) -> list:
    """``differences``: each policy's mean paired difference to the closed loop (unserved area,
    all layers) with its bootstrap interval; ``unserved``: the unserved area of every event per
    policy (box and points)."""
    plt = pyplot()
    cmp_all = comparison[(comparison["layer"] == "all") & (comparison["policy"] != "closed")]
    fig, ax = plt.subplots(figsize=(7, 0.5 * max(3, len(cmp_all)) + 1.2))
    y = list(range(len(cmp_all)))
    d = cmp_all["diff_vs_closed"].to_numpy(float)
    lo, hi = cmp_all["ci_low"].to_numpy(float), cmp_all["ci_high"].to_numpy(float)
    ax.errorbar(d, y, xerr=[d - lo, hi - d], fmt="o", color="k", capsize=4)
    ax.axvline(0.0, color="tab:blue", lw=1)
    ax.set_yticks(y, list(cmp_all["policy"]))
    ax.invert_yaxis()
    conf = float(comparison["confidence"].iloc[0]) if len(comparison) else 0.95
    ax.set_xlabel(f"unserved area minus the closed loop's (mean over events, {conf:.0%} bootstrap interval)")
    ax.set_title(title + "\n< 0: the policy leaves less unserved than the closed loop")
    files = [save_figure(fig, out, "differences")]
    al = runs[runs["layer"] == "all"]
    pols = list(dict.fromkeys(al["policy"]))
    fig, ax = plt.subplots(figsize=(7, 4))
    data = [al.loc[al["policy"] == p, "unserved_area"].to_numpy(float) for p in pols]
    ax.boxplot(data, showmeans=True)
    ax.set_xticks(range(1, len(pols) + 1), pols)
    for i, v in enumerate(data, start=1):
        ax.plot([i] * len(v), v, ".", color="tab:gray", alpha=0.5)
    ax.set_ylabel("unserved area (sum over periods of the unserved share)")
    ax.set_title(title)
    files.append(save_figure(fig, out, "unserved"))
    return files
