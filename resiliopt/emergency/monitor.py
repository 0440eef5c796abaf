r"""Monitor and diagnose: indicators and what is wrong, from an observed state.

The *observed state* at time :math:`t` is, for every element, its last observed status at or
before :math:`t` (``up`` before its first observation). ``down`` and ``repairing`` elements are failed in the
served-demand LP (:mod:`resiliopt.formulations.infra_flow`, ``served`` objective, layer-share
weights); ``degraded`` ones still work in the LP but are damaged: they are repaired and count
as damaged when learning fragilities (docs/emergency.md, reading R2).

Indicators (all "larger is worse"; docs/emergency.md):

.. math::

   \text{unserved\_share}_k = 1 - \frac{\sum_{i \in S^-_k} s_i}{\sum_{i \in S^-_k} s^0_i},\qquad
   \text{unserved\_share} = \frac{1}{|K_d|}\sum_{k \in K_d} \text{unserved\_share}_k

with :math:`s^0` what the *intact* network serves (a case's capacities may not cover all its
demand: that shortfall is the baseline, not an emergency), over the layers :math:`K_d` with
demand (layers are in different units, so each counts once);
``tier1_unserved_share`` the same over tier-1 demand nodes (0 where a case has none);
``failed_critical`` the failed elements among the top :math:`n` of the intact network's N-1
ranking; ``cascade_depth`` the rounds of :func:`resiliopt.infra.cascade.cascade`. A demand layer
the intact network serves nothing of has ``unserved_share.<layer>`` = 0 (nothing to lose).

*Mobile backup units* (an event's ``backups:``, :func:`place_backups`) serve a demand node's
own shortfall on the spot: with units at hand, :math:`s_i` is the LP's served demand plus the
supply of the units placed at :math:`i`. They are placed by a rule, after the LP: each entry's
units go to the demand nodes of its layer (those it allows) with the highest priority tier
first, then the largest shortfall, one unit of an entry per node, each supplying
:math:`\min(\text{capacity}, \text{shortfall left})` (docs/emergency.md, reading R7).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from resiliopt.case.infra import KEY, InfraCase
from resiliopt.errors import SolveError
from resiliopt.formulations.indp import BackupUnit
from resiliopt.formulations.infra_flow import InfraFlow
from resiliopt.infra.cascade import cascade
from resiliopt.infra.criticality import n_minus_1, single_points_of_failure


def observed_states(obs: pd.DataFrame) -> list[tuple[float, pd.DataFrame]]:
    """``[(time, state)]`` for every time stamp; ``state``: kind, layer, element, status of
    every element observed so far (last status wins), sorted by key."""
    status: dict[tuple, str] = {}
    out = []
    for t, g in obs.groupby("time", sort=True):
        for r in g.itertuples(index=False):
            status[(r.kind, r.layer, r.element)] = r.status
        rows = [(*k, s) for k, s in sorted(status.items())]
        out.append((float(t), pd.DataFrame(rows, columns=[*KEY, "status"])))
    return out


def failed_of(state: pd.DataFrame) -> pd.DataFrame:
    return state.loc[state["status"].isin(("down", "repairing")), KEY].reset_index(drop=True)


def damaged_of(state: pd.DataFrame) -> pd.DataFrame:
    return state.loc[state["status"] != "up", KEY].reset_index(drop=True)


PLACEMENT_COLUMNS = ["layer", "element", "unit", "supply"]


def place_backups(nodes: pd.DataFrame, units: Sequence[BackupUnit], tier: pd.Series) -> pd.DataFrame:
    """Where the backup units go under a served-demand LP result (module docstring): one row
    per unit placed, ``layer, element, unit`` (the index of its entry in ``units``), ``supply``.

    ``nodes``: the LP's node table (layer, element, demand, unserved); ``tier``: the priority
    tier of every node, indexed by (layer, node).
    """
    dem = nodes[nodes["demand"] < 0]
    left = {
        (str(la), str(el)): float(u)
        for la, el, u in zip(dem["layer"], dem["element"], dem["unserved"], strict=True)
        if u > 1e-9
    }
    rows = []
    for j, u in enumerate(units):
        allowed = None if u.nodes is None else set(u.nodes)
        cand = [
            k for k in left if k[0] == u.layer and (allowed is None or k[1] in allowed) and left[k] > 1e-9
        ]
        cand.sort(key=lambda k: (int(tier.get(k, 3)), -left[k], k[1]))
        for k in cand[: max(int(u.count), 0)]:
            s = min(float(u.capacity), left[k])
            if s <= 1e-9:
                continue
            left[k] -= s
            rows.append((*k, j, s))
    return pd.DataFrame(rows, columns=PLACEMENT_COLUMNS)


class Monitor:
    """Indicators of observed states of one case; the LP is built once and re-solved."""

    def __init__(self, case: InfraCase, top_n: int = 10, ranking: pd.DataFrame | None = None):
        self.case = case
        self.flow = InfraFlow(case, objective="served", weights="share")
        self.top_n = top_n
        self._ranking = ranking
        nodes = case.nodes.assign(layer=case.nodes["layer"].astype(str), node=case.nodes["node"].astype(str))
        self.tier = nodes.set_index(["layer", "node"])["tier"]
        self.layers = list(case.layers["layer"])
        #: the backup units placed by the last :meth:`indicators` (None: no units at hand)
        self.placed: pd.DataFrame | None = None

    @property
    def ranking(self) -> pd.DataFrame:
        """N-1 ranking of the intact network (computed once, on first use)."""
        if self._ranking is None:
            self._ranking = n_minus_1(self.case, flow=self.flow)
        return self._ranking

    def top_critical(self) -> set[tuple]:
        top = self.ranking[self.ranking["loss"] > 0].head(self.top_n)
        return set(map(tuple, top[KEY].to_numpy()))

    def solve(self, failed: pd.DataFrame):
        res = self.flow.solve(failed)
        for name, cert in (("matrix", res.certificate), ("input-level", res.input_certificate)):
            if cert is not None and not cert.passed:
                raise SolveError(f"the served-demand LP failed its {name} certificate", status="unverified")
        return res

    def _served(self, res, placed: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        """Served demand per layer, and over tier-1 demand nodes per layer, of one LP result
        (plus the supply of the backup units ``placed`` at each node)."""
        nd = res.nodes[res.nodes["demand"] < 0]
        served = nd["served"].to_numpy(float)
        if placed is not None and len(placed):
            extra = placed.groupby(["layer", "element"])["supply"].sum()
            idx = pd.MultiIndex.from_arrays([nd["layer"].astype(str), nd["element"].astype(str)])
            served = served + extra.reindex(idx).fillna(0.0).to_numpy(float)
        nd = nd.assign(served=served)
        tier = self.tier.reindex(pd.MultiIndex.from_frame(nd[["layer", "element"]])).to_numpy()
        allv = nd.groupby("layer")["served"].sum()
        t1 = nd[tier == 1].groupby("layer")["served"].sum()
        return allv, t1

    @property
    def baseline(self) -> tuple[pd.Series, pd.Series]:
        """What the intact network serves (the reference of every unserved share)."""
        if not hasattr(self, "_baseline"):
            self._baseline = self._served(self.solve(pd.DataFrame(columns=KEY)))
        return self._baseline

    def indicators(
        self, failed: pd.DataFrame, backups: Sequence[BackupUnit] = ()
    ) -> tuple[dict[str, float], object, object]:
        """Indicators of a failed set, with the LP result and the cascade behind them; with
        ``backups`` (the units at hand), their supply counts as served (:func:`place_backups`,
        where they went: :attr:`placed`)."""
        base_all, base_t1 = self.baseline
        res = self.solve(failed)
        self.placed = place_backups(res.nodes, backups, self.tier) if backups else None
        now_all, now_t1 = self._served(res, self.placed)
        x: dict[str, float] = {}
        shares = []
        demand_layers = set(self.case.nodes.loc[self.case.nodes["demand"] < 0, "layer"].astype(str))
        for k in self.layers:
            ref = float(base_all.get(k, 0.0))
            if ref > 0:
                v = float(min(1.0, max(0.0, 1.0 - now_all.get(k, 0.0) / ref)))
                x[f"unserved_share.{k}"] = v
                shares.append(v)
            elif str(k) in demand_layers:  # the intact network serves none of it: nothing to lose
                x[f"unserved_share.{k}"] = 0.0
        x["unserved_share"] = float(np.mean(shares)) if shares else 0.0
        t1 = [
            min(1.0, max(0.0, 1.0 - float(now_t1.get(k, 0.0)) / float(ref)))
            for k, ref in base_t1.items()
            if ref > 0
        ]
        x["tier1_unserved_share"] = float(np.mean(t1)) if t1 else 0.0
        cas = cascade(self.case, failed)
        x["cascade_depth"] = float(cas.n_rounds)
        keys = set(map(tuple, failed[KEY].to_numpy())) if len(failed) else set()
        x["failed_critical"] = float(len(keys & self.top_critical())) if self.top_n > 0 else 0.0
        return x, res, cas


def reduced_case(case: InfraCase, failed: pd.DataFrame) -> InfraCase:
    """The case without the failed nodes and links (and the dependencies and spaces rows that
    name them): the network that still works, for single points of failure *now*."""
    fk = set(map(tuple, failed[KEY].to_numpy())) if len(failed) else set()
    fn = {(la, el) for k, la, el in fk if k == "node"}
    fl = {(la, el) for k, la, el in fk if k == "link"}
    nodes = case.nodes[
        [(a, b) not in fn for a, b in zip(case.nodes["layer"], case.nodes["node"], strict=True)]
    ]
    lk = case.links
    keep = [
        (la, li) not in fl and (la, a) not in fn and (la, b) not in fn
        for la, li, a, b in zip(lk["layer"], lk["link"], lk["from"], lk["to"], strict=True)
    ]
    d = case.dependencies
    dkeep = [
        (a, b) not in fn and (c, e) not in fn
        for a, b, c, e in zip(
            d["dependee_layer"], d["dependee"], d["depender_layer"], d["depender"], strict=True
        )
    ]
    es = case.element_spaces
    ekeep = [
        (("node", la, el) not in fk) and (("link", la, el) not in fk)
        for la, el in zip(es["layer"], es["element"], strict=True)
    ]
    return dataclasses.replace(
        case,
        nodes=nodes.reset_index(drop=True),
        links=lk[keep].reset_index(drop=True),
        dependencies=d[dkeep].reset_index(drop=True),
        element_spaces=es[ekeep].reset_index(drop=True),
    )


def diagnose(
    monitor: Monitor, failed: pd.DataFrame, top: int = 10, backups: Sequence[BackupUnit] = ()
) -> dict[str, pd.DataFrame]:
    """What is lost where, what binds, what is critical now.

    Tables: ``layers`` (served share per layer), ``lost`` (demand nodes with unserved demand,
    largest first), ``binding`` (links whose extra capacity is worth most: capacity value > 0),
    ``cascade`` (rounds), ``spof`` (single points of failure of the network that still works),
    ``critical`` (top N-1 elements of the intact network, with whether each is failed now);
    with ``backups`` at hand, ``backups`` (where they are placed: :func:`place_backups`).
    """
    x, res, cas = monitor.indicators(failed, backups)
    nodes = res.nodes
    lost = nodes[(nodes["demand"] < 0) & (nodes["unserved"] > 1e-9)].copy()
    lost["unserved_share"] = lost["unserved"] / -lost["demand"]
    lost = lost.sort_values(["unserved", "layer", "element"], ascending=[False, True, True])
    binding = res.links[res.links["capacity_value"] > 1e-9].sort_values("capacity_value", ascending=False)
    fk = set(map(tuple, failed[KEY].to_numpy())) if len(failed) else set()
    crit = monitor.ranking.head(top).copy()
    crit["failed_now"] = [tuple(k) in fk for k in crit[KEY].to_numpy()]
    spof = single_points_of_failure(reduced_case(monitor.case, cas.failed))
    out = {
        "indicators": pd.DataFrame([x]),
        "layers": res.layers[["layer", "demand", "served", "served_share"]],
        "lost": lost[["layer", "element", "demand", "served", "unserved", "unserved_share"]].head(top),
        "binding": binding[["layer", "link", "from", "to", "capacity", "capacity_value"]].head(top),
        "cascade": cas.rounds,
        "spof": spof.head(top),
        "critical": crit,
    }
    if backups:
        out["backups"] = monitor.placed
    return out
