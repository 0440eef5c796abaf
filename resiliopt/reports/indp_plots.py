"""Restoration plots (PNG and SVG, written atomically): served demand per layer and period,
fan charts over simulations, and the comparison with the published INDP results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt._plotting import pyplot, save_figure

COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]


def restoration_curves(served: pd.DataFrame, out: str | Path, title: str = "") -> list[Path]:
    """Served share of demand per layer vs period, for one plan (``Plan.served``)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for i, (layer, g) in enumerate(served.groupby("layer", sort=False)):
        g = g.sort_values("period")
        ax.step(g["period"], g["share"], where="post", marker="o", color=COLORS[i % 6], label=layer)
    ax.set_xlabel("period")
    ax.set_ylabel("served share of demand")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or "restoration curves")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, Path(out), "restoration_curves")


def fan_charts(carried: pd.DataFrame, out: str | Path) -> list[Path]:
    """Served share per layer vs iteration over simulations: median and 10-90 % band,
    one panel per (magnitude, v); ``carried`` from :func:`~resiliopt.infra.experiment.per_iteration`."""
    plt = pyplot()
    cols = [c for c in carried.columns if c.startswith("served_")]
    groups = list(carried.groupby(["magnitude", "v"], sort=True))
    n = max(1, len(groups))
    ncol = min(4, n)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 2.9 * nrow), squeeze=False, sharey=True)
    for ax, ((m, v), g) in zip(axes.flat, groups, strict=False):
        for i, col in enumerate(cols):
            q = g.groupby("iteration")[col].quantile([0.1, 0.5, 0.9]).unstack()
            it = q.index.to_numpy()
            ax.fill_between(it, q[0.1], q[0.9], color=COLORS[i % 6], alpha=0.2, lw=0)
            ax.plot(it, q[0.5], color=COLORS[i % 6], lw=2, label=col.removeprefix("served_"))
        ax.set_title(f"M{m:g}, v = {v:g} ({g['simulation'].nunique()} sims)", fontsize=9)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(groups) :]:
        ax.axis("off")
    axes[0, 0].set_ylabel("served share (median, 10-90 %)")
    axes[0, 0].legend(fontsize=8)
    return save_figure(fig, Path(out), "served_fan")


def comparison_plot(cmp: pd.DataFrame, out: str | Path) -> list[Path]:
    """Per quantity: our mean +- 3 standard errors (bars) beside the published mean (crosses),
    per iteration, one colour per v; one figure per magnitude."""
    plt = pyplot()
    paths = []
    quantities = list(dict.fromkeys(cmp["quantity"]))
    for m, gm in cmp.groupby("magnitude"):
        fig, axes = plt.subplots(3, 3, figsize=(13, 10), squeeze=False)
        for ax, q in zip(axes.flat, quantities, strict=False):
            g = gm[gm["quantity"] == q]
            for i, (v, gv) in enumerate(g.groupby("v")):
                c = COLORS[i % 6]
                x = gv["iteration"].to_numpy() + (i - 1.5) * 0.08
                ax.errorbar(
                    x, gv["mean"], yerr=3 * gv["se"], fmt="o", ms=3, color=c, capsize=2, label=f"ours v={v:g}"
                )
                ax.plot(x, gv["published_mean"], "x", color=c, ms=7, label=f"published v={v:g}")
            r = g["R"].iloc[0] if len(g) else ""
            ax.set_title(f"{r} {q.replace('_', ' ')}", fontsize=9)
            ax.set_xlabel("iteration")
            if g["mean"].abs().max() > 1e6:
                ax.set_yscale("symlog", linthresh=1e5)
            ax.grid(alpha=0.3)
        axes[0, 0].legend(fontsize=6, ncol=2)
        lo, hi = (int(gm["simulations"].min()), int(gm["simulations"].max())) if len(gm) else (0, 0)
        n = f"{lo}" if lo == hi else f"{lo}-{hi}"
        fig.suptitle(f"M{m:g}: ours ({n} simulations, mean +- 3 se) vs published (1000 simulations)")
        fig.tight_layout()
        paths += save_figure(fig, Path(out), f"published_M{m:g}")
    return paths


def residual_summary(cmp: pd.DataFrame) -> pd.DataFrame:
    """Count of cells and of cells beyond 3 standard errors, per magnitude, v and quantity."""
    g = cmp.groupby(["magnitude", "v", "quantity"], sort=False)
    s = g.agg(
        cells=("z", "size"),
        beyond_3se=("within_3se", lambda w: int((~w).sum())),
        max_abs_z=("z", lambda z: float(np.nanmax(np.abs(z))) if len(z) else np.nan),
    )
    return s.reset_index()
