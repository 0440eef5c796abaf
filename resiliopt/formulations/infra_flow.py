r"""Served demand under damage: the multi-commodity flow LP of interdependent networks.

This is the INDP of Gonzalez et al. (2016) with the repair decisions fixed: given the set of
failed elements, how much of each layer's demand can still be served, at what flow and penalty
cost, and what is one more unit of each capacity worth. Math also in docs/infra.md.

Sets
    :math:`K` layers; :math:`N_k` nodes and :math:`E_k` links of layer :math:`k`; each link
    gives a directed arc :math:`(i,j)` and, if two-way, :math:`(j,i)`: the arc set :math:`A_k`.
    :math:`S_k^+ = \{i : b_i > 0\}` supply nodes, :math:`S_k^- = \{i : b_i < 0\}` demand nodes.
    :math:`D` dependencies :math:`(i \to j, \ell_{ij})`: node :math:`j` loses the share
    :math:`\ell_{ij}` of its function while :math:`i` is down. :math:`F` failed elements.

Parameters
    :math:`b_i` supply (> 0) or demand (< 0) [layer unit]; :math:`u_e` capacity per direction;
    :math:`c_e` flow cost [currency/unit]; :math:`M^+_i`, :math:`M^-_i` penalties of unused supply
    and unmet demand [currency/unit]; :math:`f_e, f_i \in \{0,1\}` failed (1) or not.

Variables
    :math:`x_a \ge 0` flow on arc :math:`a`; :math:`w_i \in [0, 1 - f_i]` functionality of node
    :math:`i`; :math:`\delta^+_i \in [0, b_i]` unused supply (:math:`i \in S^+`);
    :math:`\delta^-_i \in [0, -b_i]` unmet demand (:math:`i \in S^-`).

.. math::

    \min\; & \sum_{a \in A} c_a x_a + \sum_{i \in S^+} M^+_i \delta^+_i + \sum_{i \in S^-} M^-_i \delta^-_i \\
    \text{s.t.}\; & \sum_{(i,j) \in A} x_{ij} - \sum_{(j,i) \in A} x_{ji} + \delta^+_i - \delta^-_i = b_i
        && \forall i \quad (\text{balance}, \pi_i) \\
    & 0 \le x_{ij} \le u_e (1 - f_e) && \forall (i,j) \in A \quad (\text{capacity, a bound}) \\
    & x_{ij} - u_e w_i \le 0, \quad x_{ij} - u_e w_j \le 0 && \forall (i,j) \in A
        \quad (\text{end\_from}, \text{end\_to}) \\
    & \delta^+_i + b_i w_i \ge b_i && \forall i \in S^+ \quad (\text{supply\_function}) \\
    & \delta^-_i - b_i w_i \ge -b_i && \forall i \in S^- \quad (\text{demand\_function}) \\
    & w_j - \ell_{ij} w_i \le 1 - \ell_{ij} && \forall (i \to j) \in D \quad (\text{dependency})

Served demand at :math:`i \in S^-` is :math:`-b_i - \delta^-_i`, supply used at :math:`i \in S^+`
is :math:`b_i - \delta^+_i`.

Why an LP is exact here. In the INDP, :math:`w` is binary. With the repairs fixed, raising any
:math:`w_i` only relaxes constraints, so some optimum has every :math:`w` at its largest value
allowed by the failures and the dependency rows: the greatest fixed point
:math:`w_j = \min(1 - f_j, \min_{i \to j} 1 - \ell_{ij}(1 - w_i))`, the cascade of
:mod:`resiliopt.infra.cascade`. With every :math:`\ell = 1` that fixed point is binary, so the
LP optimum equals the INDP optimum with the same repairs; with :math:`\ell < 1` the LP is the
model (a node working at share :math:`w` serves at most :math:`w` of its demand or supply and
passes at most :math:`u w` on each of its arcs).

Variants (one formulation, objectives by composition): ``objective="cost"`` is the INDP flow
and penalty cost above; ``objective="served"`` sets :math:`c = 0`, :math:`M^+ = 0` and
:math:`M^-_i = \omega_i`, so the LP maximises the weighted served demand
:math:`\sum_i \omega_i (-b_i - \delta^-_i)`. Weights ``"share"`` (default):
:math:`\omega_i = 1 / \text{(layer's total demand)}`, so the value is the sum over layers of the
served share (layers in different units become comparable); ``"unit"``: :math:`\omega = 1`;
``"penalty"``: :math:`\omega_i = M^-_i`.

Readings (docs/infra.md): :math:`\delta^+` lives at supply nodes and :math:`\delta^-` at demand
nodes only (the INDP has both at every node; with nonnegative costs and penalties uniform within
a layer, as in both Shelby cases, oversupply delivered to a demand node or commodity created at a
supply node never lowers the cost, so the optimum is the same).

Build once with :class:`InfraFlow`, then :meth:`InfraFlow.solve` with any failed set: failures
only change column bounds of the compiled LP, and HiGHS re-solves from the previous basis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo

from resiliopt.case.infra import KEY, InfraCase
from resiliopt.case.infra_reach import COLUMNS as UNSERVABLE_COLUMNS
from resiliopt.case.infra_reach import unservable_by_layer, unservable_demand
from resiliopt.errors import InputError, SolveError
from resiliopt.formulations.infra_certificate import FlowCertificate, certify_flow
from resiliopt.solvers.certificate import Certificate, certify
from resiliopt.solvers.highs import new_highs
from resiliopt.solvers.matrix import to_matrix

#: description and unit of every row (Calliope style)
META: dict[str, dict[str, str]] = {
    "balance": {"description": "net outflow = b - unused supply + unmet demand", "unit": "layer unit"},
    "end_from": {"description": "an arc carries flow only while its tail node works", "unit": "layer unit"},
    "end_to": {"description": "an arc carries flow only while its head node works", "unit": "layer unit"},
    "supply_function": {
        "description": "a node working at share w supplies at most w b",
        "unit": "layer unit",
    },
    "demand_function": {"description": "a node working at share w takes at most w |b|", "unit": "layer unit"},
    "dependency": {"description": "w_depender <= 1 - loss (1 - w_dependee)", "unit": "share"},
    "objective": {"description": "flow cost + unused-supply and unmet-demand penalties", "unit": "currency"},
}

WEIGHTS = ("share", "unit", "penalty")


def _arcs(case: InfraCase) -> pd.DataFrame:
    """One row per directed arc: layer, link, dir (+ from->to, - to->from), tail, head."""
    lk = case.links
    fwd = pd.DataFrame(
        {"layer": lk["layer"], "link": lk["link"], "dir": "+", "tail": lk["from"], "head": lk["to"]}
    )
    two = lk[lk["two_way"]]
    bwd = pd.DataFrame(
        {"layer": two["layer"], "link": two["link"], "dir": "-", "tail": two["to"], "head": two["from"]}
    )
    arcs = pd.concat([fwd, bwd], ignore_index=True)
    attrs = lk.set_index(["layer", "link"])[["capacity", "flow_cost"]]
    arcs = arcs.join(attrs, on=["layer", "link"])
    return arcs.sort_values(["layer", "link", "dir"], kind="stable").reset_index(drop=True)


def node_weights(case: InfraCase, weights: str = "share") -> pd.Series:
    """omega_i per node (index layer, node): the value of one unit of served demand."""
    if weights not in WEIGHTS:
        raise InputError(f"weights must be one of {', '.join(WEIGHTS)} (got {weights!r})", location="weights")
    nd = case.nodes.set_index(["layer", "node"])
    dem = (-nd["demand"]).clip(lower=0)
    if weights == "unit":
        w = pd.Series(1.0, index=nd.index)
    elif weights == "penalty":
        w = nd["unmet_penalty"].astype(float)
    else:
        total = dem.groupby(level="layer").transform("sum")
        w = pd.Series(np.where(total > 0, 1.0 / total.where(total > 0, 1.0), 0.0), index=nd.index)
    return w.where(dem > 0, 0.0)


def build_flow_model(case: InfraCase, objective: str = "cost", weights: str = "share") -> pyo.ConcreteModel:
    """The Pyomo model of the served-demand LP with nothing failed (see the module docstring)."""
    if objective not in ("cost", "served"):
        raise InputError(f"objective must be 'cost' or 'served' (got {objective!r})", location="objective")
    nodes = case.nodes
    arcs = _arcs(case)
    m = pyo.ConcreteModel(name=f"{case.name}-flow")
    node_idx = list(zip(nodes["layer"], nodes["node"], strict=True))
    arc_idx = list(zip(arcs["layer"], arcs["link"], arcs["dir"], strict=True))
    b = dict(zip(node_idx, nodes["demand"].astype(float), strict=True))
    sup = [k for k in node_idx if b[k] > 0]
    dem = [k for k in node_idx if b[k] < 0]
    m.N = pyo.Set(initialize=node_idx, dimen=2, ordered=True, doc="nodes (layer, node)")
    m.A = pyo.Set(initialize=arc_idx, dimen=3, ordered=True, doc="arcs (layer, link, dir)")
    m.Ns = pyo.Set(initialize=sup, dimen=2, ordered=True, doc="supply nodes")
    m.Nd = pyo.Set(initialize=dem, dimen=2, ordered=True, doc="demand nodes")
    cap = dict(zip(arc_idx, arcs["capacity"].astype(float), strict=True))
    m.flow = pyo.Var(m.A, bounds=lambda m, *a: (0.0, cap[a]), doc="arc flow x_a [layer unit]")
    m.w = pyo.Var(m.N, bounds=(0.0, 1.0), doc="node functionality w_i [share]")
    m.unused = pyo.Var(m.Ns, bounds=lambda m, *i: (0.0, b[i]), doc="unused supply delta+_i [layer unit]")
    m.unmet = pyo.Var(m.Nd, bounds=lambda m, *i: (0.0, -b[i]), doc="unmet demand delta-_i [layer unit]")

    out_arcs: dict[tuple, list] = {k: [] for k in node_idx}
    in_arcs: dict[tuple, list] = {k: [] for k in node_idx}
    tail, head = {}, {}
    for a, t, h in zip(arc_idx, arcs["tail"], arcs["head"], strict=True):
        tail[a], head[a] = (a[0], t), (a[0], h)
        out_arcs[tail[a]].append(a)
        in_arcs[head[a]].append(a)

    def balance(m, *i):
        e = sum(m.flow[a] for a in out_arcs[i]) - sum(m.flow[a] for a in in_arcs[i])
        if b[i] > 0:
            e = e + m.unused[i]
        elif b[i] < 0:
            e = e - m.unmet[i]
        return e == b[i]

    m.balance = pyo.Constraint(m.N, rule=balance, doc=META["balance"]["description"])
    m.end_from = pyo.Constraint(m.A, rule=lambda m, *a: m.flow[a] - cap[a] * m.w[tail[a]] <= 0)
    m.end_to = pyo.Constraint(m.A, rule=lambda m, *a: m.flow[a] - cap[a] * m.w[head[a]] <= 0)
    m.supply_function = pyo.Constraint(m.Ns, rule=lambda m, *i: m.unused[i] + b[i] * m.w[i] >= b[i])
    m.demand_function = pyo.Constraint(m.Nd, rule=lambda m, *i: m.unmet[i] - b[i] * m.w[i] >= -b[i])
    dep = case.dependencies
    dep_idx = list(dep.index)  # the row labels of the case's table (the result keys its duals by them)
    ee = dict(zip(dep_idx, zip(dep["dependee_layer"], dep["dependee"], strict=True), strict=True))
    er = dict(zip(dep_idx, zip(dep["depender_layer"], dep["depender"], strict=True), strict=True))
    loss = dict(zip(dep_idx, dep["loss"].astype(float), strict=True))
    m.D = pyo.Set(initialize=dep_idx, ordered=True, doc="dependencies (row label of the table)")
    m.dependency = pyo.Constraint(m.D, rule=lambda m, d: m.w[er[d]] - loss[d] * m.w[ee[d]] <= 1 - loss[d])

    nd = nodes.set_index(["layer", "node"])
    if objective == "cost":
        c = dict(zip(arc_idx, arcs["flow_cost"].astype(float), strict=True))
        mp = nd["oversupply_penalty"].to_dict()
        mm = nd["unmet_penalty"].to_dict()
    else:
        c = dict.fromkeys(arc_idx, 0.0)
        mp = dict.fromkeys(node_idx, 0.0)
        mm = node_weights(case, weights).to_dict()
    m.objective = pyo.Objective(
        expr=sum(c[a] * m.flow[a] for a in m.A)
        + sum(mp[i] * m.unused[i] for i in m.Ns)
        + sum(mm[i] * m.unmet[i] for i in m.Nd),
        sense=pyo.minimize,
    )
    m.meta = META
    return m


@dataclass
class FlowResult:
    """The served-demand LP under one failed set, as tidy tables.

    ``nodes``: kind, layer, element, demand (b), failed, functionality (w), supply_used, served,
    unserved, unused_supply, price (pi_i = d objective / d b_i, currency per unit).
    ``links``: layer, link, from, to, capacity, failed, flow_forward, flow_backward,
    capacity_value (objective decrease per extra unit of capacity in both directions, >= 0).
    ``layers``: layer, demand, served, unserved, served_share, supply, supply_used.
    ``dependencies``: the dependency rows of the model with ``dual`` (d objective / d rhs) and
    ``binding``.
    ``unservable``: demand nodes that nothing can serve under the failed set, found on the input
    graph, independent of the LP (:func:`resiliopt.case.infra_reach.unservable_demand`): layer,
    node, demand (lost), reason (failed, dependency, no supply), cause. Their demand is in
    ``unserved`` like any other; this table names it.

    ``status``: ``optimal`` when HiGHS reports an optimum and no certificate that ran failed,
    ``unverified`` when one failed (``solver_status`` keeps HiGHS's word); ``certified``: both
    certificates ran and passed.
    """

    status: str
    objective: float
    objective_kind: str
    nodes: pd.DataFrame
    links: pd.DataFrame
    layers: pd.DataFrame
    dependencies: pd.DataFrame
    arcs: pd.DataFrame
    duals: dict[str, pd.DataFrame] = field(repr=False)
    certificate: Certificate | None = None
    input_certificate: FlowCertificate | None = None
    unservable: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNSERVABLE_COLUMNS))
    unservable_layers: list[dict] = field(default_factory=list)
    solver_status: str = "optimal"

    @property
    def certified(self) -> bool:
        """Both certificates ran and passed."""
        return bool(
            self.certificate is not None
            and self.input_certificate is not None
            and self.certificate.passed
            and self.input_certificate.passed
        )

    @property
    def served_value(self) -> float:
        """Weighted served demand (objective ``served`` only): total weight minus the objective."""
        return float(self.layers["weighted_demand"].sum() - self.objective)

    def to_dict(self) -> dict:
        """The JSON view: status, objective, layers, the unservable demand per layer (with its
        nodes) and both certificates."""
        d = {
            "status": self.status,
            "solver_status": self.solver_status,
            "certified": self.certified,
            "objective": self.objective,
            "objective_kind": self.objective_kind,
            "layers": self.layers.to_dict("records"),
            "unservable": self.unservable_layers,
        }
        if self.certificate is not None:
            d["certificate"] = self.certificate.to_dict()
        if self.input_certificate is not None:
            d["input_certificate"] = self.input_certificate.details()
        return d


class InfraFlow:
    """The served-demand LP of a case, built once and re-solved for any failed set.

    >>> flow = InfraFlow(case)                      # doctest: +SKIP
    >>> res = flow.solve(case.damage_scenario("set0/sce1"))  # doctest: +SKIP
    """

    def __init__(self, case: InfraCase, objective: str = "cost", weights: str = "share"):
        self.case = case
        self.objective_kind = objective
        self.weights = weights
        self.model = build_flow_model(case, objective, weights)
        self.lp = to_matrix(self.model)
        self.h = new_highs(self.lp)
        comp = np.asarray(self.lp.col_component)
        self._col = {
            (c, i): k for k, (c, i) in enumerate(zip(self.lp.col_component, self.lp.col_index, strict=True))
        }
        self._row = {
            (c, i): k for k, (c, i) in enumerate(zip(self.lp.row_component, self.lp.row_index, strict=True))
        }
        self.arcs = _arcs(case)
        arc_keys = list(zip(self.arcs["layer"], self.arcs["link"], self.arcs["dir"], strict=True))
        self.flow_cols = np.array([self._col[("flow", a)] for a in arc_keys], dtype=np.int32)
        node_keys = list(zip(case.nodes["layer"], case.nodes["node"], strict=True))
        self.w_cols = np.array([self._col[("w", i)] for i in node_keys], dtype=np.int32)
        self._cap = self.arcs["capacity"].to_numpy(float)
        self._arc_link = pd.MultiIndex.from_frame(self.arcs[["layer", "link"]])
        self._node_index = pd.MultiIndex.from_frame(case.nodes[["layer", "node"]])
        self._link_index = pd.MultiIndex.from_frame(case.links[["layer", "link"]])
        self.weights_series = node_weights(case, weights)
        self.n_solves = 0
        assert (comp[self.flow_cols] == "flow").all()

    # ----------------------------------------------------------------- failures -> bounds
    def failed_masks(self, failed: pd.DataFrame | Iterable | None) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks (nodes in table order, links in table order) of a failed set.

        ``failed``: a DataFrame with columns kind, layer, element, or (kind, layer, element) triples.
        """
        if failed is None:
            rows: list[tuple] = []
        elif isinstance(failed, pd.DataFrame):
            rows = list(zip(failed["kind"], failed["layer"], failed["element"], strict=True))
        else:
            rows = [tuple(r) for r in failed]
        fn = np.zeros(len(self._node_index), bool)
        fl = np.zeros(len(self._link_index), bool)
        for kind, layer, el in rows:
            idx = self._node_index if kind == "node" else self._link_index if kind == "link" else None
            if idx is None:
                raise InputError(f"element kind must be node or link (got {kind!r})", location="failed.kind")
            k = idx.get_indexer([(layer, str(el))])[0]
            if k < 0:
                raise InputError(
                    f"{kind} {el!r} is not in layer {layer!r}", self.case.path, "failed elements"
                )
            (fn if kind == "node" else fl)[k] = True
        return fn, fl

    def set_failed(self, fn: np.ndarray, fl: np.ndarray, node_caps: np.ndarray | None = None) -> None:
        """Set the bounds of a failed set (masks in table order); ``node_caps`` (optional, in
        [0, 1]) caps node functionality further (a partly working node)."""
        link_failed = fl[self._link_index.get_indexer(self._arc_link)]
        ub = np.where(link_failed, 0.0, self._cap)
        self.h.changeColsBounds(len(self.flow_cols), self.flow_cols, np.zeros(len(ub)), ub)
        wub = np.where(fn, 0.0, 1.0) if node_caps is None else np.minimum(np.where(fn, 0.0, 1.0), node_caps)
        self.h.changeColsBounds(len(self.w_cols), self.w_cols, np.zeros(len(fn)), wub)

    def layer_served_share(self) -> np.ndarray:
        """Served share per layer (case layer order) of the last solve."""
        x = np.asarray(self.h.getSolution().col_value, float)
        if not hasattr(self, "_unmet_cols"):
            keys = list(zip(self.case.nodes["layer"], self.case.nodes["node"], strict=True))
            b = self.case.nodes["demand"].to_numpy(float)
            dem = [k for k, bb in enumerate(b) if bb < 0]
            self._unmet_cols = np.array([self._col[("unmet", keys[k])] for k in dem], dtype=np.int64)
            layers = list(self.case.layers["layer"])
            self._unmet_layer = np.array([layers.index(keys[k][0]) for k in dem], dtype=np.int64)
            self._layer_demand = np.bincount(self._unmet_layer, weights=-b[dem], minlength=len(layers))
        unmet = np.bincount(self._unmet_layer, weights=x[self._unmet_cols], minlength=len(self._layer_demand))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self._layer_demand > 0, 1.0 - unmet / self._layer_demand, 1.0)

    def run(self) -> float:
        """Solve with the current bounds (warm start from the last basis); returns the objective."""
        self.h.run()
        self.n_solves += 1
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolveError(f"HiGHS returned {self.h.modelStatusToString(status)}", status="error")
        return float(self.h.getInfo().objective_function_value)

    def objective_under(self, failed) -> float:
        fn, fl = self.failed_masks(failed)
        self.set_failed(fn, fl)
        return self.run()

    # ----------------------------------------------------------------- full solve
    def solve(self, failed=None, certificate: bool = True) -> FlowResult:
        """Solve under a failed set and return tidy tables, with both certificates."""
        if failed is not None and not isinstance(failed, pd.DataFrame):
            failed = [tuple(r) for r in failed]  # read once here, again by the input certificate
        fn, fl = self.failed_masks(failed)
        self.set_failed(fn, fl)
        obj = self.run()
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value, float)
        y = np.asarray(sol.row_dual, float)
        z = np.asarray(sol.col_dual, float)
        res = self._tables(obj, x, y, fn, fl)
        res.unservable = unservable_demand(self.case, failed)
        res.unservable_layers = unservable_by_layer(self.case, res.unservable)
        if certificate:
            lp = self.lp
            lp_now = type(lp)(**{**lp.__dict__})
            lp_now.col_ub = lp.col_ub.copy()
            lp_now.col_ub[self.flow_cols] = np.where(
                fl[self._link_index.get_indexer(self._arc_link)], 0.0, self._cap
            )
            lp_now.col_ub[self.w_cols] = np.where(fn, 0.0, 1.0)
            res.certificate = certify(lp_now, x, y, z)
            # the input certificate reads the damage given and the case tables, not the model's
            res.input_certificate = certify_flow(self.case, failed, res, self.objective_kind, self.weights)
            if not (res.certificate.passed and res.input_certificate.passed):
                res.status = "unverified"
        return res

    def _tables(self, obj, x, y, fn, fl) -> FlowResult:
        case = self.case
        col, row = self._col, self._row
        arcs = self.arcs.copy()
        arc_keys = list(zip(arcs["layer"], arcs["link"], arcs["dir"], strict=True))
        arcs["flow"] = x[self.flow_cols]
        arcs["end_from_dual"] = [y[row[("end_from", a)]] for a in arc_keys]
        arcs["end_to_dual"] = [y[row[("end_to", a)]] for a in arc_keys]

        nodes = case.nodes
        keys = list(zip(nodes["layer"], nodes["node"], strict=True))
        b = nodes["demand"].to_numpy(float)
        w = x[self.w_cols]
        unused = np.array([x[col[("unused", k)]] if bb > 0 else 0.0 for k, bb in zip(keys, b, strict=True)])
        unmet = np.array([x[col[("unmet", k)]] if bb < 0 else 0.0 for k, bb in zip(keys, b, strict=True)])
        fn_dual = np.array(
            [
                y[row[("supply_function", k)]]
                if bb > 0
                else y[row[("demand_function", k)]]
                if bb < 0
                else 0.0
                for k, bb in zip(keys, b, strict=True)
            ]
        )
        ntab = pd.DataFrame(
            {
                "kind": "node",
                "layer": nodes["layer"],
                "element": nodes["node"],
                "demand": b,
                "failed": fn,
                "functionality": w,
                "supply_used": np.where(b > 0, b - unused, 0.0),
                "served": np.where(b < 0, -b - unmet, 0.0),
                "unserved": unmet,
                "unused_supply": unused,
                "price": [y[row[("balance", k)]] for k in keys],
                "function_dual": fn_dual,
            }
        )
        lk = case.links
        per_link = arcs.groupby(["layer", "link", "dir"])["flow"].sum().unstack("dir")
        ltab = lk[["layer", "link", "from", "to", "capacity"]].copy()
        ltab["failed"] = fl
        ix = pd.MultiIndex.from_frame(ltab[["layer", "link"]])
        ltab["flow_forward"] = per_link.get("+", pd.Series(dtype=float)).reindex(ix).fillna(0.0).to_numpy()
        ltab["flow_backward"] = per_link.get("-", pd.Series(dtype=float)).reindex(ix).fillna(0.0).to_numpy()
        # d objective / d u_e (both directions): column bound (1 - f_e) * z_a plus w-coupling rows
        # only a negative reduced cost prices the upper bound u (1 - f) of a minimisation
        z = np.minimum(np.asarray(self.h.getSolution().col_dual, float)[self.flow_cols], 0.0)
        zz = z * np.where(fl[self._link_index.get_indexer(self._arc_link)], 0, 1)
        wt = pd.Series(w, index=self._node_index)
        w_tail = wt.reindex(pd.MultiIndex.from_arrays([arcs["layer"], arcs["tail"]])).to_numpy()
        w_head = wt.reindex(pd.MultiIndex.from_arrays([arcs["layer"], arcs["head"]])).to_numpy()
        dcap = zz + arcs["end_from_dual"].to_numpy() * w_tail + arcs["end_to_dual"].to_numpy() * w_head
        arcs["capacity_derivative"] = dcap
        dl = arcs.groupby(["layer", "link"])["capacity_derivative"].sum().reindex(ix).to_numpy()
        ltab["capacity_value"] = -dl
        dep = case.dependencies.loc[list(self.model.D)].copy()  # the rows the model has
        dep["dual"] = [y[row[("dependency", d)]] for d in self.model.D]
        dep = dep.reset_index(drop=True)
        wl = pd.Series(w, index=self._node_index)
        lhs = (
            wl.reindex(pd.MultiIndex.from_frame(dep[["depender_layer", "depender"]])).to_numpy()
            - dep["loss"].to_numpy()
            * wl.reindex(pd.MultiIndex.from_frame(dep[["dependee_layer", "dependee"]])).to_numpy()
        )
        dep["binding"] = np.abs(lhs - (1 - dep["loss"].to_numpy())) <= 1e-9

        om = self.weights_series.reindex(self._node_index).to_numpy()
        lay = pd.DataFrame(
            {
                "layer": ntab["layer"],
                "demand": np.where(b < 0, -b, 0.0),
                "served": ntab["served"],
                "unserved": ntab["unserved"],
                "supply": np.where(b > 0, b, 0.0),
                "supply_used": ntab["supply_used"],
                "weighted_demand": om * np.where(b < 0, -b, 0.0),
                "weighted_served": om * ntab["served"].to_numpy(),
            }
        )
        layers = lay.groupby("layer", sort=False).sum().reset_index()
        layers["served_share"] = np.where(
            layers["demand"] > 0, layers["served"] / layers["demand"].where(layers["demand"] > 0, 1), 1.0
        )
        order = list(case.layers["layer"])
        layers = layers.set_index("layer").reindex(order).fillna(0.0).reset_index()
        duals = {"balance": ntab[["layer", "element", "price"]]}
        return FlowResult(
            status="optimal",
            objective=obj,
            objective_kind=self.objective_kind,
            nodes=ntab,
            links=ltab,
            layers=layers,
            dependencies=dep,
            arcs=arcs,
            duals=duals,
        )


def solve_flow(case: InfraCase, failed=None, objective: str = "cost", weights: str = "share") -> FlowResult:
    """Build and solve the served-demand LP once (see :class:`InfraFlow` to re-solve)."""
    return InfraFlow(case, objective, weights).solve(failed)


def failed_table(rows: Iterable[tuple]) -> pd.DataFrame:
    """(kind, layer, element) triples -> the tidy failed-elements table."""
    return pd.DataFrame(list(rows), columns=KEY)
