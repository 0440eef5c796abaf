r"""An input-level certificate of the served-demand LP: it reads the INPUT, not the model.

:func:`certify_flow` takes the problem from the case tables and the damage given, and only the
candidate numbers from the solution:

* from the case (:class:`~resiliopt.case.infra.InfraCase`): nodes and their demand/supply
  :math:`b`, penalties :math:`M^\pm`; links, their ends, capacity :math:`u`, flow cost
  :math:`c`, ``two_way`` (which arcs exist); the dependency rules
  :math:`(i \to j, \ell_{ij})`; the served-objective weights :math:`\omega` (recomputed here);
* from the damage given by the caller (the failed table: kind, layer, element): which nodes
  and links failed (:math:`f = 1`), never the solution's ``failed`` column;
* from the solution (:class:`~resiliopt.formulations.infra_flow.FlowResult`): the flows per link
  and direction, node functionality :math:`w`, unused supply :math:`\delta^+`, unmet demand
  :math:`\delta^-`, the reported served demand, layer totals and objective, and the row duals
  (node prices :math:`\pi`, arc-end duals :math:`\mu, \nu`, function-row duals
  :math:`\eta, \kappa`, dependency duals :math:`\lambda`), keyed by the input's own ids.

It imports neither the model builder (:mod:`resiliopt.formulations.infra_flow`), nor the matrix
reader, nor Pyomo (a test checks it). A row the model left out has no dual in the solution: it
is taken as 0 (then the primal checks see whether the solution keeps the rule; if it does, the
solution is optimal for the input's problem too).

Checks (each a relative number; the certificate passes when every one is at most ``tol`` and
there is no problem):

* ``conservation``: :math:`\max_i |\sum_{(i,j)} x_{ij} - \sum_{(j,i)} x_{ji} + \delta^+_i -
  \delta^-_i - b_i| / (1 + |b_i| + \text{in}_i + \text{out}_i)` at every node of the case;
* ``bounds``: :math:`0 \le x_a \le u_e (1 - f_e)` relative to :math:`1 + u_e` (a flow on the
  backward direction of a one-way link counts as a violation); :math:`0 \le w_i \le 1 - f_i`
  (absolute, a share); :math:`0 \le \delta^+_i \le \max(b_i, 0)`,
  :math:`0 \le \delta^-_i \le \max(-b_i, 0)` relative to :math:`1 + |b_i|`;
* ``rows``: arc ends :math:`x_{ij} \le u_e w_i`, :math:`x_{ij} \le u_e w_j` (relative to
  :math:`1 + u_e`); function rows :math:`\delta^+_i \ge b_i (1 - w_i)`,
  :math:`\delta^-_i \ge -b_i (1 - w_i)` (relative to :math:`1 + |b_i|`);
* ``dependency``: the rule :math:`w_j \le 1 - \ell_{ij}(1 - w_i)` of every dependency of the
  case (absolute: shares). With :math:`\ell = 1`, a depender works only while its dependee works;
* ``failed_carry``: failed elements carry nothing: no flow on a failed link or on a link at a
  failed node (relative to :math:`1 + u_e`), no supply used or demand served at a failed node
  (relative to :math:`1 + |b_i|`);
* ``reported``: the solution's own summaries against the numbers recomputed here: served
  :math:`-b_i - \delta^-_i` and supply used :math:`b_i - \delta^+_i` per node (relative to
  :math:`1 + |b_i|`), demand, served and unserved per layer (relative to 1 + the layer's
  demand); the solution's ``failed`` flags against the damage given (a mismatch is a problem);
* ``objective_mismatch``: the reported objective against
  :math:`c^\top x + M^{+\top}\delta^+ + M^{-\top}\delta^-` recomputed from the case data,
  relative to :math:`1 + |\text{obj}|`;
* ``dual_sign``: :math:`\mu, \nu, \lambda \le 0` (``<=`` rows) and :math:`\eta, \kappa \ge 0`
  (``>=`` rows), in the shadow-price convention of a minimisation, relative to
  :math:`1 + \max(|c|, M^+, M^-)`;
* ``gap``: :math:`|\text{obj} - D| / (1 + |\text{obj}|)` with the dual objective
  :math:`D = \pi^\top b + \sum_{S^+} \eta_i b_i - \sum_{S^-} \kappa_i b_i + \sum_D \lambda_d (1 -
  \ell_d) + \sum_j \min(d_j, 0)\,\text{ub}_j`, the reduced costs :math:`d_j` recomputed from the
  input coefficients (every column has lower bound 0 and a finite upper bound
  :math:`\text{ub}_j`, so each reduced cost is paired with the bound it prices);
* ``problems``: what makes the check impossible, each a sentence: a failed element the case
  lacks, an element of the case with no value in the solution, a value for an element or a
  dependency the case lacks, a non-finite number, ``failed`` flags that disagree with the damage.

Why this proves optimality: every column is bounded on both sides, so any row duals with the
right signs give a dual-feasible point whose objective :math:`D` bounds every feasible
objective from below (weak duality); a solution feasible for the input's problem (the primal
checks) whose objective equals :math:`D` (the gap) is optimal. ``complementary_slackness`` (the
total of the slackness terms, relative to :math:`1 + |\text{obj}|`) is reported for diagnosis.

What it does not prove: that the damage given is the right one (that is the caller's input);
optimality beyond the tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from resiliopt.case.infra_reach import failed_sets

TOL = 1e-7

#: the checks that decide ``passed`` (besides ``problems``)
CHECKS = (
    "conservation",
    "bounds",
    "rows",
    "dependency",
    "failed_carry",
    "reported",
    "objective_mismatch",
    "dual_sign",
    "gap",
)


@dataclass(frozen=True)
class FlowCertificate:
    """The outcome of :func:`certify_flow` (numbers are relative, see the module docstring)."""

    conservation: float
    bounds: float
    rows: float
    dependency: float
    failed_carry: float
    reported: float
    objective_mismatch: float
    dual_sign: float
    gap: float
    complementary_slackness: float
    primal_objective: float
    dual_objective: float
    tol: float = TOL
    worst: str = ""
    problems: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        vals = [getattr(self, c) for c in CHECKS]
        return not self.problems and all(math.isfinite(v) and v <= self.tol for v in vals)

    def to_dict(self) -> dict:
        """The numbers (floats; strict JSON writes a non-finite one as null), ``tol`` and
        ``passed``; :meth:`details` adds where the worst violation is and the problems."""
        keys = (*CHECKS, "complementary_slackness", "primal_objective", "dual_objective")
        return {**{k: float(getattr(self, k)) for k in keys}, "tol": self.tol, "passed": self.passed}

    def details(self) -> dict:
        """:meth:`to_dict` with where the worst violation is and the problems (for JSON)."""
        return {**self.to_dict(), "worst": self.worst, "problems": list(self.problems)}


def _weights(case, weights: str) -> pd.Series:
    """omega_i (index layer, node), recomputed from the case: share (1 / layer demand), unit, penalty."""
    nd = case.nodes.set_index(["layer", "node"])
    dem = (-nd["demand"].astype(float)).clip(lower=0)
    if weights == "unit":
        w = pd.Series(1.0, index=nd.index)
    elif weights == "penalty":
        w = nd["unmet_penalty"].astype(float)
    elif weights == "share":
        tot = dem.groupby(level=0).sum()
        w = pd.Series(
            [1.0 / tot[lay] if tot[lay] > 0 else 0.0 for lay in nd.index.get_level_values(0)], nd.index
        )
    else:
        raise ValueError(f"unknown weights {weights!r}")
    return w.where(dem > 0, 0.0)


def _values(frame: pd.DataFrame, keys: list[str], index: pd.MultiIndex, what: str, problems: list[str]):
    """``frame`` indexed by its key columns and aligned to the case's ``index``: rows the case
    lacks, and case elements the solution lacks, are problems."""
    f = frame.set_index(keys)
    extra = f.index.difference(index)
    if len(extra):
        problems.append(f"the solution has {what} {extra[0]!r}, which the case lacks ({len(extra)} in all)")
    if f.index.has_duplicates:
        problems.append(f"the solution gives {what} {f.index[f.index.duplicated()][0]!r} twice")
        f = f[~f.index.duplicated()]
    missing = index.difference(f.index)
    if len(missing):
        problems.append(f"the solution has no values for {what} {missing[0]!r} ({len(missing)} in all)")
    return f.reindex(index)


def _num(col: pd.Series, what: str, problems: list[str]) -> np.ndarray:
    a = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(a).all():
        k = int(np.flatnonzero(~np.isfinite(a))[0])
        problems.append(f"{what} of {col.index[k]!r} is missing or not finite")
        a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
    return a


def certify_flow(
    case, failed, res, objective: str = "cost", weights: str = "share", tol: float = TOL
) -> FlowCertificate:
    """Check a served-demand solution ``res`` against the case tables and the damage ``failed``.

    ``failed``: the failed elements given to the solve (a DataFrame kind, layer, element, or
    triples, or None). ``res``: anything with the tables of a
    :class:`~resiliopt.formulations.infra_flow.FlowResult` (``nodes``, ``links``, ``arcs``,
    ``dependencies``, ``layers``, ``objective``).
    """
    problems: list[str] = []
    fn_set, fl_set, unknown = failed_sets(case, failed)
    problems += [f"the damage names {u}, which the case lacks" for u in unknown]

    # ---- the problem, from the case tables
    nodes, links, deps = case.nodes, case.links, case.dependencies
    nix = pd.MultiIndex.from_arrays([nodes["layer"].astype(str), nodes["node"].astype(str)])
    lix = pd.MultiIndex.from_arrays([links["layer"].astype(str), links["link"].astype(str)])
    pos = {k: i for i, k in enumerate(nix)}
    n = len(nix)
    b = nodes["demand"].to_numpy(dtype=float)
    fn = np.array([k in fn_set for k in nix], dtype=bool)
    fl_link = np.array([k in fl_set for k in lix], dtype=bool)
    if objective == "cost":
        mp = nodes["oversupply_penalty"].to_numpy(dtype=float)
        mm = nodes["unmet_penalty"].to_numpy(dtype=float)
    elif objective == "served":
        mp = np.zeros(n)
        mm = _weights(case, weights).reindex(nix).to_numpy(dtype=float)
    else:
        raise ValueError(f"unknown objective {objective!r}")
    lay = links["layer"].astype(str).to_numpy()
    fwd_t = np.array([pos[(la, str(v))] for la, v in zip(lay, links["from"], strict=True)], dtype=np.int64)
    fwd_h = np.array([pos[(la, str(v))] for la, v in zip(lay, links["to"], strict=True)], dtype=np.int64)
    two = links["two_way"].to_numpy(dtype=bool)
    cap = links["capacity"].to_numpy(dtype=float)
    cost = links["flow_cost"].to_numpy(dtype=float) if objective == "cost" else np.zeros(len(links))
    # arcs: every link forward, two-way links backward too
    back = np.flatnonzero(two)
    a_link = np.r_[np.arange(len(links)), back]
    a_dir = np.array(["+"] * len(links) + ["-"] * len(back))
    tail = np.r_[fwd_t, fwd_h[back]]
    head = np.r_[fwd_h, fwd_t[back]]
    u, c = cap[a_link], cost[a_link]
    hi_x = np.where(fl_link[a_link], 0.0, u)
    dead = fl_link[a_link] | fn[tail] | fn[head]

    # ---- the candidate solution, by the input's ids
    sn = _values(
        res.nodes.assign(layer=res.nodes["layer"].astype(str), element=res.nodes["element"].astype(str)),
        ["layer", "element"],
        nix,
        "node",
        problems,
    )
    sl = _values(
        res.links.assign(layer=res.links["layer"].astype(str), link=res.links["link"].astype(str)),
        ["layer", "link"],
        lix,
        "link",
        problems,
    )
    w = _num(sn["functionality"], "functionality", problems)
    dplus = _num(sn["unused_supply"], "unused supply", problems)
    dminus = _num(sn["unserved"], "unserved demand", problems)
    pi = _num(sn["price"], "price", problems)
    fdual = _num(sn["function_dual"], "function-row dual", problems)
    xf = _num(sl["flow_forward"], "forward flow", problems)
    xb = _num(sl["flow_backward"], "backward flow", problems)
    x = np.r_[xf, xb[back]]
    one_way_back = np.abs(xb[~two])  # flow on an arc the input does not have
    rep_failed_n = sn["failed"].fillna(False).astype(bool).to_numpy()
    rep_failed_l = sl["failed"].fillna(False).astype(bool).to_numpy()
    if (rep_failed_n != fn).any() or (rep_failed_l != fl_link).any():
        k = np.flatnonzero(rep_failed_n != fn)
        el = f"node {nix[k[0]]!r}" if len(k) else f"link {lix[np.flatnonzero(rep_failed_l != fl_link)[0]]!r}"
        problems.append(f"the solution's failed flags disagree with the damage given (first: {el})")
    aix = pd.MultiIndex.from_arrays([lay[a_link], links["link"].astype(str).to_numpy()[a_link], a_dir])
    arcs = res.arcs.assign(layer=res.arcs["layer"].astype(str), link=res.arcs["link"].astype(str))
    sa = arcs.set_index(["layer", "link", "dir"])
    sa = sa[~sa.index.duplicated()]
    if len(sa.index.difference(aix)):
        problems.append(f"the solution has arc {sa.index.difference(aix)[0]!r}, which the case lacks")
    sa = sa.reindex(aix)  # an arc the model lacks: duals 0 (its flow is checked above)
    mu = np.nan_to_num(sa["end_from_dual"].to_numpy(dtype=float))
    nu = np.nan_to_num(sa["end_to_dual"].to_numpy(dtype=float))
    dkey = ["dependee_layer", "dependee", "depender_layer", "depender"]
    dix = pd.MultiIndex.from_frame(deps[dkey].astype(str))
    sd = res.dependencies.assign(**{k: res.dependencies[k].astype(str) for k in dkey}).set_index(dkey)
    if len(sd.index.difference(dix)):
        problems.append(
            f"the solution has a dual for dependency {sd.index.difference(dix)[0]!r}, not in the case"
        )
    sd = sd[~sd.index.duplicated()]
    lam = np.nan_to_num(sd["dual"].reindex(dix).to_numpy(dtype=float)) if "dual" in sd else np.zeros(len(dix))
    ee = np.array(
        [pos[(la, str(v))] for la, v in zip(dix.get_level_values(0), dix.get_level_values(1), strict=True)],
        dtype=np.int64,
    )
    er = np.array(
        [pos[(la, str(v))] for la, v in zip(dix.get_level_values(2), dix.get_level_values(3), strict=True)],
        dtype=np.int64,
    )
    loss = deps["loss"].to_numpy(dtype=float)
    sup, dem = b > 0, b < 0
    bpos, bneg = np.maximum(b, 0.0), np.maximum(-b, 0.0)
    bs = 1.0 + np.abs(b)
    us = 1.0 + u

    # ---- primal checks
    out_f = np.bincount(tail, weights=x, minlength=n)
    in_f = np.bincount(head, weights=x, minlength=n)
    thru = np.bincount(tail, weights=np.abs(x), minlength=n) + np.bincount(
        head, weights=np.abs(x), minlength=n
    )
    resid = out_f - in_f + dplus - dminus - b
    cons = np.abs(resid) / (bs + thru)
    m: dict[str, tuple[float, str]] = {}

    def worst(name: str, v: np.ndarray, label) -> None:
        if len(v) == 0:
            m[name] = (0.0, "")
            return
        k = int(np.argmax(v))
        m[name] = (max(0.0, float(v[k])), label(k))

    def node_at(k: int) -> str:
        return f"node {nix[k][0]}:{nix[k][1]}"

    def arc_at(k: int) -> str:
        return f"link {aix[k][0]}:{aix[k][1]} ({aix[k][2]})"

    worst("conservation", cons, node_at)
    bx = np.maximum(-x, x - hi_x) / us
    worst(
        "bounds",
        np.r_[
            bx,
            one_way_back / (1.0 + cap[~two]),
            np.maximum(-w, w - np.where(fn, 0.0, 1.0)),
            np.maximum(-dplus, dplus - bpos) / bs,
            np.maximum(-dminus, dminus - bneg) / bs,
        ],
        lambda k: arc_at(k) if k < len(x) else "a one-way link, a node's w, unused or unmet",
    )
    rows_v = np.r_[
        (x - u * w[tail]) / us,
        (x - u * w[head]) / us,
        np.where(sup, bpos * (1 - w) - dplus, 0.0) / bs,
        np.where(dem, bneg * (1 - w) - dminus, 0.0) / bs,
    ]
    worst("rows", rows_v, lambda k: arc_at(k % len(x)) if k < 2 * len(x) else node_at((k - 2 * len(x)) % n))
    dep_v = w[er] - (1.0 - loss * (1.0 - w[ee]))
    worst("dependency", dep_v, lambda k: f"{node_at(er[k])} depends on {node_at(ee[k])}")
    carry = np.r_[
        np.where(dead, np.abs(x), 0.0) / us,
        np.where(fn & sup, np.abs(b - dplus), 0.0) / bs,
        np.where(fn & dem, np.abs(-b - dminus), 0.0) / bs,
    ]
    worst("failed_carry", carry, lambda k: arc_at(k) if k < len(x) else node_at((k - len(x)) % n))

    # ---- the solution's own summaries
    served = np.where(dem, -b - dminus, 0.0)
    used = np.where(sup, b - dplus, 0.0)
    rep = np.r_[
        np.abs(_num(sn["served"], "served", problems) - served) / bs,
        np.abs(_num(sn["supply_used"], "supply used", problems) - used) / bs,
    ]
    layer_of = nix.get_level_values(0)
    want = (
        pd.DataFrame({"demand": bneg, "served": served, "unserved": np.where(dem, dminus, 0.0)})
        .groupby(np.asarray(layer_of))
        .sum()
        .reindex(case.layers["layer"].astype(str))
        .fillna(0.0)
    )
    got = res.layers.assign(layer=res.layers["layer"].astype(str)).set_index("layer")
    got = got[~got.index.duplicated()].reindex(want.index)
    lay_v = (got[["demand", "served", "unserved"]].to_numpy(dtype=float) - want.to_numpy()) / (
        1.0 + want[["demand"]].to_numpy()
    )
    lay_v = np.where(np.isfinite(lay_v), np.abs(lay_v), np.inf)
    worst(
        "reported",
        np.r_[rep, lay_v.max(axis=1)],
        lambda k: node_at(k % n) if k < 2 * n else f"layer {want.index[k - 2 * n]}",
    )
    primal = float(c @ x + mp @ dplus + mm @ dminus)
    rel = 1.0 + abs(primal)
    reported = float(res.objective)
    mism = abs(reported - primal) / rel if math.isfinite(reported) else math.inf

    # ---- dual checks: signs, reduced costs from the input coefficients, the dual objective
    eta = np.where(sup, fdual, 0.0)
    kappa = np.where(dem, fdual, 0.0)
    cmax = 1.0 + float(np.abs(np.r_[c, mp, mm]).max(initial=0.0))
    sign = np.r_[mu, nu, lam, -eta, -kappa] / cmax
    worst("dual_sign", sign, lambda k: "a row dual")
    rc_x = c - pi[tail] + pi[head] - mu - nu
    rc_p = np.where(sup, mp - pi - eta, 0.0)
    rc_m = np.where(dem, mm + pi - kappa, 0.0)
    rc_w = (
        np.bincount(tail, weights=u * mu, minlength=n)
        + np.bincount(head, weights=u * nu, minlength=n)
        - b * eta
        + b * kappa
        - np.bincount(er, weights=lam, minlength=n)
        + np.bincount(ee, weights=loss * lam, minlength=n)
    )
    hi_w = np.where(fn, 0.0, 1.0)
    dual = (
        float(pi @ b + eta @ bpos + kappa @ bneg + lam @ (1.0 - loss))
        + float(np.minimum(rc_x, 0) @ hi_x + np.minimum(rc_p, 0) @ bpos + np.minimum(rc_m, 0) @ bneg)
        + float(np.minimum(rc_w, 0) @ hi_w)
    )
    gap = abs(primal - dual) / rel

    def slack(d: np.ndarray, v: np.ndarray, hi: np.ndarray) -> float:
        return float(np.where(d > 0, d * v, -d * (hi - v)).sum())

    cs = (
        slack(rc_x, x, hi_x)
        + slack(rc_p, dplus, bpos)
        + slack(rc_m, dminus, bneg)
        + slack(rc_w, w, hi_w)
        + float(np.abs(mu) @ (u * w[tail] - x) + np.abs(nu) @ (u * w[head] - x))
        + float(np.abs(eta) @ (dplus - bpos * (1 - w)) + np.abs(kappa) @ (dminus - bneg * (1 - w)))
        + float(np.abs(lam) @ (1.0 - loss * (1.0 - w[ee]) - w[er]))
    )
    vals = {k: v for k, (v, _) in m.items()}
    vals["objective_mismatch"] = mism
    vals["gap"] = gap
    bad = [k for k in CHECKS if not (math.isfinite(vals[k]) and vals[k] <= tol)]
    where = ""
    if bad:
        k = max(bad, key=lambda k: vals[k] if math.isfinite(vals[k]) else math.inf)
        where = f"{k}: {m[k][1]}" if k in m and m[k][1] else k
    return FlowCertificate(
        conservation=vals["conservation"],
        bounds=vals["bounds"],
        rows=vals["rows"],
        dependency=vals["dependency"],
        failed_carry=vals["failed_carry"],
        reported=vals["reported"],
        objective_mismatch=mism,
        dual_sign=vals["dual_sign"],
        gap=gap,
        complementary_slackness=abs(cs) / rel,
        primal_objective=primal,
        dual_objective=dual,
        tol=tol,
        worst=where,
        problems=tuple(problems),
    )
