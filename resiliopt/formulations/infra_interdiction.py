r"""N-k interdiction: the k failures that cut the most served demand (a MILP, inner LP dualised).

Inner problem (the served-demand LP of :mod:`resiliopt.formulations.infra_flow`, ``objective=
"served"``, all dependency losses 1) for effective node failures :math:`F_i` and arc failures
:math:`G_e` (both 0/1):

.. math::

    V(F, G) = \max\; & \sum_{i \in S^-} \omega_i s_i \\
    \text{s.t.}\; & \sum_{(i,j)} x_{ij} - \sum_{(j,i)} x_{ji} - g_i + s_i \le 0 && (\pi_i \ge 0) \\
    & x_a \le u_a (1 - G_{e(a)}) && (\beta_a \ge 0) \\
    & g_i \le b_i (1 - F_i),\ i \in S^+ \qquad s_i \le -b_i (1 - F_i),\ i \in S^- && (\rho_i, \sigma_i \ge 0)

(:math:`g` supply used, :math:`s` demand served; with all losses 1 the LP's functionality is
0/1 and a node down blocks every arc at it, which :math:`G` encodes). Its dual is

.. math::

    V = \min\; & \sum_a u_a (1 - G_{e(a)}) \beta_a + \sum_{S^+} b_i (1 - F_i) \rho_i
        + \sum_{S^-} (-b_i) (1 - F_i) \sigma_i \\
    \text{s.t.}\; & \pi_i - \pi_j + \beta_{ij} \ge 0, \quad \rho_i \ge \pi_i, \quad
        \pi_i + \sigma_i \ge \omega_i, \quad \pi, \beta, \rho, \sigma \ge 0 .

Bounded duals (why the big-M is exact): from any optimal dual, clipping :math:`\pi` to
:math:`[0, \bar\omega]` (:math:`\bar\omega = \max_i \omega_i`) keeps it feasible and then
:math:`\beta_{ij} = (\pi_j - \pi_i)^+`, :math:`\rho_i = \pi_i`, :math:`\sigma_i = (\omega_i -
\pi_i)^+` are optimal and all :math:`\le \bar\omega`. So the products :math:`\beta G`,
:math:`\rho F`, :math:`\sigma F` are linearised exactly with :math:`M = \bar\omega`:
:math:`P_a \le \beta_a,\ P_a \le M G_e` (likewise :math:`Q_i, R_i`), and the interdictor solves

.. math::

    \min_{z, F, G, \pi, \beta, \rho, \sigma, P, Q, R}\; & \sum_a u_a (\beta_a - P_a)
        + \sum_{S^+} b_i (\rho_i - Q_i) + \sum_{S^-} (-b_i)(\sigma_i - R_i) \\
    \text{s.t.}\; & \sum_{c \in C} z_c \le k, \quad z \in \{0,1\} \\
    & F_j \ge z_i \ \ \forall i, j \in \mathrm{cl}(i), \qquad
      F_j \le \textstyle\sum_{i: j \in \mathrm{cl}(i)} z_i \\
    & G_e \ge z_e,\ G_e \ge F_{\text{from}},\ G_e \ge F_{\text{to}},\qquad
      G_e \le z_e + F_{\text{from}} + F_{\text{to}},\qquad F, G \in [0, 1]

where :math:`\mathrm{cl}(i)` is node :math:`i` with every node that depends on it, directly or
not (the cascade closure; with losses 1 the closure of a set is the union of the closures). The
optimum is the worst served value :math:`\min_{|D| \le k} V(D)`; the chosen set is re-solved with
the LP as a check. Partial losses (:math:`\ell < 1`) are refused: the closure is then no longer
0/1.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pyomo.environ as pyo

from resiliopt.case.infra import InfraCase
from resiliopt.errors import InputError
from resiliopt.formulations.infra_flow import _arcs, node_weights


def dependency_closure(case: InfraCase) -> dict[tuple, set[tuple]]:
    """(layer, node) -> the set of nodes that fail with it (itself and every depender, transitively,
    through dependencies of loss 1; a partial loss does not make the depender fail)."""
    g = nx.DiGraph()
    g.add_nodes_from(zip(case.nodes["layer"], case.nodes["node"], strict=True))
    dep = case.dependencies
    dep = dep[dep["loss"] >= 1.0]
    g.add_edges_from(
        zip(
            zip(dep["dependee_layer"], dep["dependee"], strict=True),
            zip(dep["depender_layer"], dep["depender"], strict=True),
            strict=True,
        )
    )
    return {n: {n} | nx.descendants(g, n) for n in g.nodes}


def build_interdiction_model(
    case: InfraCase, k: int, candidates: str = "all", weights: str = "share"
) -> pyo.ConcreteModel:
    """The N-k interdiction MILP of the module docstring."""
    if (case.dependencies["loss"] < 1).any():
        raise InputError(
            "N-k interdiction needs every dependency loss = 1 (a partial loss makes the cascade fractional)",
            case.source_file("dependencies"),
            "loss",
        )
    if candidates not in ("all", "nodes", "links"):
        raise InputError(
            f"candidates must be all, nodes or links (got {candidates!r})", location="candidates"
        )
    if k < 0:
        raise InputError(f"k must be >= 0 (got {k})", location="k")
    nodes = case.nodes
    nkeys = list(zip(nodes["layer"], nodes["node"], strict=True))
    b = dict(zip(nkeys, nodes["demand"].astype(float), strict=True))
    om = node_weights(case, weights).to_dict()
    big = max(om.values(), default=0.0)
    arcs = _arcs(case)
    akeys = list(zip(arcs["layer"], arcs["link"], arcs["dir"], strict=True))
    cap = dict(zip(akeys, arcs["capacity"].astype(float), strict=True))
    tail = {a: (a[0], t) for a, t in zip(akeys, arcs["tail"], strict=True)}
    head = {a: (a[0], h) for a, h in zip(akeys, arcs["head"], strict=True)}
    lkeys = list(zip(case.links["layer"], case.links["link"], strict=True))
    ends = {
        lk: ((lk[0], f), (lk[0], t))
        for lk, f, t in zip(lkeys, case.links["from"], case.links["to"], strict=True)
    }
    sup = [i for i in nkeys if b[i] > 0]
    dem = [i for i in nkeys if b[i] < 0]
    cand = [("node", *i) for i in nkeys if candidates in ("all", "nodes")] + [
        ("link", *e) for e in lkeys if candidates in ("all", "links")
    ]
    closure = dependency_closure(case)
    causes: dict[tuple, list] = {i: [] for i in nkeys}
    for c in cand:
        if c[0] == "node":
            for j in closure[c[1:]]:
                causes[j].append(c)

    m = pyo.ConcreteModel(name=f"{case.name}-N-{k}")
    m.C = pyo.Set(initialize=cand, dimen=3, ordered=True, doc="candidate elements (kind, layer, id)")
    m.N = pyo.Set(initialize=nkeys, dimen=2, ordered=True)
    m.L = pyo.Set(initialize=lkeys, dimen=2, ordered=True)
    m.A = pyo.Set(initialize=akeys, dimen=3, ordered=True)
    m.Ns = pyo.Set(initialize=sup, dimen=2, ordered=True)
    m.Nd = pyo.Set(initialize=dem, dimen=2, ordered=True)
    m.z = pyo.Var(m.C, within=pyo.Binary, doc="element interdicted")
    m.F = pyo.Var(m.N, bounds=(0, 1), doc="node down (itself or a dependee)")
    m.G = pyo.Var(m.L, bounds=(0, 1), doc="link unusable (itself or an end down)")
    m.pi = pyo.Var(m.N, bounds=(0, big))
    m.beta = pyo.Var(m.A, bounds=(0, big))
    m.rho = pyo.Var(m.Ns, bounds=(0, big))
    m.sigma = pyo.Var(m.Nd, bounds=(0, big))
    m.P = pyo.Var(m.A, bounds=(0, big))
    m.Q = pyo.Var(m.Ns, bounds=(0, big))
    m.R = pyo.Var(m.Nd, bounds=(0, big))

    m.budget = pyo.Constraint(expr=sum(m.z[c] for c in m.C) <= k)
    pairs = [(j, c) for j in nkeys for c in causes[j]]
    m.F_pairs = pyo.Set(initialize=[(*j, *c) for j, c in pairs], dimen=5, ordered=True)
    m.F_low = pyo.Constraint(m.F_pairs, rule=lambda m, l1, n1, kind, l2, n2: m.F[l1, n1] >= m.z[kind, l2, n2])
    m.F_up = pyo.Constraint(m.N, rule=lambda m, *j: m.F[j] <= sum(m.z[c] for c in causes[j]))
    zl = {e: (("link", *e) if candidates in ("all", "links") else None) for e in lkeys}

    def g_low(m, *e):
        return pyo.Constraint.Skip if zl[e] is None else m.G[e] >= m.z[zl[e]]

    m.G_link = pyo.Constraint(m.L, rule=g_low)
    m.G_from = pyo.Constraint(m.L, rule=lambda m, *e: m.G[e] >= m.F[ends[e][0]])
    m.G_to = pyo.Constraint(m.L, rule=lambda m, *e: m.G[e] >= m.F[ends[e][1]])
    m.G_up = pyo.Constraint(
        m.L,
        rule=lambda m, *e: (
            m.G[e] <= (m.z[zl[e]] if zl[e] is not None else 0) + m.F[ends[e][0]] + m.F[ends[e][1]]
        ),
    )
    m.dual_x = pyo.Constraint(m.A, rule=lambda m, *a: m.pi[tail[a]] - m.pi[head[a]] + m.beta[a] >= 0)
    m.dual_g = pyo.Constraint(m.Ns, rule=lambda m, *i: m.rho[i] - m.pi[i] >= 0)
    m.dual_s = pyo.Constraint(m.Nd, rule=lambda m, *i: m.pi[i] + m.sigma[i] >= om[i])
    link_of = {a: (a[0], a[1]) for a in akeys}
    m.P_beta = pyo.Constraint(m.A, rule=lambda m, *a: m.P[a] <= m.beta[a])
    m.P_G = pyo.Constraint(m.A, rule=lambda m, *a: m.P[a] <= big * m.G[link_of[a]])
    m.Q_rho = pyo.Constraint(m.Ns, rule=lambda m, *i: m.Q[i] <= m.rho[i])
    m.Q_F = pyo.Constraint(m.Ns, rule=lambda m, *i: m.Q[i] <= big * m.F[i])
    m.R_sigma = pyo.Constraint(m.Nd, rule=lambda m, *i: m.R[i] <= m.sigma[i])
    m.R_F = pyo.Constraint(m.Nd, rule=lambda m, *i: m.R[i] <= big * m.F[i])
    m.objective = pyo.Objective(
        expr=sum(cap[a] * (m.beta[a] - m.P[a]) for a in m.A)
        + sum(b[i] * (m.rho[i] - m.Q[i]) for i in m.Ns)
        + sum(-b[i] * (m.sigma[i] - m.R[i]) for i in m.Nd),
        sense=pyo.minimize,
    )
    return m


def chosen(m: pyo.ConcreteModel) -> pd.DataFrame:
    """The interdicted elements of a solved model: kind, layer, element."""
    rows = [c for c in m.C if pyo.value(m.z[c]) > 0.5]
    return pd.DataFrame(rows, columns=["kind", "layer", "element"])


def weighted_demand(case: InfraCase, weights: str = "share") -> float:
    om = node_weights(case, weights)
    dem = (-case.nodes.set_index(["layer", "node"])["demand"]).clip(lower=0)
    return float((om * dem).sum())
