r"""An input-level certificate of the served-demand LP, independent of the model builder.

:func:`certify_flow` re-derives the LP of :mod:`resiliopt.formulations.infra_flow` from the case
tables alone (arcs from the links table, costs, penalties, capacities, dependencies) and checks a
solution given as tidy tables (flows per link and direction, node functionality, unused supply,
unmet demand, and the row duals: node prices :math:`\pi`, arc-end duals :math:`\mu, \nu`,
function-row duals :math:`\eta, \kappa`, dependency duals :math:`\lambda`). It shares no code
with the Pyomo builder or the matrix reader. Checked:

* primal: bounds, conservation at every node, failed elements carry nothing (no flow on a
  failed link, no flow, supply or service at a failed node), arc-end rows, function rows,
  dependency rows; the reported served demand equals :math:`-b - \delta^-`;
* dual: sign of every row dual (:math:`\le` rows :math:`\le 0`, :math:`\ge` rows :math:`\ge 0` in
  the shadow-price convention of a minimisation), reduced costs recomputed from the input
  coefficients, and the duality gap :math:`|c^\top x - (r^\top y + \sum_j d_j \cdot
  \text{bound}_j)|` where each reduced cost :math:`d_j` is paired with the bound it prices.

Every variable is bounded on both sides, so any reduced cost is dual-feasible; a zero gap with
primal feasibility and correct row signs proves optimality (weak duality).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

TOL = 1e-7


@dataclass(frozen=True)
class FlowCertificate:
    primal_infeasibility: float
    failed_carry: float
    dual_sign: float
    gap: float
    complementary_slackness: float
    primal_objective: float
    dual_objective: float
    tol: float = TOL

    @property
    def passed(self) -> bool:
        worst = max(self.primal_infeasibility, self.failed_carry, self.dual_sign, self.gap)
        return worst <= self.tol

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def _weights(case, weights: str) -> pd.Series:
    nd = case.nodes.set_index(["layer", "node"])
    dem = (-nd["demand"]).clip(lower=0)
    if weights == "unit":
        w = pd.Series(1.0, index=nd.index)
    elif weights == "penalty":
        w = nd["unmet_penalty"]
    else:
        tot = dem.groupby(level=0).sum()
        w = pd.Series(
            [1.0 / tot[lay] if tot[lay] > 0 else 0.0 for lay in nd.index.get_level_values(0)], nd.index
        )
    return w.where(dem > 0, 0.0)


def certify_flow(
    case, res, objective: str = "cost", weights: str = "share", tol: float = TOL
) -> FlowCertificate:
    """Check a :class:`~resiliopt.formulations.infra_flow.FlowResult` against the case tables."""
    nodes = case.nodes.set_index(["layer", "node"])
    links = case.links.set_index(["layer", "link"])
    sol_n = res.nodes.set_index(["layer", "element"])
    sol_l = res.links.set_index(["layer", "link"])
    sol_a = res.arcs.set_index(["layer", "link", "dir"])
    b = nodes["demand"].astype(float)
    failed_n = sol_n["failed"].reindex(nodes.index).astype(bool)
    failed_l = sol_l["failed"].reindex(links.index).astype(bool)
    w = sol_n["functionality"].reindex(nodes.index).astype(float)
    unused = sol_n["unused_supply"].reindex(nodes.index).astype(float)
    unmet = sol_n["unserved"].reindex(nodes.index).astype(float)
    pi = sol_n["price"].reindex(nodes.index).astype(float)
    fdual = sol_n["function_dual"].reindex(nodes.index).astype(float)
    if objective == "cost":
        mp, mm = nodes["oversupply_penalty"].astype(float), nodes["unmet_penalty"].astype(float)
    else:
        mp, mm = pd.Series(0.0, nodes.index), _weights(case, weights)

    # arcs from the links table: (i, j) always, (j, i) if two-way
    arcs = []
    for (layer, link), r in links.iterrows():
        arcs.append((layer, link, "+", r["from"], r["to"]))
        if r["two_way"]:
            arcs.append((layer, link, "-", r["to"], r["from"]))
    scale = 1.0 + max(
        float(np.abs(b.to_numpy()).max(initial=0)), float(links["capacity"].max()) if len(links) else 0.0
    )
    viol = [0.0]
    carry = [0.0]
    net = pd.Series(0.0, index=nodes.index)
    dual_sign = [0.0]
    rc_w = pd.Series(0.0, index=nodes.index)
    primal_obj = 0.0
    dual_obj = 0.0
    comp = [0.0]

    def pair(d: float, lo: float, hi: float, val: float) -> float:
        """Dual objective term of a reduced cost d on a column with bounds [lo, hi]."""
        comp.append(abs(d) * ((val - lo) if d > 0 else (hi - val)))
        return d * lo if d > 0 else d * hi

    for layer, link, d, i, j in arcs:
        u = float(links.at[(layer, link), "capacity"])
        c = float(links.at[(layer, link), "flow_cost"]) if objective == "cost" else 0.0
        x = float(sol_l.at[(layer, link), "flow_forward" if d == "+" else "flow_backward"])
        hi = 0.0 if failed_l[(layer, link)] else u
        viol += [-x, x - hi, x - u * w[(layer, i)], x - u * w[(layer, j)]]
        if failed_l[(layer, link)] or failed_n[(layer, i)] or failed_n[(layer, j)]:
            carry.append(abs(x))
        net[(layer, i)] += x
        net[(layer, j)] -= x
        mu = float(sol_a.at[(layer, link, d), "end_from_dual"])
        nu = float(sol_a.at[(layer, link, d), "end_to_dual"])
        dual_sign += [mu, nu]  # <= rows: dual <= 0
        comp += [abs(mu) * (u * w[(layer, i)] - x), abs(nu) * (u * w[(layer, j)] - x)]
        rc = c - pi[(layer, i)] + pi[(layer, j)] - mu - nu
        rc_w[(layer, i)] -= -u * mu
        rc_w[(layer, j)] -= -u * nu
        primal_obj += c * x
        dual_obj += pair(rc, 0.0, hi, x)

    for key in nodes.index:
        bi = float(b[key])
        viol += [-w[key], w[key] - (0.0 if failed_n[key] else 1.0)]
        viol.append(abs(net[key] + unused[key] - unmet[key] - bi))
        dual_obj += pi[key] * bi
        if bi > 0:
            viol += [-unused[key], unused[key] - bi, bi * (1 - w[key]) - unused[key]]
            eta = fdual[key]
            dual_sign.append(-eta)  # >= row: dual >= 0
            comp.append(abs(eta) * (unused[key] - bi * (1 - w[key])))
            rc_w[key] -= bi * eta
            dual_obj += eta * bi
            primal_obj += mp[key] * unused[key]
            dual_obj += pair(mp[key] - pi[key] - eta, 0.0, bi, unused[key])
            if failed_n[key]:
                carry.append(bi - unused[key])
        else:
            viol.append(abs(unused[key]))
        if bi < 0:
            viol += [-unmet[key], unmet[key] + bi, -bi * (1 - w[key]) - unmet[key]]
            kappa = fdual[key]
            dual_sign.append(-kappa)
            comp.append(abs(kappa) * (unmet[key] + bi * (1 - w[key])))
            rc_w[key] -= -bi * kappa
            dual_obj += kappa * (-bi)
            primal_obj += mm[key] * unmet[key]
            dual_obj += pair(mm[key] + pi[key] - kappa, 0.0, -bi, unmet[key])
            if failed_n[key]:
                carry.append(-bi - unmet[key])
            served = float(sol_n.at[key, "served"])
            viol.append(abs(served - (-bi - unmet[key])))
        else:
            viol.append(abs(unmet[key]))

    dep = res.dependencies
    for r in dep.itertuples(index=False):
        ee, er, loss = (r.dependee_layer, r.dependee), (r.depender_layer, r.depender), float(r.loss)
        viol.append(w[er] - (1 - loss * (1 - w[ee])))
        lam = float(r.dual)
        dual_sign.append(lam)
        comp.append(abs(lam) * ((1 - loss * (1 - w[ee])) - w[er]))
        rc_w[er] -= lam
        rc_w[ee] -= -loss * lam
        dual_obj += lam * (1 - loss)
    for key in nodes.index:
        dual_obj += pair(float(rc_w[key]), 0.0, 0.0 if failed_n[key] else 1.0, float(w[key]))

    obj_scale = 1.0 + abs(primal_obj)
    return FlowCertificate(
        primal_infeasibility=max(0.0, max(viol)) / scale,
        failed_carry=max(carry) / scale,
        dual_sign=max(0.0, max(dual_sign)) / (1.0 + float(np.abs(np.r_[mp, mm]).max(initial=0))),
        gap=abs(primal_obj - dual_obj) / obj_scale,
        complementary_slackness=max(comp) / obj_scale,
        primal_objective=primal_obj,
        dual_objective=dual_obj,
        tol=tol,
    )
