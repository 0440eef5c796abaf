"""Plots of an infra case: criticality map and dependency graph (PNG and SVG, written atomically).

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
