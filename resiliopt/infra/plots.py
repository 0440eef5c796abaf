"""Plots of an infra case (PNG and SVG, written atomically): criticality map and dependency
graph; and of restoration: served demand per layer and period of a plan, fan charts over the
simulations of the INDP Monte Carlo, and its comparison with the published results.

Nodes are drawn at their coordinates (x, y: lon/lat in shelby-extended). A case without
coordinates (shelby-indp) is drawn with a seeded spring layout of the networks and their
dependencies, which the title says.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from resiliopt._plotting import pyplot, save_figure
from resiliopt.case.infra import InfraCase

LAYER_COLORS = ["tab:blue", "tab:orange", "tab:red", "tab:green", "tab:purple", "tab:brown"]


def node_positions(case: InfraCase) -> tuple[dict[tuple, tuple[float, float]], bool]:
    """(layer, node) -> (x, y), and whether these are the case's own coordinates."""
    nd = case.nodes
    if nd["x"].notna().all() and nd["y"].notna().all():
        return {(r.layer, r.node): (float(r.x), float(r.y)) for r in nd.itertuples(index=False)}, True
    g = nx.Graph()
    g.add_nodes_from(zip(nd["layer"], nd["node"], strict=True))
    lk = case.links
    g.add_edges_from(
        zip(zip(lk["layer"], lk["from"], strict=True), zip(lk["layer"], lk["to"], strict=True), strict=True)
    )
    dep = case.dependencies
    g.add_edges_from(
        zip(
            zip(dep["dependee_layer"], dep["dependee"], strict=True),
            zip(dep["depender_layer"], dep["depender"], strict=True),
            strict=True,
        )
    )
    pos = nx.spring_layout(g, seed=0)
    return {k: (float(v[0]), float(v[1])) for k, v in pos.items()}, False


def _layer_color(case: InfraCase) -> dict[str, str]:
    return {lay: LAYER_COLORS[k % len(LAYER_COLORS)] for k, lay in enumerate(case.layers["layer"])}


def criticality_map(case: InfraCase, ranking: pd.DataFrame, out: str | Path, name: str = "criticality_map"):
    """Links as lines and nodes as dots, colored by N-1 loss (one panel per layer)."""
    plt = pyplot()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pos, own = node_positions(case)
    layers = list(case.layers["layer"])
    loss = ranking.set_index(["kind", "layer", "element"])["loss"]
    vmax = max(float(loss.max()) if len(loss) else 0.0, 1e-12)
    cmap = plt.get_cmap("viridis_r")
    ncol = min(2, len(layers))
    nrow = int(np.ceil(len(layers) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(6.5 * ncol, 5.2 * nrow), squeeze=False)
    for ax, layer in zip(axes.flat, layers, strict=False):
        lk = case.links[case.links["layer"] == layer]
        for lid, f, to in zip(lk["link"], lk["from"], lk["to"], strict=True):
            a, b = pos[(layer, f)], pos[(layer, to)]
            v = float(loss.get(("link", layer, lid), 0.0))
            ax.plot([a[0], b[0]], [a[1], b[1]], color=cmap(v / vmax), lw=1 + 3 * v / vmax, zorder=1)
        nd = case.nodes[case.nodes["layer"] == layer]
        xy = np.array([pos[(layer, n)] for n in nd["node"]])
        v = np.array([float(loss.get(("node", layer, n), 0.0)) for n in nd["node"]])
        marker = np.where(nd["demand"] > 0, "s", np.where(nd["demand"] < 0, "o", "^"))
        for mk in ("s", "o", "^"):
            sel = marker == mk
            if sel.any():
                ax.scatter(
                    xy[sel, 0],
                    xy[sel, 1],
                    c=v[sel],
                    cmap=cmap,
                    vmin=0,
                    vmax=vmax,
                    s=25 + 120 * v[sel] / vmax,
                    marker=mk,
                    edgecolors="k",
                    linewidths=0.4,
                    zorder=2,
                )
        top = ranking[(ranking["layer"] == layer)].head(3)
        for r in top.itertuples(index=False):
            if r.loss > 0 and r.kind == "node":
                p = pos[(layer, r.element)]
                ax.annotate(
                    f"{r.element} ({r.loss:.2f})", p, fontsize=7, xytext=(3, 3), textcoords="offset points"
                )
        ax.set_title(f"{layer}: served demand lost when one element fails")
        ax.set_aspect("equal" if own else "auto")
    for ax in list(axes.flat)[len(layers) :]:
        ax.axis("off")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, vmax))
    fig.colorbar(sm, ax=axes, shrink=0.6, label="N-1 loss (layer-equivalents of served demand)")
    fig.suptitle(
        f"{case.name}: N-1 criticality (square supply, circle demand, triangle transshipment)"
        + ("" if own else "; no coordinates in the data: spring layout"),
        fontsize=10,
    )
    return save_figure(fig, out, name)


def dependency_graph(case: InfraCase, out: str | Path, name: str = "dependency_graph"):
    """All layers on one plot: networks in their layer color, dependencies as arrows by type."""
    plt = pyplot()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pos, own = node_positions(case)
    colors = _layer_color(case)
    fig, ax = plt.subplots(figsize=(9, 8))
    lk = case.links
    for layer, f, to in zip(lk["layer"], lk["from"], lk["to"], strict=True):
        a, b = pos[(layer, f)], pos[(layer, to)]
        ax.plot([a[0], b[0]], [a[1], b[1]], color=colors[layer], lw=0.8, alpha=0.6, zorder=1)
    for layer, color in colors.items():
        nd = case.nodes[case.nodes["layer"] == layer]
        xy = np.array([pos[(layer, n)] for n in nd["node"]]).reshape(-1, 2)
        ax.scatter(xy[:, 0], xy[:, 1], s=14, color=color, label=layer, zorder=2)
    styles = {"physical": "-", "cyber": "--", "geographic": ":", "logical": "-."}
    seen = set()
    for r in case.dependencies.itertuples(index=False):
        a, b = pos[(r.dependee_layer, r.dependee)], pos[(r.depender_layer, r.depender)]
        lab = None if r.type in seen else f"dependency: {r.type}"
        seen.add(r.type)
        ax.annotate(
            "",
            xy=b,
            xytext=a,
            arrowprops={
                "arrowstyle": "->",
                "lw": 0.8,
                "color": "k",
                "linestyle": styles[r.type],
                "alpha": 0.7,
            },
        )
        ax.plot([], [], color="k", linestyle=styles[r.type], label=lab)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(
        f"{case.name}: {len(case.links)} links, {len(case.dependencies)} dependencies "
        "(arrow: dependee -> depender)" + ("" if own else "; spring layout"),
        fontsize=10,
    )
    if own:
        ax.set_aspect("equal")
    return save_figure(fig, out, name)


# --------------------------------------------------------------------------- restoration (INDP)
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
