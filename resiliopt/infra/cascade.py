r"""Cascades of failures through dependencies, and the inoperability input-output model (IIM).

**Element cascade.** Start from the failed set :math:`F` (round 0). Node functionality
:math:`w \in [0, 1]` follows the dependency rows of the served-demand LP
(:mod:`resiliopt.formulations.infra_flow`): in round :math:`r+1`

.. math::

    w_j^{(r+1)} = \min\Big(1 - f_j,\; \min_{(i \to j, \ell_{ij}) \in D} 1 - \ell_{ij}\,(1 - w_i^{(r)})\Big),

and a link works at :math:`\min(1 - f_e, w_{\text{from}}, w_{\text{to}})` (an arc carries flow only
while both its ends work). Every element whose functionality drops in a round is one row of the
tidy ``rounds`` table (round, kind, layer, element, functionality, cause). The iteration is
monotone (functionalities only fall) and reaches the greatest fixed point in at most
:math:`|N|` rounds (a value is set by the best path from a failed node; going round a cycle can
only raise it since :math:`1 - \ell (1 - w) \ge w`). That fixed point is the largest
functionality the LP's dependency rows allow, so with every loss 1 the LP under :math:`F` and
the LP under the final failed set (without any dependency) serve the same demand (tested).

A depender needs its dependee to *work* (its functionality), not to be *served*: a water pump
whose substation works but receives no power still counts as working. This is the INDP's
reading of :math:`\gamma` (Gonzalez et al. 2016), where :math:`w` is the node's state.

**IIM** (Haimes & Jiang 2001, Leontief-based inoperability input-output model): sector
inoperabilities :math:`q \in [0,1]^K` solve :math:`q = A q + c^*`, i.e.
:math:`q = (I - A)^{-1} c^*`, where :math:`a_{kl}` is the inoperability of sector :math:`k`
caused by a unit inoperability of sector :math:`l` and :math:`c^*` the direct (demand-side)
perturbation. A solution exists and is nonnegative when the spectral radius of :math:`A` is
below 1 (refused otherwise). :func:`layer_interdependency_matrix` derives :math:`A` for the
layers of a case from the served-demand LP *without* dependency rows (direct effects only):
:math:`a_{kl}` is the share of layer :math:`k`'s demand left unserved when every node of
:math:`k` that depends on layer :math:`l` works only at :math:`1 - \ell` (all of :math:`l`
down), applied proportionally to :math:`q_l` (the IIM's linearity); :math:`c^*_k` is the share
of layer :math:`k`'s demand lost under the damage by the same LP (all shares against the intact
case). In both Shelby cases power and telecom depend on each other fully, so the spectral radius
of :math:`A` exceeds 1 and the linear IIM has no meaningful solution: :func:`case_iim` solves the
bounded IIM :math:`q = \min(1, A q + c^*)` (least fixed point) and puts :math:`q` beside the
share lost by the full LP with dependencies (``lp_lost``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from resiliopt.case.infra import KEY, InfraCase
from resiliopt.errors import InputError
from resiliopt.formulations.infra_flow import InfraFlow

EPS = 1e-12


@dataclass
class CascadeResult:
    """``rounds``: round, kind, layer, element, functionality, cause_layer, cause (tidy, one row per
    drop). ``final``: every element with its final functionality, ``failed`` (functionality 0),
    ``round`` of its last drop (-1 = never dropped)."""

    rounds: pd.DataFrame
    final: pd.DataFrame
    n_rounds: int

    @property
    def failed(self) -> pd.DataFrame:
        """The final failed set: (kind, layer, element) with functionality 0."""
        return self.final.loc[self.final["failed"], KEY].reset_index(drop=True)

    def to_dict(self) -> dict:
        return {
            "rounds": self.n_rounds,
            "initially_failed": int((self.rounds["round"] == 0).sum()),
            "finally_failed": int(self.final["failed"].sum()),
            "partially_working": int(((self.final["functionality"] < 1) & ~self.final["failed"]).sum()),
            "per_round": self.rounds.groupby("round").size().astype(int).to_dict(),
        }


def cascade(case: InfraCase, failed: pd.DataFrame | None) -> CascadeResult:
    """Propagate ``failed`` (kind, layer, element) through dependencies and link ends."""
    nodes, links, dep = case.nodes, case.links, case.dependencies
    nix = pd.MultiIndex.from_frame(nodes[["layer", "node"]])
    lix = pd.MultiIndex.from_frame(links[["layer", "link"]])
    fn = np.zeros(len(nix), bool)
    fl = np.zeros(len(lix), bool)
    if failed is not None and len(failed):
        for kind, idx, mask in (("node", nix, fn), ("link", lix, fl)):
            sub = failed[failed["kind"] == kind]
            k = idx.get_indexer(pd.MultiIndex.from_arrays([sub["layer"], sub["element"].astype(str)]))
            if (k < 0).any():
                bad = sub.iloc[int(np.flatnonzero(k < 0)[0])]
                raise InputError(
                    f"{kind} {bad['element']!r} is not in layer {bad['layer']!r}", case.path, "failed"
                )
            mask[k] = True
        bad = ~failed["kind"].isin(["node", "link"])
        if bad.any():
            raise InputError(f"element kind must be node or link (got {failed['kind'][bad].iloc[0]!r})")
    ee = (
        nix.get_indexer(pd.MultiIndex.from_frame(dep[["dependee_layer", "dependee"]]))
        if len(dep)
        else np.array([], int)
    )
    er = (
        nix.get_indexer(pd.MultiIndex.from_frame(dep[["depender_layer", "depender"]]))
        if len(dep)
        else np.array([], int)
    )
    loss = dep["loss"].to_numpy(float)
    lf = nix.get_indexer(pd.MultiIndex.from_arrays([links["layer"], links["from"]]))
    lt = nix.get_indexer(pd.MultiIndex.from_arrays([links["layer"], links["to"]]))

    cap = np.where(fn, 0.0, 1.0)
    w = cap.copy()
    lw = np.where(fl, 0.0, 1.0)
    rows = []
    node_layer, node_id = nodes["layer"].to_numpy(), nodes["node"].to_numpy()
    link_layer, link_id = links["layer"].to_numpy(), links["link"].to_numpy()
    for k in np.flatnonzero(fn):
        rows.append((0, "node", node_layer[k], node_id[k], 0.0, "", ""))
    for k in np.flatnonzero(fl):
        rows.append((0, "link", link_layer[k], link_id[k], 0.0, "", ""))
    last_node = np.where(fn, 0, -1)
    last_link = np.where(fl, 0, -1)
    r = 0
    while True:
        r += 1
        new = cap.copy()
        cause = np.full(len(w), -1)
        if len(dep):
            bound = 1.0 - loss * (1.0 - w[ee])
            order = np.argsort(bound, kind="stable")[::-1]  # smallest bound written last wins
            for d in order:
                if bound[d] < new[er[d]] - EPS:
                    new[er[d]] = bound[d]
                    cause[er[d]] = d
        lnew = np.minimum(np.where(fl, 0.0, 1.0), np.minimum(new[lf], new[lt]))
        dn = np.flatnonzero(new < w - EPS)
        dl = np.flatnonzero(lnew < lw - EPS)
        if not len(dn) and not len(dl):
            break
        for k in dn:
            d = cause[k]
            rows.append(
                (
                    r,
                    "node",
                    node_layer[k],
                    node_id[k],
                    float(new[k]),
                    dep["dependee_layer"].iat[d],
                    dep["dependee"].iat[d],
                )
            )
        for k in dl:
            end = lf[k] if new[lf[k]] <= new[lt[k]] else lt[k]
            rows.append((r, "link", link_layer[k], link_id[k], float(lnew[k]), node_layer[end], node_id[end]))
        last_node[dn] = r
        last_link[dl] = r
        w, lw = new, lnew
        if r > len(w) + 2:  # cannot happen (monotone, finite); a guard against a bug looping
            raise RuntimeError("cascade did not reach a fixed point")
    cols = ["round", "kind", "layer", "element", "functionality", "cause_layer", "cause"]
    rounds = pd.DataFrame(rows, columns=cols)
    final = pd.concat(
        [
            pd.DataFrame(
                {
                    "kind": "node",
                    "layer": node_layer,
                    "element": node_id,
                    "functionality": w,
                    "round": last_node,
                }
            ),
            pd.DataFrame(
                {
                    "kind": "link",
                    "layer": link_layer,
                    "element": link_id,
                    "functionality": lw,
                    "round": last_link,
                }
            ),
        ],
        ignore_index=True,
    )
    final["failed"] = final["functionality"] <= EPS
    return CascadeResult(rounds, final, int(rounds["round"].max()) if len(rounds) else 0)


# --------------------------------------------------------------------------- IIM
def iim(a, c_star, sectors: list[str] | None = None, bounded: bool = False) -> pd.DataFrame:
    """Solve the IIM q = A q + c*; returns a table: sector, c_star, q, q_capped.

    ``bounded=True`` solves q = min(1, A q + c*) instead (the least fixed point in [0, 1], by
    monotone iteration from c*): the IIM with inoperability capped at total loss, which also
    has a solution when the spectral radius of A is >= 1 (mutual full dependence)."""
    a = np.asarray(a, float)
    c = np.asarray(c_star, float)
    n = len(c)
    if a.shape != (n, n):
        raise InputError(f"A must be {n}x{n} for {n} sectors (got {a.shape})", location="A")
    if (a < 0).any() or not np.isfinite(a).all():
        raise InputError("A must be finite and nonnegative", location="A")
    if (c < 0).any() or (c > 1).any():
        raise InputError("c* must lie in [0, 1]", location="c_star")
    rho = float(np.abs(np.linalg.eigvals(a)).max(initial=0.0))
    sectors = sectors or [f"s{k + 1}" for k in range(n)]
    if bounded:
        q = c.copy()
        for _ in range(100_000):
            nq = np.minimum(1.0, a @ q + c)
            if np.abs(nq - q).max(initial=0.0) <= 1e-13:
                break
            q = nq
        return pd.DataFrame({"sector": sectors, "c_star": c, "q": nq, "q_capped": nq})
    if rho >= 1:
        raise InputError(
            f"spectral radius of A is {rho:.4g} >= 1: (I - A) q = c* has no meaningful solution", location="A"
        )
    q = np.linalg.solve(np.eye(n) - a, c)
    return pd.DataFrame({"sector": sectors, "c_star": c, "q": q, "q_capped": np.minimum(q, 1.0)})


def _direct_flow(case: InfraCase):
    """The served-demand LP without dependency rows (direct effects only)."""
    return InfraFlow(dataclasses.replace(case, dependencies=case.dependencies.iloc[0:0]), objective="served")


def layer_interdependency_matrix(case: InfraCase) -> pd.DataFrame:
    """A (rows: depender layer k, columns: dependee layer l) as a square DataFrame.

    a_kl = the share of layer k's demand left unserved, by the served-demand LP without dependency
    rows, when every node of k that depends on l works only at 1 - loss (all of l down).
    """
    layers = list(case.layers["layer"])
    a = pd.DataFrame(0.0, index=layers, columns=layers)
    dep = case.dependencies
    if len(dep):
        flow = _direct_flow(case)
        nix = pd.MultiIndex.from_frame(case.nodes[["layer", "node"]])
        none_n = np.zeros(len(nix), bool)
        none_l = np.zeros(len(case.links), bool)
        flow.set_failed(none_n, none_l)
        flow.run()
        intact = flow.layer_served_share()
        for lay in layers:
            sub = dep[dep["dependee_layer"] == lay]
            if not len(sub):
                continue
            caps = np.ones(len(nix))
            k = nix.get_indexer(pd.MultiIndex.from_frame(sub[["depender_layer", "depender"]]))
            np.minimum.at(caps, k, 1.0 - sub["loss"].to_numpy(float))
            flow.set_failed(none_n, none_l, caps)
            flow.run()
            a[lay] = np.clip(intact - flow.layer_served_share(), 0.0, 1.0)
        a.loc[:, :] = np.where(np.eye(len(layers), dtype=bool), 0.0, a.to_numpy())
    a.index.name = "depender_layer"
    a.columns.name = "dependee_layer"
    return a


def direct_inoperability(case: InfraCase, failed: pd.DataFrame | None) -> pd.Series:
    """c*_k: the share of layer k's demand lost under the failed set (against the intact case),
    by the served-demand LP without dependencies."""
    flow = _direct_flow(case)
    flow.run()
    intact = flow.layer_served_share()
    flow.set_failed(*flow.failed_masks(failed))
    flow.run()
    return pd.Series(intact - flow.layer_served_share(), index=list(case.layers["layer"])).clip(0.0, 1.0)


def case_iim(case: InfraCase, failed: pd.DataFrame | None) -> pd.DataFrame:
    """The IIM of a case's layers under a failed set: A from the dependencies, c* from the damage.

    Also gives ``lp_unserved``: the share unserved by the served-demand LP with the dependency
    rows, the element-level answer the sector-level IIM approximates."""
    a = layer_interdependency_matrix(case)
    c = direct_inoperability(case, failed)
    out = iim(a.to_numpy(), c.to_numpy(), list(a.index), bounded=True)
    flow = InfraFlow(case, objective="served")
    flow.run()
    intact = flow.layer_served_share()
    flow.set_failed(*flow.failed_masks(failed))
    flow.run()
    out["lp_lost"] = np.clip(intact - flow.layer_served_share(), 0.0, 1.0)
    return out
