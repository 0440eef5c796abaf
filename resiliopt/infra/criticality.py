r"""Criticality: N-1 ranking, worst N-k sets (interdiction MILP), single points of failure.

All three measure *served demand lost* with the ``served`` variant of the served-demand LP
(:mod:`resiliopt.formulations.infra_flow`): the weighted served demand
:math:`\sum_i \omega_i s_i`, by default :math:`\omega_i = 1/\text{layer demand}`, so a value is a
sum of per-layer served shares ("layer-equivalents": 1.0 = one whole layer's demand).

* :func:`n_minus_1`: every element (or every node / link) fails alone; the LP is built once
  and only column bounds change between solves (HiGHS warm-starts from the previous basis).
  Ranked by the weighted loss; per-layer share lost and the population at nodes left unserved
  (population x unserved share of the node) beside it.
* :func:`n_minus_k`: the interdiction MILP of :mod:`resiliopt.formulations.infra_interdiction`
  (exact: bounded duals); the chosen set is re-solved with the LP and must give the MILP's value.
  :func:`brute_force` enumerates every set of size <= k (the test oracle).
* :func:`single_points_of_failure`: on the dependency-aware graph, element :math:`v` is a single
  point of failure of demand node :math:`d` if every path from a supply node of :math:`d`'s layer
  to :math:`d` passes through :math:`v` (a dominator, links included as graph vertices), or
  :math:`d` or one of those dominators depends, directly or not, on :math:`v` (dependency
  closure, losses 1). Its failure alone leaves :math:`d` with nothing (tested against N-1 LPs).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from resiliopt._stdout import quiet_stdout
from resiliopt.case.infra import KEY, InfraCase
from resiliopt.errors import InputError, SolveError
from resiliopt.formulations.infra_flow import InfraFlow
from resiliopt.formulations.infra_interdiction import (
    build_interdiction_model,
    chosen,
    dependency_closure,
    weighted_demand,
)
from resiliopt.solvers.highs import PyomoHighs


def candidate_elements(case: InfraCase, candidates: str) -> pd.DataFrame:
    """The elements that may fail: ``all``, ``nodes`` or ``links`` (kind, layer, element, ...)."""
    if candidates not in ("all", "nodes", "links"):
        raise InputError(
            f"candidates must be all, nodes or links (got {candidates!r})", location="--candidates"
        )
    el = case.elements()
    if candidates == "nodes":
        return el[el["kind"] == "node"].reset_index(drop=True)
    if candidates == "links":
        return el[el["kind"] == "link"].reset_index(drop=True)
    return el


def n_minus_1(
    case: InfraCase,
    candidates: str = "all",
    weights: str = "share",
    progress=None,
    flow: InfraFlow | None = None,
    certify_top: int = 0,
) -> pd.DataFrame:
    """Served demand lost when each element fails alone; one row per element, ranked.

    Columns: rank, kind, layer, element, loss (weighted), loss_<layer> (share of that layer's
    demand), population_unserved, x, y (the node's or the link's midpoint coordinates), and
    ``certified``: for the first ``certify_top`` ranks the failure is solved again with both
    certificates (True = both passed and the loss is reproduced; None = not checked)."""
    flow = flow or InfraFlow(case, objective="served", weights=weights)
    el = candidate_elements(case, candidates)
    nn, nl = len(case.nodes), len(case.links)
    none_n, none_l = np.zeros(nn, bool), np.zeros(nl, bool)
    flow.set_failed(none_n, none_l)
    base = flow.run()
    base_share = flow.layer_served_share()
    base_unmet_pop = _unserved_population(case, flow)
    layers = list(case.layers["layer"])
    nix = pd.MultiIndex.from_frame(case.nodes[["layer", "node"]])
    lix = pd.MultiIndex.from_frame(case.links[["layer", "link"]])
    rows = []
    for r in el.itertuples(index=False):
        fn, fl = none_n.copy(), none_l.copy()
        if r.kind == "node":
            fn[nix.get_loc((r.layer, r.element))] = True
        else:
            fl[lix.get_loc((r.layer, r.element))] = True
        flow.set_failed(fn, fl)
        obj = flow.run()
        share = flow.layer_served_share()
        rows.append((obj - base, *(base_share - share), _unserved_population(case, flow) - base_unmet_pop))
        if progress is not None:
            progress()
    flow.set_failed(none_n, none_l)
    cols = ["loss", *[f"loss_{lay}" for lay in layers], "population_unserved"]
    out = pd.concat([el.reset_index(drop=True), pd.DataFrame(rows, columns=cols)], axis=1)
    out[cols] = out[cols].clip(lower=0.0).where(out[cols].abs() > 1e-9, 0.0)
    out = out.join(element_coordinates(case).set_index(KEY), on=KEY)
    out = out.sort_values(
        ["loss", "kind", "layer", "element"], ascending=[False, True, True, True], kind="stable"
    )
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out = out.reset_index(drop=True)
    cert: list[bool | None] = [None] * len(out)
    for k in range(min(certify_top, len(out))):
        r = out.iloc[k]
        res = flow.solve([(r["kind"], r["layer"], r["element"])])
        cert[k] = bool(res.certificate.passed and res.input_certificate.passed)
        if abs((res.objective - base) - r["loss"]) > 1e-7 * (1 + abs(base)):
            cert[k] = False
    flow.set_failed(none_n, none_l)
    out["certified"] = pd.Series(cert, dtype=object)
    return out


def _unserved_population(case: InfraCase, flow: InfraFlow) -> float:
    """Population x unserved share of each demand node, summed (from the last solve)."""
    x = np.asarray(flow.h.getSolution().col_value, float)
    flow.layer_served_share()  # builds the demand-node column maps
    b = case.nodes["demand"].to_numpy(float)
    pop = case.nodes["population"].to_numpy(float)[b < 0]
    return float((pop * x[flow._unmet_cols] / -b[b < 0]).sum())


def element_coordinates(case: InfraCase) -> pd.DataFrame:
    """kind, layer, element, x, y: node coordinates, link midpoints (NaN where unknown)."""
    nd = case.nodes[["layer", "node", "x", "y"]]
    n = pd.DataFrame(
        {"kind": "node", "layer": nd["layer"], "element": nd["node"], "x": nd["x"], "y": nd["y"]}
    )
    xy = nd.set_index(["layer", "node"])[["x", "y"]]
    lk = case.links
    a = xy.reindex(pd.MultiIndex.from_arrays([lk["layer"], lk["from"]])).to_numpy()
    b = xy.reindex(pd.MultiIndex.from_arrays([lk["layer"], lk["to"]])).to_numpy()
    mid = (a + b) / 2
    lt = pd.DataFrame(
        {"kind": "link", "layer": lk["layer"], "element": lk["link"], "x": mid[:, 0], "y": mid[:, 1]}
    )
    return pd.concat([n, lt], ignore_index=True)


@dataclass
class NkResult:
    k: int
    failed: pd.DataFrame  # kind, layer, element
    served: float  # worst weighted served demand (MILP objective)
    base: float  # weighted served demand with nothing failed
    lp_check: float  # the LP re-solved under the chosen set
    mip_gap: float
    status: str
    certified: bool = False  # the LP re-solve passed both certificates

    @property
    def loss(self) -> float:
        return self.base - self.served

    def to_dict(self) -> dict:
        return {
            "k": self.k,
            "failed": self.failed.to_dict("records"),
            "served": self.served,
            "base": self.base,
            "loss": self.loss,
            "lp_check": self.lp_check,
            "mip_gap": self.mip_gap,
            "status": self.status,
            "certified": self.certified,
        }


def n_minus_k(
    case: InfraCase, k: int, candidates: str = "all", weights: str = "share", time_limit: float | None = None
) -> NkResult:
    """The worst set of at most k failures by the interdiction MILP, checked by the LP."""

    m = build_interdiction_model(case, k, candidates, weights)
    with quiet_stdout():  # HiGHS's banner must not break --json
        opt = PyomoHighs(time_limit=time_limit, options={"mip_rel_gap": 0.0, "mip_abs_gap": 1e-10})
        sol = opt.solve(m, certificate=False)
    if sol.status != "optimal":
        raise SolveError(
            f"the N-{k} interdiction MILP was not solved to optimality: {sol.status}", sol.status
        )
    failed = chosen(m)
    total = weighted_demand(case, weights)
    flow = InfraFlow(case, objective="served", weights=weights)
    base = total - flow.objective_under(None)
    res = flow.solve(failed)
    check = total - res.objective
    if abs(check - sol.objective) > 1e-6 * (1 + abs(check)):
        raise SolveError(
            f"N-{k}: the MILP's value {sol.objective:.10g} differs from the LP under its set {check:.10g}",
            "error",
        )
    certified = bool(res.certificate.passed and res.input_certificate.passed)
    # HiGHS ran with mip_rel_gap = 0 and mip_abs_gap = 1e-10: an optimal status is a proven optimum
    return NkResult(k, failed, float(sol.objective), base, check, 0.0, "optimal", certified)


def brute_force(
    case: InfraCase, k: int, candidates: str = "all", weights: str = "share"
) -> tuple[float, list]:
    """min over every set of at most k candidates of the weighted served demand (LP each)."""
    el = list(candidate_elements(case, candidates).itertuples(index=False, name=None))
    flow = InfraFlow(case, objective="served", weights=weights)
    total = weighted_demand(case, weights)
    best, best_set = total - flow.objective_under(None), []
    for size in range(1, k + 1):
        for combo in itertools.combinations(el, size):
            v = total - flow.objective_under(list(combo))
            if v < best - 1e-9:
                best, best_set = v, list(combo)
    return best, best_set


# --------------------------------------------------------------------------- SPOF
def dependency_aware_graph(case: InfraCase) -> nx.DiGraph:
    """Directed graph: vertices ('node', layer, id) and ('link', layer, id); each link joins its
    ends through its own vertex (both ways if two-way); a source per layer feeds its supply nodes."""
    g = nx.DiGraph()
    for layer, node in zip(case.nodes["layer"], case.nodes["node"], strict=True):
        g.add_node(("node", layer, node))
    lk = case.links
    for layer, link, f, t, two in zip(
        lk["layer"], lk["link"], lk["from"], lk["to"], lk["two_way"], strict=True
    ):
        lv, a, b = ("link", layer, link), ("node", layer, f), ("node", layer, t)
        g.add_edge(a, lv)
        g.add_edge(lv, b)
        if two:
            g.add_edge(b, lv)
            g.add_edge(lv, a)
    for layer, node, d in zip(case.nodes["layer"], case.nodes["node"], case.nodes["demand"], strict=True):
        if d > 0:
            g.add_edge(("source", layer, ""), ("node", layer, node))
    return g


def single_points_of_failure(case: InfraCase) -> pd.DataFrame:
    """Every element that alone cuts some demand node off completely, with what it cuts.

    Columns: kind, layer, element, demand_nodes (how many demand nodes it cuts, itself excluded),
    demand_cut (weighted share, layer-equivalents), population_cut, cut (the nodes, ';'-joined)."""
    g = dependency_aware_graph(case)
    closure = dependency_closure(case)
    ancestors: dict[tuple, set[tuple]] = {}
    for src, members in closure.items():
        for j in members:
            ancestors.setdefault(j, set()).add(src)
    nodes = case.nodes.set_index(["layer", "node"])
    dem = nodes[nodes["demand"] < 0]
    total = (-nodes["demand"]).clip(lower=0).groupby(level="layer").sum()
    doms: dict[str, dict] = {}
    for layer in case.layers["layer"]:
        src = ("source", layer, "")
        if src in g:
            doms[layer] = nx.immediate_dominators(g, src)
    cut: dict[tuple, list[tuple]] = {}
    for layer, node in dem.index:
        d = ("node", layer, node)
        idom = doms.get(layer, {})
        if d not in idom:  # unreachable from any supply even intact: no single point to blame
            continue
        chain, v = [], d
        while v in idom and idom[v] != v:
            chain.append(v)
            v = idom[v]
        spof = set()
        for v in chain:
            spof.add(v)
            if v[0] == "node":
                spof |= {("node", *a) for a in ancestors.get(v[1:], ())}
        spof.discard(d)
        for v in spof:
            cut.setdefault(v, []).append((layer, node))
    rows = []
    for v, cuts in cut.items():
        share = sum(-nodes.at[c, "demand"] / total[c[0]] for c in cuts)
        pop = sum(nodes.at[c, "population"] for c in cuts)
        rows.append(
            (v[0], v[1], v[2], len(cuts), share, pop, ";".join(f"{c[0]}:{c[1]}" for c in sorted(cuts)))
        )
    out = pd.DataFrame(rows, columns=[*KEY, "demand_nodes", "demand_cut", "population_cut", "cut"])
    return out.sort_values(["demand_cut", *KEY], ascending=[False, True, True, True]).reset_index(drop=True)
