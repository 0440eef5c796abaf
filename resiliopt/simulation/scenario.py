r"""From a case to the data of each slice: groups, arcs, damage and recovery state.

The recovery model (docs/recovery.md):

* A *building group* is one category at one road node, with
  :math:`n_j = \text{count}_c \cdot \text{share}_v` thousand buildings. One drift is drawn per
  group; the group's damage state follows from the drift thresholds. Moderate and worse are
  unsafe and need repair work.
* Full-speed demand of a damaged group: :math:`\rho_j = 5 n_j \Delta t` units per slice
  (5 units per 1000 buildings per day). Total work: :math:`W_j = \rho_j T_s / \Delta t` with
  :math:`T_s` the repair time of its state (moderate 30 d, severe 180 d; collapse permanent
  unless a reconstruction time is given). A group is unsafe until all its work is delivered,
  then it is functional again and leaves the graph.
* Gain of a unit delivered to group :math:`j` of sector :math:`i`: repairing the group raises
  :math:`f_i` by :math:`n_j / N_i`, spread over :math:`W_j` units, so

  .. math:: g_j = \frac{\partial F_C}{\partial f_i}\,\frac{n_j}{N_i W_j}.

* Bridges: one drift per bridge, capacity loss by damage state (paper Table 2). A link (and
  an entry arc) keeps :math:`\min` over the bridges at its two ends of :math:`(1 - \text{loss})`
  of its designated capacity: the flow crosses both interchanges.
* Supply rate (17)-(19): :math:`r_j = y_j / d_j` for every group with demand, weighted by
  :math:`w_j = n_j g_j` (per building, :math:`\partial F_C/\partial f_i \cdot df_i/d\Pi`);
  the unit supply rate :math:`\sum_j y_j / \sum_j d_j` beside it.
* Correlated damage (optional, :mod:`resiliopt.hazard`): the PGA of each road node varies
  around the scenario PGA (between-event term and distance-correlated within-event
  residuals), groups and bridges at a node see that node's PGA, and groups of one category
  share part of their fragility residual.
* Reachability: a group is *unreachable* in a slice when no path of arcs with positive
  capacity leads from the source to its node; its demand is reported apart from demand that
  is reachable but under-supplied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from resiliopt import community as fc
from resiliopt import hazard
from resiliopt.case import CaseData
from resiliopt.errors import InputError
from resiliopt.formulations.slice_lp import SliceData
from resiliopt.formulations.user_constraints import resolve
from resiliopt.schemas import DAMAGE_STATES, SECTORS

UNSAFE_FROM = 2  # damage state index of 'moderate'


@dataclass
class CaseModel:
    """Numeric arrays of a case (and variant), computed once per run."""

    case: CaseData
    variant: str | None
    group_ids: list[str]
    g_cat: np.ndarray
    g_sector: np.ndarray
    g_node: list[str]
    g_count: np.ndarray
    g_a: np.ndarray
    bridge_ids: list[str]
    bridge_node: list[str]
    bridge_a: np.ndarray
    bridge_b: np.ndarray
    bridge_zeta: np.ndarray
    arcs: pd.DataFrame
    arc_bridges: np.ndarray  # (n_arcs, 2) bridge index at each end, -1 for none
    repair_days: np.ndarray  # days to repair by damage state (inf: not repairable)
    g_site: np.ndarray | None = None  # road-node index of each group
    bridge_site: np.ndarray | None = None  # road-node index of each bridge (-1: not a road node)
    site_factor: np.ndarray | None = None  # L with L L^T = within-event correlation of the sites
    arc_ends: np.ndarray | None = None  # (n_arcs, 2) flow-node index of tail and head (0 = source)
    user_rows: tuple = ()  # the case's declarative constraints, resolved (user_constraints.UserRow)
    extension: Callable | None = None  # the Python extension hook, or None

    @property
    def n_groups(self) -> int:
        return len(self.group_ids)

    @property
    def slice_days(self) -> int:
        return self.case.case.recovery.slice_days

    @property
    def rate(self) -> np.ndarray:
        """Full-speed demand of each group, units per slice (if damaged)."""
        lg = self.case.case.logistics
        return lg.demand_per_thousand * self.g_count * self.slice_days

    def pgas(self) -> list[float]:
        p = self.case.case.hazard.pga
        return list(p) if isinstance(p, list) else [float(p)]


def case_model(case: CaseData, variant: str | None = None, extension: Callable | None = None) -> CaseModel:
    """Groups, bridges and arcs of a case, with a variant's retrofits applied; its user
    constraints resolved to arc and group ids, and the extension hook (docs/constraints.md)."""
    b = case.buildings
    v = None
    if variant not in (None, "none"):
        if variant not in case.case.variants:
            raise InputError(
                f"unknown variant {variant!r} (case has: {', '.join(case.case.variants)})",
                case.path,
                "variants",
            )
        v = case.case.variants[variant]
    gid, gcat, gsec, gnode, gcount, ga = [], [], [], [], [], []
    for ci, cat in enumerate(b.categories):
        plan = dict(v.building_plan.get(cat.id, {})) if v else {}
        moved = sum(plan.values())
        if moved > 1 + 1e-9:
            raise InputError(
                f"fractions of {cat.id} sum to {moved:g} > 1",
                case.path,
                f"variants.{variant}.building_plan.{cat.id}",
            )
        options = [(cat.design_level, 1.0 - moved, cat.a)]
        for level, frac in sorted(plan.items()):
            a_new = b.level_a.get(cat.sector, {}).get(level)
            if a_new is None:
                raise InputError(
                    f"no response coefficient for {cat.sector} at level {level}",
                    case.path,
                    f"variants.{variant}.building_plan.{cat.id}",
                )
            options.append((level, frac, a_new))
        for level, frac, a in options:
            if frac <= 0:
                continue
            for node, share in (b.node_shares if cat.node_shares is None else cat.node_shares).items():
                if share <= 0:
                    continue
                suffix = "" if level == cat.design_level else f">{level}"
                gid.append(f"{cat.id}{suffix}@{node}")
                gcat.append(ci)
                gsec.append(SECTORS.index(cat.sector))
                gnode.append(node)
                gcount.append(cat.count * share * frac)
                ga.append(a)

    br = case.bridges
    upgrade = set()
    target = br.upgrade_to
    if v is not None:
        upgrade = {x.id for x in br.bridges} if v.upgrade_bridges == "all" else set(v.upgrade_bridges)
        if v.bridge_grade is not None:
            if v.bridge_grade not in br.grades:
                raise InputError(
                    f"bridge_grade {v.bridge_grade!r} is not one of the grades {list(br.grades)}",
                    case.path,
                    f"variants.{variant}.bridge_grade",
                )
            target = v.bridge_grade
    grades = [target if (x.id in upgrade and target) else x.grade for x in br.bridges]
    bridge_node = [x.node for x in br.bridges]
    at_node = {n: k for k, n in enumerate(bridge_node)}

    net = case.network
    rows = []
    for link in net.links:
        ends = [(link.from_, link.to)] + ([(link.to, link.from_)] if link.two_way else [])
        for u, w in ends:
            rows.append((f"{u}->{w}", u, w, float(link.capacity), link.id))
    for node in net.entry.nodes:
        rows.append(
            (f"{net.entry.id}->{node}", net.entry.id, node, float(net.entry.capacity), f"entry {node}")
        )
    arcs = pd.DataFrame(rows, columns=["arc", "from", "to", "capacity", "label"])
    arcs["capacity"] *= case.case.logistics.capacity_factor
    def index_of(column: str, index: dict[str, int]) -> np.ndarray:  # -1 where not in index
        return arcs[column].map(index).fillna(-1).to_numpy(dtype=np.int64)

    arc_bridges = np.stack([index_of("from", at_node), index_of("to", at_node)], axis=1)
    # the bridges an arc crosses, "+"-joined: its tail's, then its head's (ids[-1] is "")
    ids = np.array([x.id for x in br.bridges] + [""], dtype=object)
    both = np.where((arc_bridges >= 0).all(axis=1), "+", "").astype(object)
    arcs["bridges"] = ids[arc_bridges[:, 0]] + both + ids[arc_bridges[:, 1]]
    rec = case.case.recovery
    repair = np.array(
        [
            np.inf,
            np.inf,
            rec.moderate_days,
            rec.severe_days,
            rec.collapse_days if rec.collapse_days is not None else np.inf,
        ]
    )
    sites = [n.id for n in net.nodes]
    site_at = {n: k for k, n in enumerate(sites)}
    gm = case.case.hazard.ground_motion
    factor = None
    if gm.phi > 0:
        xy = np.array([(n.x, n.y) for n in net.nodes])
        factor = hazard.correlation_factor(hazard.distance_correlation(xy[:, 0], xy[:, 1], gm.range_km))
    flow_nodes = {net.entry.id: 0}
    for n in sites:
        flow_nodes[n] = len(flow_nodes)
    ends = np.stack([index_of("from", flow_nodes), index_of("to", flow_nodes)], axis=1)
    user_rows = resolve(
        case, arcs, gid, np.array(gcat), np.array(gsec), gnode, SECTORS, case.case.recovery.slice_days
    )
    return CaseModel(
        case=case,
        variant=variant,
        group_ids=gid,
        g_cat=np.array(gcat),
        g_sector=np.array(gsec),
        g_node=gnode,
        g_count=np.array(gcount),
        g_a=np.array(ga),
        bridge_ids=[x.id for x in br.bridges],
        bridge_node=bridge_node,
        bridge_a=np.array([br.grades[g].a for g in grades]),
        bridge_b=np.array([br.grades[g].b for g in grades]),
        bridge_zeta=np.array([br.grades[g].zeta for g in grades]),
        arcs=arcs,
        arc_bridges=arc_bridges,
        repair_days=repair,
        g_site=np.array([site_at[n] for n in gnode], dtype=np.int64),
        bridge_site=np.array([site_at.get(n, -1) for n in bridge_node], dtype=np.int64),
        site_factor=factor,
        arc_ends=ends,
        user_rows=user_rows,
        extension=extension,
    )


@dataclass
class Scenario:
    """One sampled earthquake: a PGA, a damage state per group and per bridge."""

    index: int
    pga: float
    group_state: np.ndarray
    bridge_state: np.ndarray


def scenario_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of scenario ``index`` of a run: from the run seed and the index only."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))


def sample_scenario(cm: CaseModel, seed: int, index: int) -> Scenario:
    """Draw scenario ``index`` of the run with seed ``seed`` (independent of any worker).

    Order of the draws: the PGA (if several), one normal per group, one per bridge, then,
    only when enabled, the between-event term, the within-event residuals of the sites, and
    one common term per building category. A case without the options keeps its numbers;
    variants (same groups and bridges) see the same draws (common random numbers).
    """
    rng = scenario_rng(seed, index)
    pgas = cm.pgas()
    pga = pgas[0] if len(pgas) == 1 else float(rng.choice(pgas))
    bl = cm.case.buildings
    hz = cm.case.case.hazard
    z_groups = rng.standard_normal(cm.n_groups)
    z_bridges = rng.standard_normal(len(cm.bridge_ids))
    gm = hz.ground_motion
    n_sites = len(cm.case.network.nodes)
    if gm.tau > 0 or gm.phi > 0:
        factor = cm.site_factor if cm.site_factor is not None else np.eye(n_sites)
        delta = hazard.site_log_residuals(rng, factor, gm.tau, gm.phi)
    else:
        delta = np.zeros(n_sites)
    if hz.category_correlation > 0:
        z_cat = rng.standard_normal(len(bl.categories))
        z_groups = hazard.split_residual(z_groups, z_cat[cm.g_cat], hz.category_correlation)
    # theta = a (IM e^delta)^b e^(zeta z) = a IM^b exp(b delta + zeta z)
    g_log = bl.b * delta[cm.g_site] + bl.zeta * z_groups
    gdrift = hazard.median_drift(cm.g_a, pga, bl.b) * np.exp(g_log)
    gstate = hazard.damage_state(gdrift, bl.thresholds.as_list())
    b_delta = np.where(cm.bridge_site >= 0, delta[np.maximum(cm.bridge_site, 0)], 0.0)
    b_log = cm.bridge_b * b_delta + cm.bridge_zeta * z_bridges
    bdrift = hazard.median_drift(cm.bridge_a, pga, cm.bridge_b) * np.exp(b_log)
    bstate = hazard.damage_state(bdrift, cm.case.bridges.thresholds.as_list())
    return Scenario(index, pga, gstate, bstate)


class RecoveryState:
    """The state of one scenario's recovery between slices (work left, bridge states)."""

    def __init__(self, cm: CaseModel, sc: Scenario):
        self.cm = cm
        self.scenario = sc
        self.day = 0
        rate = cm.rate
        days = cm.repair_days[sc.group_state]
        damaged = sc.group_state >= UNSAFE_FROM
        self.work_total = np.where(damaged, rate * days / cm.slice_days, 0.0)
        self.work_left = self.work_total.copy()
        self.unsafe = damaged.copy()  # collapsed groups stay unsafe (work_total = inf)
        self.bridge_state = sc.bridge_state.copy()
        self.bridge_damage_day = np.zeros(len(sc.bridge_state))
        self._loss = np.asarray(cm.case.bridges.capacity_loss.as_list())
        self._cap0 = cm.arcs["capacity"].to_numpy(dtype=float)  # per day, before bridge damage
        totals = cm.case.sector_totals
        # n_j / (N_i W_j): change of f_i per unit delivered (0 where nothing to repair)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_unit = cm.g_count / totals[cm.g_sector] / self.work_total
        self._df_per_unit = np.where(np.isfinite(per_unit) & damaged, per_unit, 0.0)

    # ------------------------------------------------------------------ state -> slice
    def sector_loss(self) -> np.ndarray:
        cm = self.cm
        return fc.sector_loss(np.where(self.unsafe, cm.g_count, 0.0), cm.g_sector, cm.case.sector_totals)

    def functionality(self) -> float:
        return float(fc.functionality(self.sector_loss(), self.cm.case.dam, self.cm.case.community.clamp))

    def arc_capacity(self) -> np.ndarray:
        keep = 1.0 - self._loss[self.bridge_state]
        keep = np.append(keep, 1.0)  # index -1: no bridge
        mult = np.minimum(keep[self.cm.arc_bridges[:, 0]], keep[self.cm.arc_bridges[:, 1]])
        return self._cap0 * mult * self.cm.slice_days  # per day -> per slice

    def demand(self) -> np.ndarray:
        return np.where(
            np.isfinite(self.work_left) & (self.work_left > 0), np.minimum(self.cm.rate, self.work_left), 0.0
        )

    def gains(self, l: np.ndarray | None = None) -> np.ndarray:
        l = self.sector_loss() if l is None else l
        grad = fc.gradient(l, self.cm.case.dam)
        return grad[self.cm.g_sector] * self._df_per_unit

    def total_resources(self) -> float:
        return self.cm.case.case.logistics.total_resources * self.cm.slice_days

    def slice_data(self, only_active: bool = True) -> SliceData:
        """The slice LP's data for the current state (``only_active``: groups with demand)."""
        cm = self.cm
        arcs = cm.arcs[["arc", "from", "to", "capacity", "label", "bridges"]].copy()
        arcs["capacity"] = self.arc_capacity()
        d = self.demand()
        groups = pd.DataFrame(
            {
                "group": cm.group_ids,
                "node": cm.g_node,
                "capacity": d,
                "gain": self.gains(),
                "sector": np.asarray(SECTORS)[cm.g_sector],  # for extensions and reports
            }
        )
        if only_active:
            groups = groups[d > 0].reset_index(drop=True)
        net = cm.case.network
        return SliceData(
            arcs,
            groups,
            self.total_resources(),
            net.entry.id,
            net.sink,
            name=f"{cm.case.name}-s{self.scenario.index}-d{self.day}",
            named_nodes=[n.id for n in net.nodes],
            constraints=cm.user_rows,
            extension=cm.extension,
            day=self.day,
        )

    # ------------------------------------------------------------------ advance
    def advance(self, delivered: np.ndarray) -> None:
        """Apply one slice's deliveries (one value per group, all groups)."""
        self.work_left = self.work_left - delivered
        finite = np.isfinite(self.work_total)
        done = self.unsafe & finite & (self.work_left <= 1e-9 * np.where(finite, self.work_total, 1.0))
        if done.any():
            self.unsafe = self.unsafe & ~done
            self.work_left = np.where(done, 0.0, self.work_left)
        self.day += self.cm.slice_days
        repair = self.cm.case.case.recovery.bridge_repair_days
        if repair:
            for k, st in enumerate(self.bridge_state):
                days = repair.get(DAMAGE_STATES[st])
                if st > 0 and days is not None and self.day >= days:
                    self.bridge_state[k] = 0

    def reachable(self, cap: np.ndarray | None = None) -> np.ndarray:
        """Per group: is there a path of arcs with positive capacity from the source to its node?"""
        cm = self.cm
        cap = self.arc_capacity() if cap is None else cap
        ends = cm.arc_ends[cap > 0]
        ends = ends[(ends[:, 0] >= 0) & (ends[:, 1] >= 0)]
        seen = np.zeros(len(cm.case.network.nodes) + 1, dtype=bool)
        seen[0] = True
        while True:
            new = seen[ends[:, 0]] & ~seen[ends[:, 1]]
            if not new.any():
                break
            seen[ends[new, 1]] = True
        return seen[cm.g_site + 1]

    @staticmethod
    def unit_supply_rate(delivered: np.ndarray, demand: np.ndarray) -> float:
        """Delivered over demanded units this slice; 1.0 when nothing is demanded."""
        total = float(demand.sum())
        return float(delivered.sum()) / total if total > 0 else 1.0

    def supply_rate(self, delivered: np.ndarray, demand: np.ndarray, gains: np.ndarray) -> float:
        """Community supply rate r (18)-(19); 1.0 when nothing is demanded."""
        has = demand > 0
        if not has.any():
            return 1.0
        w = self.cm.g_count[has] * gains[has]
        r = delivered[has] / demand[has]
        sw = w.sum()
        return float((w * r).sum() / sw) if sw > 0 else float(r.mean())
