r"""An independent check of a slice's optimum with networkx's network simplex.

The slice LP is a min-cost flow: the source supplies TR, the sink demands TR, a bypass arc
RR -> RS of cost 0 carries what is not used, a delivery to group j is an arc v(j) -> RS of
capacity d_j and cost -g_j. networkx's network simplex is exact only for integer costs
(its documentation warns that floats may give wrong answers), so gains are scaled so that the
largest becomes ``cost_digits`` = 1e12 and rounded, and capacities, demands and TR are scaled
by a flow scale :math:`s` and rounded (Python integers: no overflow).

**The flow scale follows the data** (docs/solvers.md, "Tiny numbers"). Each capacity, demand
and TR moves by at most :math:`0.5/s` units when rounded, and one unit more or less of any of
them changes the optimum by at most :math:`\Delta g = \max g - \min(g, 0)` (one unit
rerouted); with :math:`n` = arcs + 2 groups + 1 numbers rounded, the flow part of the
rounding moves the optimum by at most :math:`n\,\Delta g\,0.5/s`. The scale is

.. math:: s = \max\left(10^6,\; 10^{\lceil \log_{10} s^* \rceil}\right),\qquad
          s^* = \frac{n\,\Delta g\,0.5}{\varepsilon\,A},\qquad
          A = \min\Big(\sum_j g_j^+ d_j,\; \max_j g_j^+ \min(TR, \textstyle\sum_j d_j)\Big),

:math:`\varepsilon` = :data:`ROUNDING_SHARE` = 1e-4: that part of the bound is then at most
1e-4 of :math:`A`, the most the slice can gain, whatever the unit of the data. A power of
ten keeps data with few decimals exact; :math:`s = 10^6` (the fixed scale of earlier
versions) whenever that is fine enough, so those slices (the bundled case's among them) give
the same networkx objective as before. The scale is capped at 1e200 and so that
:math:`s \sum_j d_j \le 10^{30}` (a slice whose gains span many orders of magnitude may then
keep a larger bound; it is reported).

**Capacities and TR are clipped, exactly.** Every unit delivered leaves the source and ends
at a group, so some optimal flow carries at most :math:`\min(TR, \sum_j d_j)` units on any
arc (a flow decomposes into paths and cycles; cycles cost 0 and can be removed). In integer
units: TR above the total integer demand becomes that total, and every capacity above the
integer TR becomes it; the integer optimum does not change, and the integers stay small.

Each gain moves by at most :math:`0.5 \max|g| / 10^{12}` per unit delivered, and at most
:math:`\min(TR, \sum_j d_j)` units are delivered. :func:`networkx_tolerance` is the sum of the
two parts; the two objectives agree when they differ by at most ``1e-6 |objective|`` plus it.
"""

from __future__ import annotations

import math

from resiliopt.formulations.slice_lp import SliceData

RTOL = 1e-6
#: the flow scale of slices whose numbers are fine enough (the scale of earlier versions)
BASE_FLOW_SCALE = 1e6
#: the flow part of the rounding bound is at most this share of the slice's attainable gain
ROUNDING_SHARE = 1e-4
#: the scaled total demand stays below this (Python integers; network simplex stays fast)
MAX_SCALED = 1e30
COST_DIGITS = 1e12


def _numbers(data: SliceData):
    g = data.groups["gain"].to_numpy(dtype=float)
    d = data.groups["capacity"].to_numpy(dtype=float)
    return g, d, float(d.sum())


def attainable_gain(data: SliceData) -> float:
    r""":math:`A`: the most the slice can gain (module docstring), >= every feasible objective."""
    g, d, total = _numbers(data)
    if not len(g):
        return 0.0
    gp = [max(x, 0.0) for x in g.tolist()]
    worth = sum(a * b for a, b in zip(gp, d.tolist(), strict=True))
    return min(worth, max(gp) * min(float(data.total_resources), total))


