"""An independent check of a slice's optimum with networkx's network simplex.

The slice LP is a min-cost flow: the source supplies TR, the sink demands TR, a bypass arc
RR -> RS of cost 0 carries what is not used, a delivery to group j is an arc v(j) -> RS of
capacity d_j and cost -g_j. networkx's network simplex is exact only for integer costs
(its documentation warns that floats may give wrong answers), so gains are scaled so that the
largest becomes ``cost_digits`` = 1e12 and rounded, and capacities and TR are scaled by
``flow_scale`` = 1e6 and rounded (Python integers: no overflow). The optimum then matches the
LP's to about 1e-6 relative error or better.

:func:`networkx_tolerance` bounds what the rounding can move the optimum by: each capacity,
demand and TR moves by at most ``0.5 / flow_scale`` units, and one unit more or less of any
of them changes the optimum by at most ``max(g) - min(g, 0)`` (one unit rerouted); each gain
moves by at most ``0.5 * max|g| / cost_digits`` per unit delivered (at most TR units). The
result reports the two objectives as agreeing when they differ by at most
``1e-6 * |objective|`` plus that bound.
"""

from __future__ import annotations

from resiliopt.formulations.slice_lp import SliceData

RTOL = 1e-6


def networkx_tolerance(data: SliceData, cost_digits: float = 1e12, flow_scale: float = 1e6) -> float:
    """How far the integer-scaled networkx optimum may lie from the LP's (absolute, F_C)."""
    g = data.groups["gain"].to_numpy(dtype=float)
    top = float(abs(g).max()) if len(g) else 0.0
    spread = (float(g.max()) - min(float(g.min()), 0.0)) if len(g) else 0.0
    n = len(data.arcs) + 2 * len(data.groups) + 1
    return n * spread * 0.5 / flow_scale + data.total_resources * 0.5 * top / cost_digits


def networkx_allowed(data: SliceData, objective: float) -> float:
    """The largest difference between the two objectives still called agreement."""
    return RTOL * abs(objective) + networkx_tolerance(data)


def networkx_agrees(data: SliceData, objective: float, nx_objective: float) -> bool:
    """Whether the LP's objective and networkx's agree within :func:`networkx_allowed`."""
    return abs(objective - nx_objective) <= networkx_allowed(data, objective)


def networkx_objective(data: SliceData, cost_digits: float = 1e12, flow_scale: float = 1e6) -> float:
    """The slice optimum computed by networkx (costs and flows integer-scaled)."""
    top = float(data.groups["gain"].abs().max()) if len(data.groups) else 0.0
    cost_scale = cost_digits / top if top > 0 else 1.0
    import networkx as nx  # imported here: a city-size slice skips it

    g = nx.DiGraph()
    tr = int(round(data.total_resources * flow_scale))
    g.add_node(data.source, demand=-tr)
    g.add_node(data.sink, demand=tr)
    g.add_edge(data.source, data.sink, capacity=tr, weight=0)  # resources left unused
    for u, v, cap in zip(data.arcs["from"], data.arcs["to"], data.arcs["capacity"], strict=True):
        g.add_edge(u, v, capacity=int(round(cap * flow_scale)), weight=0)
    for j, v, cap, gain in zip(
        data.groups["group"], data.groups["node"], data.groups["capacity"], data.groups["gain"], strict=True
    ):
        # a group is its own node so parallel arcs to the sink stay distinct
        node = ("group", j)
        g.add_edge(v, node, capacity=int(round(cap * flow_scale)), weight=-int(round(gain * cost_scale)))
        g.add_edge(node, data.sink, capacity=int(round(cap * flow_scale)), weight=0)
    if data.source == data.sink:
        raise ValueError("source and sink must differ")
    cost, _ = nx.network_simplex(g)
    return -cost / (cost_scale * flow_scale)
