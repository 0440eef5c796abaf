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
  :math:`w_j = n_j g_j` (per building, :math:`\partial F_C/\partial f_i \cdot df_i/d\Pi`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from resiliopt import community as fc
from resiliopt import hazard
from resiliopt.case import CaseData
from resiliopt.errors import InputError
from resiliopt.formulations.slice_lp import SliceData
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


def case_model(case: CaseData, variant: str | None = None) -> CaseModel:
    """Groups, bridges and arcs of a case, with a variant's retrofits applied."""
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
            for node, share in b.node_shares.items():
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
    if v is not None:
        upgrade = {x.id for x in br.bridges} if v.upgrade_bridges == "all" else set(v.upgrade_bridges)
    grades = [br.upgrade_to if (x.id in upgrade and br.upgrade_to) else x.grade for x in br.bridges]
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
    arc_bridges = np.array(
        [[at_node.get(u, -1), at_node.get(w, -1)] for _, u, w, _, _ in rows], dtype=np.int64
    ).reshape(-1, 2)
    arcs["bridges"] = ["+".join(br.bridges[k].id for k in pair if k >= 0) for pair in arc_bridges]
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
    """Draw scenario ``index`` of the run with seed ``seed`` (independent of any worker)."""
    rng = scenario_rng(seed, index)
    pgas = cm.pgas()
    pga = pgas[0] if len(pgas) == 1 else float(rng.choice(pgas))
    bl = cm.case.buildings
    gdrift = hazard.sample_drift(rng, cm.g_a, pga, bl.b, bl.zeta)
    gstate = hazard.damage_state(gdrift, bl.thresholds.as_list())
    bdrift = hazard.sample_drift(rng, cm.bridge_a, pga, cm.bridge_b, cm.bridge_zeta)
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
        groups = pd.DataFrame({"group": cm.group_ids, "node": cm.g_node, "capacity": d, "gain": self.gains()})
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

    def supply_rate(self, delivered: np.ndarray, demand: np.ndarray, gains: np.ndarray) -> float:
        """Community supply rate r (18)-(19); 1.0 when nothing is demanded."""
        has = demand > 0
        if not has.any():
            return 1.0
        w = self.cm.g_count[has] * gains[has]
        r = delivered[has] / demand[has]
        sw = w.sum()
        return float((w * r).sum() / sw) if sw > 0 else float(r.mean())