def flow_scale(data: SliceData) -> float:
    """The flow scale :math:`s` of the integer problem (module docstring)."""
    g, _, total = _numbers(data)
    if not len(g):
        return BASE_FLOW_SCALE
    spread = float(g.max()) - min(float(g.min()), 0.0)
    reach = attainable_gain(data)
    n = len(data.arcs) + 2 * len(data.groups) + 1
    s = BASE_FLOW_SCALE
    if reach > 0 and spread > 0:
        s = max(s, n * spread * 0.5 / (ROUNDING_SHARE * reach))
    s = 10.0 ** math.ceil(math.log10(s))  # a power of ten: data with few decimals stay exact
    cap = min(1e200, MAX_SCALED / total) if total > 0 else 1e200
    return max(BASE_FLOW_SCALE, min(s, cap))


def networkx_tolerance(
    data: SliceData, cost_digits: float = COST_DIGITS, scale: float | None = None
) -> float:
    """How far the integer-scaled networkx optimum may lie from the LP's (absolute, F_C)."""
    g, _, total = _numbers(data)
    if not len(g):
        return 0.0
    s = flow_scale(data) if scale is None else scale
    top = float(abs(g).max())
    spread = float(g.max()) - min(float(g.min()), 0.0)
    n = len(data.arcs) + 2 * len(data.groups) + 1
    moved = min(float(data.total_resources), total)
    return n * spread * 0.5 / s + moved * 0.5 * top / cost_digits


def networkx_allowed(data: SliceData, objective: float) -> float:
    """The largest difference between the two objectives still called agreement."""
    return RTOL * abs(objective) + networkx_tolerance(data)


def networkx_agrees(data: SliceData, objective: float, nx_objective: float) -> bool:
    """Whether the LP's objective and networkx's agree within :func:`networkx_allowed`."""
    return abs(objective - nx_objective) <= networkx_allowed(data, objective)


def networkx_objective(
    data: SliceData, cost_digits: float = COST_DIGITS, scale: float | None = None
) -> float:
    """The slice optimum computed by networkx (costs and flows integer-scaled, module docstring)."""
    if data.source == data.sink:
        raise ValueError("source and sink must differ")
    g_all, d_all, total = _numbers(data)
    top = float(abs(g_all).max()) if len(g_all) else 0.0
    cost_scale = cost_digits / top if top > 0 else 1.0
    s = flow_scale(data) if scale is None else scale
    import networkx as nx  # imported here: a city-size slice skips it

    demands = [int(round(d * s)) for d in d_all.tolist()]
    total_int = sum(demands)
    tr_f = float(data.total_resources)
    tr = total_int if tr_f >= total else min(int(round(tr_f * s)), total_int)

    def clip(cap: float) -> int:  # above the integer TR: the integer TR (exact, docstring)
        return tr if cap * s >= tr else int(round(cap * s))

    g = nx.DiGraph()
    g.add_node(data.source, demand=-tr)
    g.add_node(data.sink, demand=tr)
    g.add_edge(data.source, data.sink, capacity=tr, weight=0)  # resources left unused
    for u, v, cap in zip(
        data.arcs["from"].tolist(), data.arcs["to"].tolist(), data.arcs["capacity"].tolist(), strict=True
    ):
        if g.has_edge(u, v):  # parallel arcs (cost 0 each) carry the sum of their capacities
            g[u][v]["capacity"] += clip(float(cap))
        else:
            g.add_edge(u, v, capacity=clip(float(cap)), weight=0)
    for j, v, dem, gain in zip(
        data.groups["group"].tolist(), data.groups["node"].tolist(), demands, g_all.tolist(), strict=True
    ):
        # a group is its own node so parallel arcs to the sink stay distinct
        node = ("group", j)
        dem = min(dem, tr)
        g.add_edge(v, node, capacity=dem, weight=-int(round(gain * cost_scale)))
        g.add_edge(node, data.sink, capacity=dem, weight=0)
    cost, _ = nx.network_simplex(g)
    out = -cost / (cost_scale * s)
    return out if math.isfinite(out) else float("nan")
