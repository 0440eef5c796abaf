r"""Which bridges to upgrade: a two-stage stochastic MILP by sample average approximation.

Paper 004 (4.5) upgrades all 36 bridges; choosing a subset under a budget is its future work.
First stage: which bridges to upgrade. Second stage, for each sampled earthquake scenario
:math:`s`: the first slice's logistics LP (:mod:`resiliopt.formulations.slice_lp`) on the
network damaged in that scenario. See docs/retrofit.md.

Sets
    :math:`S` scenarios, :math:`E` arcs, :math:`V` road nodes (every node an arc or a group
    names), :math:`K` candidate bridges
    (those an upgrade changes), :math:`J_s` building groups with repair demand in scenario
    :math:`s`; :math:`\beta(e)` the bridges at the two ends of arc :math:`e`.

Parameters
    :math:`C_e` designated capacity; :math:`\kappa^{lo}_{bs}, \kappa^{hi}_{bs}` the share of
    capacity bridge :math:`b` keeps in scenario :math:`s` as built and when upgraded (damage
    states from the *same* standard-normal draw with the two grades' medians: common random
    numbers, so :math:`\kappa^{hi} \ge \kappa^{lo}`); :math:`\bar\kappa_{es}` the keep of
    arc :math:`e` from its non-candidate end bridges (1 if none); :math:`d_{js}`, :math:`w_{js}`
    the demand and weight (gain :math:`g_j`, or 1 for plain resources) of group :math:`j`;
    :math:`TR`, :math:`c_b` upgrade cost, budget :math:`B`.

Variables
    :math:`z_b \in \{0, 1\}` upgrade bridge :math:`b`; :math:`x_{es} \ge 0` flow;
    :math:`y_{js} \ge 0` delivery.

.. math::

    \max\; & \frac{1}{|S|} \sum_{s} \sum_{j \in J_s} w_{js}\, y_{js} \\
    \text{s.t.}\; & \sum_{b \in K} c_b z_b \le B && (\text{budget}) \\
    & 0 \le x_{es} \le C_e \bar\kappa_{es} && \forall e, s \quad (\text{bound}) \\
    & x_{es} \le C_e \left(\kappa^{lo}_{bs} + (\kappa^{hi}_{bs} - \kappa^{lo}_{bs}) z_b\right)
        && \forall s, e, b \in \beta(e) \cap K \quad (\text{arc\_capacity}) \\
    & 0 \le y_{js} \le d_{js} && \forall s, j \in J_s \quad (\text{bound}) \\
    & \sum_{e \in \delta^-(v)} x_{es} - \sum_{e \in \delta^+(v)} x_{es}
        - \sum_{j \in J_s: v(j) = v} y_{js} = 0 && \forall v, s \quad (\text{node\_balance}) \\
    & \sum_{e \in \delta^+(RR)} x_{es} \le TR && \forall s \quad (\text{total\_resources})

The recovery model's capacity of an arc is :math:`C_e \min_{b \in \beta(e)} \kappa_b`; a
minimum is at most each term, so the per-bridge rows state it exactly (no linearization
error): each keep is linear in its own binary. Arc capacity rows are only written where an
upgrade changes the keep in that scenario and could bind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # imported by the builders: importing this module needs no Pyomo
    import pyomo.environ as pyo

META = {
    "budget": "cost of upgraded bridges is at most the budget",
    "arc_capacity": "arc flow is at most its capacity times the keep of each end bridge",
    "node_balance": "inflow = outflow + deliveries at every road node, per scenario",
    "total_resources": "resources leaving the source are at most TR, per scenario",
}


@dataclass
class SaaData:
    """The sampled problem as arrays and tidy tables.

    ``arcs``: columns arc, from, to, capacity; ``arc_bridges`` (n_arcs, 2) bridge index at each
    end (-1 none); ``keep_lo``/``keep_hi`` (n_scenarios, n_bridges); ``candidate`` bool per
    bridge; ``cost`` per bridge; ``groups``: columns scenario (position 0..S-1), group, node,
    demand, weight.
    """

    arcs: pd.DataFrame
    arc_bridges: np.ndarray
    keep_lo: np.ndarray
    keep_hi: np.ndarray
    candidate: np.ndarray
    cost: np.ndarray
    groups: pd.DataFrame
    total_resources: float
    source: str = "RR"
    sink: str = "RS"

    @property
    def n_scenarios(self) -> int:
        return self.keep_lo.shape[0]


def build_bridge_saa(data: SaaData, budget: float, scale: float = 1.0) -> pyo.ConcreteModel:
    """Build the SAA MILP; the objective is multiplied by ``scale`` (numerics only)."""
    import pyomo.environ as pyo  # Pyomo: about 0.4 s of start-up, paid only when a model is built

    m = pyo.ConcreteModel(name="bridge_saa")
    arcs = data.arcs.reset_index(drop=True)
    n_s = data.n_scenarios
    arc_ids = list(arcs["arc"])
    cap = arcs["capacity"].to_numpy(dtype=float)
    cand = [int(b) for b in np.flatnonzero(data.candidate)]
    m.S = pyo.RangeSet(0, n_s - 1, doc="scenarios")
    m.E = pyo.Set(initialize=range(len(arc_ids)), ordered=True, doc="arcs (positions)")
    m.K = pyo.Set(initialize=cand, ordered=True, doc="candidate bridges (positions)")
    nodes: dict[str, None] = {}
    for u, v in zip(arcs["from"], arcs["to"], strict=True):
        nodes.setdefault(u, None)
        nodes.setdefault(v, None)
    for v in data.groups["node"]:  # every node named, also one that only groups name (no arc)
        nodes.setdefault(v, None)
    nodes.pop(data.source, None)
    nodes.pop(data.sink, None)
    m.V = pyo.Set(initialize=list(nodes), ordered=True, doc="road nodes")

    # constant part of each arc's keep, and the rows that depend on an upgrade
    ab = data.arc_bridges
    const = np.ones((n_s, len(arc_ids)))
    rows = []
    is_cand = np.zeros(data.keep_lo.shape[1], dtype=bool)
    is_cand[cand] = True
    for e in range(len(arc_ids)):
        for b in ab[e]:
            if b < 0:
                continue
            lo, hi = data.keep_lo[:, b], data.keep_hi[:, b]
            if is_cand[b]:
                const[:, e] = np.minimum(const[:, e], hi)  # the best an upgrade can give
            else:
                const[:, e] = np.minimum(const[:, e], lo)
    for e in range(len(arc_ids)):
        for b in ab[e]:
            if b < 0 or not is_cand[b]:
                continue
            lo, hi = data.keep_lo[:, b], data.keep_hi[:, b]
            for s in np.flatnonzero((hi > lo) & (lo < const[:, e])):
                rows.append((int(s), e, int(b)))
    m.AB = pyo.Set(initialize=rows, dimen=3, ordered=True, doc="(scenario, arc, candidate end bridge)")

    g = data.groups.reset_index(drop=True)
    gkeys = list(zip(g["scenario"].astype(int), g["group"], strict=True))
    m.G = pyo.Set(initialize=gkeys, dimen=2, ordered=True, doc="(scenario, group with demand)")
    demand = dict(zip(gkeys, g["demand"].astype(float), strict=True))
    weight = dict(zip(gkeys, g["weight"].astype(float) * scale, strict=True))

    m.z = pyo.Var(m.K, within=pyo.Binary, doc="upgrade bridge b")
    m.flow = pyo.Var(m.S, m.E, bounds=lambda m, s, e: (0, cap[e] * const[s, e]), doc="arc flow")
    m.delivery = pyo.Var(m.G, bounds=lambda m, s, j: (0, demand[s, j]), doc="delivery to group")

    m.budget = pyo.Constraint(
        expr=sum(float(data.cost[b]) * m.z[b] for b in m.K) <= float(budget), doc=META["budget"]
    )

    def arc_cap(m, s, e, b):
        lo, hi = data.keep_lo[s, b], data.keep_hi[s, b]
        return m.flow[s, e] <= cap[e] * (lo + (hi - lo) * m.z[b])

    m.arc_capacity = pyo.Constraint(m.AB, rule=arc_cap, doc=META["arc_capacity"])

    tail = list(arcs["from"])
    head = list(arcs["to"])
    out_arcs: dict[str, list[int]] = {}
    in_arcs: dict[str, list[int]] = {}
    for e in range(len(arc_ids)):
        out_arcs.setdefault(tail[e], []).append(e)
        in_arcs.setdefault(head[e], []).append(e)
    at_node: dict[tuple[int, str], list[str]] = {}
    for (s, j), v in zip(gkeys, g["node"], strict=True):
        at_node.setdefault((s, v), []).append(j)

    def balance(m, s, v):
        if v not in in_arcs and v not in out_arcs and (s, v) not in at_node:
            return pyo.Constraint.Skip  # the empty row 0 = 0
        return (
            sum(m.flow[s, e] for e in in_arcs.get(v, ()))
            - sum(m.flow[s, e] for e in out_arcs.get(v, ()))
            - sum(m.delivery[s, j] for j in at_node.get((s, v), ()))
            == 0
        )

    m.node_balance = pyo.Constraint(m.S, m.V, rule=balance, doc=META["node_balance"])
    m.total_resources = pyo.Constraint(
        m.S,
        rule=lambda m, s: sum(m.flow[s, e] for e in out_arcs.get(data.source, ())) <= data.total_resources,
        doc=META["total_resources"],
    )
    m.objective = pyo.Objective(
        expr=sum(weight[k] * m.delivery[k] for k in m.G) / n_s,
        sense=pyo.maximize,
        doc="expected (weighted) delivery in the first slice",
    )
    m.meta = {k: {"description": v} for k, v in META.items()}
    return m


def chosen_bridges(m: pyo.ConcreteModel) -> list[int]:
    """Positions of the bridges the solved model upgrades."""
    import pyomo.environ as pyo  # Pyomo: about 0.4 s of start-up, paid only when a model is built

    return [int(b) for b in m.K if pyo.value(m.z[b]) > 0.5]
