"""A synthetic grid city in OSMnx's GraphML conventions (for the examples and benchmarks).

Nodes on a jittered ``side x side`` grid (``x`` / ``y`` in km); streets between grid
neighbours, one directed edge per driving direction (a ``MultiDiGraph``, as OSMnx saves),
with ``highway``, ``lanes`` (as strings, like OSMnx; every 10th street is an arterial with
2-3 lanes) and ``length``; ``bridge_share`` of the streets are flagged ``bridge="yes"``.
Deterministic for a given seed.
"""

from __future__ import annotations

import networkx as nx
import numpy as np


def grid_city(n_nodes: int, seed: int = 0, bridge_share: float = 0.01) -> nx.MultiDiGraph:
    side = max(2, int(round(np.sqrt(n_nodes))))
    rng = np.random.default_rng(seed)
    g = nx.MultiDiGraph(crs="local km")
    jitter = rng.uniform(-0.15, 0.15, size=(side, side, 2))
    for i in range(side):
        for j in range(side):
            g.add_node(
                f"n{i}_{j}", x=round(0.5 * j + jitter[i, j, 0], 4), y=round(0.5 * i + jitter[i, j, 1], 4)
            )
    for i in range(side):
        for j in range(side):
            for di, dj in ((0, 1), (1, 0)):
                a, b = i + di, j + dj
                if a >= side or b >= side:
                    continue
                arterial = (i % 10 == 0 and di == 0) or (j % 10 == 0 and dj == 0)
                lanes = str(int(rng.integers(2, 4))) if arterial else "1"
                attrs = {"highway": "primary" if arterial else "residential", "lanes": lanes, "length": 500.0}
                if rng.random() < bridge_share:
                    attrs["bridge"] = "yes"
                u, v = f"n{i}_{j}", f"n{a}_{b}"
                g.add_edge(u, v, **attrs)
                g.add_edge(v, u, **attrs)
    return g
