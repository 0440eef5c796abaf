"""Optimal restoration plans: iterative INDP and td-INDP (docs/indp.md).

:class:`Restorer` holds one built MILP (:func:`~resiliopt.formulations.indp.build_indp`) and
one persistent solver; every plan it makes only changes the model's mutable parameters
(damage, resources), never rebuilds it. A :class:`Plan` is a set of tidy tables; every plan
can be checked against the input by :func:`~resiliopt.infra.plan_check.check_plan` (re-exported
here), which shares no code with the builder.

Repairs may take several periods (the case's ``repair_time``, ``INDPOptions.durations``;
docs/indp.md): ``Plan.repairs`` gives each repair's start ``period``, its ``duration`` and the
period ``works_from`` which the element serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from resiliopt.errors import InputError, SolveError
from resiliopt.formulations.indp import (
    INDPOptions,
    build_indp,
    compile_case,
    damaged,
    mark_repaired,
    set_damage,
    set_resources,
)
from resiliopt.formulations.indp_compiled import CompiledINDP, feasible_starts, supported
from resiliopt.infra.plan_check import PlanCheck, check_plan
from resiliopt.solvers.mip import PersistentMIP

__all__ = ["COST_TERMS", "Plan", "PlanCheck", "Restorer", "check_plan", "damage_table", "restore"]

COST_TERMS = [
    "flow_cost",
    "node_repair_cost",
    "link_repair_cost",
    "space_cost",
    "unbalance_cost",
    "extension_cost",
]


BACKUP_COLUMNS = ["layer", "node", "unit", "period", "placed", "supply"]

#: HiGHS options of a solve from a MIP start (:meth:`Restorer.start_from`): the start is the
#: incumbent, so HiGHS spends its time on the bound, not on primal heuristics (RINS, RENS and
#: the others search for an incumbent; on shelby-extended at horizon 5 they take 2/3 of a
#: solve). A cold solve sets HiGHS's defaults again (:data:`COLD_OPTIONS`).
WARM_OPTIONS = {
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
}
COLD_OPTIONS = {
    "mip_heuristic_effort": 0.05,
    "mip_heuristic_run_rins": True,
    "mip_heuristic_run_rens": True,
    "mip_heuristic_run_root_reduced_cost": True,
    "mip_heuristic_run_feasibility_jump": True,
}


@dataclass
class Plan:
    """A restoration plan as tidy tables (element keys are (kind, layer, element) columns)."""

    method: str  # "iterative" or "td"
    repairs: pd.DataFrame  # kind, layer, element, period (the start), duration, works_from
    costs: pd.DataFrame  # period, <COST_TERMS>, objective
    served: pd.DataFrame  # layer, period, demand, served, share
    flows: pd.DataFrame  # layer, link, from, to, period, flow
    nodes: pd.DataFrame  # layer, node, period, works, oversupply, undersupply, backup
    mip: pd.DataFrame  # solve, periods, status, objective, bound, gap, seconds, solver
    resources: pd.DataFrame  # resource, period, available, used
    damage: pd.DataFrame  # kind, layer, element
    unrepaired: pd.DataFrame = field(default_factory=pd.DataFrame)  # kind, layer, element
    #: backup units placed: layer, node, unit (index in INDPOptions.backups), period, placed, supply
    backups: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BACKUP_COLUMNS))

    @property
    def objective(self) -> float:
        return float(self.costs["objective"].sum())

    @property
    def max_gap(self) -> float:
        g = self.mip["gap"].dropna()
        return float(g.max()) if len(g) else float("nan")


def damage_table(nodes=(), links=()) -> pd.DataFrame:
    rows = [("node", str(a), str(b)) for a, b in nodes] + [("link", str(a), str(b)) for a, b in links]
    return pd.DataFrame(rows, columns=["kind", "layer", "element"])


def _split_damage(damage) -> tuple[list, list]:
    """A damage table (kind, layer, element) as (node keys, link keys)."""
    if damage is None:
        return [], []
    if isinstance(damage, pd.DataFrame):
        for col in ("kind", "layer", "element"):
            if col not in damage.columns:
                raise InputError(f"damage table lacks column {col!r}", location="damage")
        bad = set(damage["kind"]) - {"node", "link"}
        if bad:
            raise InputError(f"damage kind must be node or link (got {sorted(bad)})", location="damage.kind")
        n = damage[damage["kind"] == "node"]
        li = damage[damage["kind"] == "link"]
        return (
            list(zip(n["layer"].astype(str), n["element"].astype(str), strict=True)),
            list(zip(li["layer"].astype(str), li["element"].astype(str), strict=True)),
        )
    nodes, links = damage
    return [tuple(map(str, k)) for k in nodes], [tuple(map(str, k)) for k in links]


class Restorer:
    """A built (td-)INDP for one case, solved again and again with new damage.

    ``periods=1`` gives the iterative INDP (:meth:`iterative`); ``periods=T`` the td-INDP
    (:meth:`td`). ``resources``: override of the case's resources per period (a number or a
    dict resource -> number).
    """

    def __init__(
        self,
        case,
        periods: int = 1,
        options: INDPOptions | None = None,
        solver: str = "highs",
        resources=None,
        rel_gap: float | None = None,
        time_limit: float | None = None,
        fast: bool = False,
    ):
        self.case = case
        self.options = options or INDPOptions()
        self.data = compile_case(case, self.options)
        self.model = build_indp(case, periods, self.options, self.data)
        self.periods = periods
        kw = {} if rel_gap is None else {"rel_gap": rel_gap}
        self.solver = PersistentMIP(solver, time_limit=time_limit, **kw)
        #: ``fast``: solve the compiled model (the same matrix written straight into HiGHS,
        #: :mod:`~resiliopt.formulations.indp_compiled`) and load its values into the Pyomo
        #: model, which keeps the tables; where it writes the options and the solver is HiGHS
        self.compiled = (
            CompiledINDP(self.data, periods, self.options, self.solver.rel_gap, time_limit)
            if fast and solver == "highs" and supported(self.options)
            else None
        )
        if resources is not None:
            set_resources(self.model, resources)
        m = self.model
        T = list(m.T)
        self._wr = {k: [m.wr[k, t] for t in T] for k in self.data.nodes}
        self._yr = {k: [m.yr[k, t] for t in T] for k in self.data.links}
        nt = self.data.node_tab
        # layers without demand (not served in this reading) have no served share
        dn = {
            k: [n for n in self.data.nodes if n[0] == k and nt.at[n, "demand"] < 0] for k in self.data.layers
        }
        self._demand_nodes = {k: v for k, v in dn.items() if v}
        self._b = nt["demand"].to_dict()
        self._terms = None
        #: arcs a repaired link counts as (the published R8): 2 for a two-way link when paired
        lt = self.data.link_tab
        two = self.options.arc_model == "paired"
        self.arcs_per_link = {k: 2 if two and bool(lt.at[k, "two_way"]) else 1 for k in self.data.links}
        #: index in options.backups of each unit type the model has (those with count and capacity)
        self._unit_index = [
            i for i, bu in enumerate(self.options.backups) if bu.count > 0 and bu.capacity > 0
        ]

    # -- one solve -------------------------------------------------------------------------
    def start_from(self, starts) -> list:
        r"""A MIP start from planned repair starts ``starts`` ((kind, layer, element, period)
        rows, e.g. the last plan shifted by the periods since): the repair-start variables
        :math:`\tilde w, \tilde y` of every damaged element, 1 at its start and 0 elsewhere,
        keeping only starts that are feasible now (the element damaged, the repair ending in
        the horizon, the resources of every period of its window left); HiGHS completes the
        rest (states, flows, spaces). Returns ``[(variable, value)]``; call it after setting
        the damage and resources of the next solve."""
        m, d = self.model, self.data
        T = len(m.T)
        free = {t: min(float(pyo.value(m.v[r, t])) for r in m.R) for t in m.T}
        dn, dl = damaged(m)
        broken = {("node", *k) for k in dn} | {("link", *k) for k in dl}
        chosen = feasible_starts(starts, broken, d, free, T)
        out = []
        for kind, la, el in sorted(broken):
            vs = self._wr[la, el] if kind == "node" else self._yr[la, el]
            t0 = chosen.get((kind, la, el))
            out += [(v, 1.0 if t == t0 else 0.0) for t, v in enumerate(vs, start=1)]
        return out

    def _solve_compiled(self, prior=()):
        """Solve the compiled model with the Pyomo model's damage and resources (from the
        repair starts ``prior``, :meth:`start_from`); load the values into the Pyomo model's
        variables, whose tables the plan reads."""
        c, m = self.compiled, self.model
        dn, dl = damaged(m)
        c.set_damage(dn, dl)
        c.set_resources({r: [float(pyo.value(m.v[r, t])) for t in m.T] for r in m.R})
        start = c.start_from(prior) if len(prior) else None
        res = c.solve(start, WARM_OPTIONS if start is not None else COLD_OPTIONS)
        if not res.has_solution:
            raise SolveError(f"INDP solve ended {res.status} without a solution", status=res.status)
        lp = c.lp
        for j, (comp, idx) in enumerate(zip(lp.col_component, lp.col_index, strict=True)):
            getattr(m, comp)[idx].set_value(float(c.x[j]), skip_validation=True)
        return res

    def _solve(self, start: list | None = None):
        if self.compiled is not None and not start:
            return self._solve_compiled()
        opts = COLD_OPTIONS if not start else WARM_OPTIONS
        res = self.solver.solve(self.model, start, opts if self.solver.solver == "highs" else None)
        if not res.has_solution:
            raise SolveError(f"INDP solve ended {res.status} without a solution", status=res.status)
        return res

    def _repairs(self) -> list[tuple[str, str, str, int]]:
        out = []
        for k, vs in self._wr.items():
            for t, v in enumerate(vs, start=1):
                if v.value is not None and v.value > 0.5:
                    out.append(("node", k[0], k[1], t))
        for k, vs in self._yr.items():
            for t, v in enumerate(vs, start=1):
                if v.value is not None and v.value > 0.5:
                    out.append(("link", k[0], k[1], t))
        return out

    def _linear_terms(self):
        """Each cost expression as (variables, coefficients, constant), extracted once."""
        m = self.model
        out = {}
        for term in COST_TERMS:
            for t in m.T:
                repn = generate_standard_repn(getattr(m, term)[t].expr, compute_values=True)
                out[term, t] = (
                    list(repn.linear_vars),
                    np.array(repn.linear_coefs, dtype=float),
                    float(repn.constant),
                )
        return out

    def _costs(self, offset: int = 0) -> list[dict]:
        m = self.model
        if self._terms is None:
            self._terms = self._linear_terms()
        rows = []
        for t in m.T:
            r = {"period": t + offset}
            for term in COST_TERMS:
                vs, cs, c0 = self._terms[term, t]
                r[term] = float(np.dot(cs, [v.value or 0.0 for v in vs])) + c0 if vs else c0
            r["objective"] = sum(r[term] for term in COST_TERMS)
            rows.append(r)
        return rows

    def _served(self, offset: int = 0) -> list[dict]:
        m = self.model
        rows = []
        for t in m.T:
            for k, ns in self._demand_nodes.items():
                dem = sum(-self._b[n] for n in ns)
                short = sum(m.under[n, t].value or 0.0 for n in ns)
                served = dem - short
                rows.append(
                    {
                        "layer": k,
                        "period": t + offset,
                        "demand": dem,
                        "served": served,
                        "share": served / dem if dem > 0 else 1.0,
                    }
                )
        return rows

    def _detail(self, offset: int = 0):
        m, d = self.model, self.data
        flows = []
        for a in d.arcs:
            o, e = d.arc_ends[a]
            for t in m.T:
                x = m.x[a, t].value or 0.0
                if x > 1e-9:
                    flows.append((a[0], a[1], o[1], e[1], t + offset, x))
        backup, units = {}, []
        for la, nd, bi in m.B:
            for t in m.T:
                sup, placed = (
                    m.backup[la, nd, bi, t].value or 0.0,
                    int(round(m.place[la, nd, bi, t].value or 0)),
                )
                backup[(la, nd), t] = backup.get(((la, nd), t), 0.0) + sup
                if placed or sup > 1e-9:
                    units.append((la, nd, self._unit_index[bi], t + offset, placed, sup))
        nodes = [
            (
                k[0],
                k[1],
                t + offset,
                int(round(m.w[k, t].value or 0.0)),
                m.over[k, t].value or 0.0,
                m.under[k, t].value or 0.0,
                backup.get((k, t), 0.0),
            )
            for k in d.nodes
            for t in m.T
        ]
        used = {}
        for kind, la, el, t in self._repairs():  # a repair holds its resources while under way
            tab = d.node_tab if kind == "node" else d.link_tab
            for s in range(t, t + d.repair_periods[kind, la, el]):
                used[s] = used.get(s, 0.0) + float(tab.at[(la, el), "resource_use"])
        res = [(r, t + offset, float(pyo.value(m.v[r, t])), used.get(t, 0.0)) for r in m.R for t in m.T]
        return flows, nodes, res, units

    # -- plans -----------------------------------------------------------------------------
    def iterative(self, damage, max_iterations: int | None = None, detail: bool = True) -> Plan:
        """Iterative INDP: one period at a time, each period's repairs taken as done, until
        nothing is damaged or a period repairs nothing (the same model would then repeat)."""
        if self.periods != 1:
            raise InputError("the iterative INDP needs a Restorer built with periods=1", location="periods")
        nodes, links = _split_damage(damage)
        set_damage(self.model, nodes, links)
        left_n, left_l = damaged(self.model)
        long = [
            (kind, *k)
            for kind, ks in (("node", left_n), ("link", left_l))
            for k in ks
            if self.data.repair_periods[(kind, *k)] > 1
        ]
        if long:
            kind, la, el = long[0]
            raise InputError(
                f"the iterative INDP plans one period at a time and cannot start a repair that takes "
                f"longer: {len(long)} damaged element(s) take more than one period (e.g. {kind} {el!r} of "
                f"{la!r}: {self.data.repair_periods[long[0]]} periods, from its repair_time); use the "
                "td-INDP, or durations='one' to plan every repair as one period",
                location="method",
            )
        limit = max_iterations if max_iterations is not None else len(left_n) + len(left_l) + 1
        reps, costs, served, mip, flows, nrows, res, units = [], [], [], [], [], [], [], []
        it = 0
        while it < limit:
            it += 1
            r = self._solve()
            mip.append((it, 1, r.status, r.objective, r.bound, r.gap, r.seconds, r.solver))
            done = [(k, la, el, it) for k, la, el, _ in self._repairs()]
            reps += done
            costs += self._costs(offset=it - 1)
            served += self._served(offset=it - 1)
            if detail:
                f, nd, rs, bu = self._detail(offset=it - 1)
                flows += f
                nrows += nd
                res += rs
                units += bu
            mark_repaired(self.model, done)
            left_n, left_l = damaged(self.model)
            if not done or not (left_n or left_l):
                break
        plan = self._plan("iterative", reps, costs, served, flows, nrows, mip, res, nodes, links, units)
        plan.unrepaired = damage_table(left_n, left_l)
        return plan

    def td(self, damage, prior=()) -> Plan:
        """td-INDP: one MILP over all ``periods`` periods; ``prior`` (kind, layer, element,
        period) rows: a MIP start (:meth:`start_from`)."""
        nodes, links = _split_damage(damage)
        set_damage(self.model, nodes, links)
        if self.compiled is not None:
            r = self._solve_compiled(prior)
        else:
            r = self._solve(self.start_from(prior) if len(prior) else None)
        mip = [(1, self.periods, r.status, r.objective, r.bound, r.gap, r.seconds, r.solver)]
        reps = self._repairs()
        f, nd, rs, bu = self._detail()
        plan = self._plan("td", reps, self._costs(), self._served(), f, nd, mip, rs, nodes, links, bu)
        left_n, left_l = damaged(self.model)
        rep = {(k, la, el) for k, la, el, _ in reps}
        plan.unrepaired = damage_table(
            [k for k in left_n if ("node", *k) not in rep], [k for k in left_l if ("link", *k) not in rep]
        )
        return plan

    def _plan(self, method, reps, costs, served, flows, nrows, mip, res, nodes, links, units) -> Plan:
        tau = self.data.repair_periods
        reps = [(*r, tau[r[:3]], r[3] + tau[r[:3]] - 1) for r in reps]
        return Plan(
            method,
            pd.DataFrame(reps, columns=["kind", "layer", "element", "period", "duration", "works_from"]),
            pd.DataFrame(costs, columns=["period", *COST_TERMS, "objective"]),
            pd.DataFrame(served, columns=["layer", "period", "demand", "served", "share"]),
            pd.DataFrame(flows, columns=["layer", "link", "from", "to", "period", "flow"]),
            pd.DataFrame(
                nrows, columns=["layer", "node", "period", "works", "oversupply", "undersupply", "backup"]
            ),
            pd.DataFrame(
                mip, columns=["solve", "periods", "status", "objective", "bound", "gap", "seconds", "solver"]
            ),
            pd.DataFrame(res, columns=["resource", "period", "available", "used"]),
            damage_table(nodes, links),
            backups=pd.DataFrame(units, columns=BACKUP_COLUMNS),
        )


def restore(
    case,
    damage,
    method: str = "iterative",
    periods: int = 10,
    resources=None,
    options: INDPOptions | None = None,
    solver: str = "highs",
    max_iterations: int | None = None,
    time_limit: float | None = None,
) -> Plan:
    """One restoration plan for ``damage`` (a (kind, layer, element) table); ``time_limit``
    (seconds, td-INDP): the incumbent then, with its gap (the plan's ``mip`` table)."""
    if method == "iterative":
        return Restorer(case, 1, options, solver, resources).iterative(damage, max_iterations)
    if method == "td":  # the compiled model where it writes the options (docs/indp.md, "Speed")
        return Restorer(case, periods, options, solver, resources, time_limit=time_limit, fast=True).td(
            damage
        )
    raise InputError(f"method must be iterative or td (got {method!r})", location="--method")
