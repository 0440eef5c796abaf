"""Optimal restoration plans: iterative INDP and td-INDP (docs/indp.md).

:class:`Restorer` holds one built MILP (:func:`~resiliopt.formulations.indp.build_indp`) and
one persistent solver; every plan it makes only changes the model's mutable parameters
(damage, resources), never rebuilds it. A :class:`Plan` is a set of tidy tables; every plan
can be checked against the case's input tables by :func:`check_plan`, which shares no code
with the builder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

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
from resiliopt.solvers.mip import PersistentMIP

COST_TERMS = [
    "flow_cost",
    "node_repair_cost",
    "link_repair_cost",
    "space_cost",
    "unbalance_cost",
    "extension_cost",
]


@dataclass
class Plan:
    """A restoration plan as tidy tables (element keys are (kind, layer, element) columns)."""

    method: str  # "iterative" or "td"
    repairs: pd.DataFrame  # kind, layer, element, period
    costs: pd.DataFrame  # period, <COST_TERMS>, objective
    served: pd.DataFrame  # layer, period, demand, served, share
    flows: pd.DataFrame  # layer, link, from, to, period, flow
    nodes: pd.DataFrame  # layer, node, period, works, oversupply, undersupply, backup
    mip: pd.DataFrame  # solve, periods, status, objective, bound, gap, seconds, solver
    resources: pd.DataFrame  # resource, period, available, used
    damage: pd.DataFrame  # kind, layer, element
    unrepaired: pd.DataFrame = field(default_factory=pd.DataFrame)  # kind, layer, element

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
    ):
        self.case = case
        self.options = options or INDPOptions()
        self.data = compile_case(case, self.options)
        self.model = build_indp(case, periods, self.options, self.data)
        self.periods = periods
        kw = {} if rel_gap is None else {"rel_gap": rel_gap}
        self.solver = PersistentMIP(solver, time_limit=time_limit, **kw)
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

    # -- one solve -------------------------------------------------------------------------
    def _solve(self):
        res = self.solver.solve(self.model)
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
        from pyomo.repn import generate_standard_repn

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
        backup = {}
        for la, nd, bi in m.B:
            for t in m.T:
                backup[(la, nd), t] = backup.get(((la, nd), t), 0.0) + (m.backup[la, nd, bi, t].value or 0.0)
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
        for kind, la, el, t in self._repairs():
            tab = d.node_tab if kind == "node" else d.link_tab
            used[t] = used.get(t, 0.0) + float(tab.at[(la, el), "resource_use"])
        res = [(r, t + offset, float(pyo.value(m.v[r, t])), used.get(t, 0.0)) for r in m.R for t in m.T]
        return flows, nodes, res

    # -- plans -----------------------------------------------------------------------------
    def iterative(self, damage, max_iterations: int | None = None, detail: bool = True) -> Plan:
        """Iterative INDP: one period at a time, each period's repairs taken as done, until
        nothing is damaged or a period repairs nothing (the same model would then repeat)."""
        if self.periods != 1:
            raise InputError("the iterative INDP needs a Restorer built with periods=1", location="periods")
        nodes, links = _split_damage(damage)
        set_damage(self.model, nodes, links)
        left_n, left_l = damaged(self.model)
        limit = max_iterations if max_iterations is not None else len(left_n) + len(left_l) + 1
        reps, costs, served, mip, flows, nrows, res = [], [], [], [], [], [], []
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
                f, nd, rs = self._detail(offset=it - 1)
                flows += f
                nrows += nd
                res += rs
            mark_repaired(self.model, done)
            left_n, left_l = damaged(self.model)
            if not done or not (left_n or left_l):
                break
        plan = self._plan("iterative", reps, costs, served, flows, nrows, mip, res, nodes, links)
        plan.unrepaired = damage_table(left_n, left_l)
        return plan

    def td(self, damage) -> Plan:
        """td-INDP: one MILP over all ``periods`` periods."""
        nodes, links = _split_damage(damage)
        set_damage(self.model, nodes, links)
        r = self._solve()
        mip = [(1, self.periods, r.status, r.objective, r.bound, r.gap, r.seconds, r.solver)]
        reps = self._repairs()
        f, nd, rs = self._detail()
        plan = self._plan("td", reps, self._costs(), self._served(), f, nd, mip, rs, nodes, links)
        left_n, left_l = damaged(self.model)
        rep = {(k, la, el) for k, la, el, _ in reps}
        plan.unrepaired = damage_table(
            [k for k in left_n if ("node", *k) not in rep], [k for k in left_l if ("link", *k) not in rep]
        )
        return plan

    def _plan(self, method, reps, costs, served, flows, nrows, mip, res, nodes, links) -> Plan:
        return Plan(
            method,
            pd.DataFrame(reps, columns=["kind", "layer", "element", "period"]),
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
) -> Plan:
    """One restoration plan for ``damage`` (a (kind, layer, element) table)."""
    if method == "iterative":
        return Restorer(case, 1, options, solver, resources).iterative(damage, max_iterations)
    if method == "td":
        return Restorer(case, periods, options, solver, resources).td(damage)
    raise InputError(f"method must be iterative or td (got {method!r})", location="--method")


# -- the independent check -----------------------------------------------------------------


@dataclass
class PlanCheck:
    checks: pd.DataFrame  # check, ok, detail
    objective_recomputed: float
    objective_reported: float

    @property
    def ok(self) -> bool:
        return bool(self.checks["ok"].all())


def check_plan(case, plan: Plan, options: INDPOptions | None = None, tol: float = 1e-6) -> PlanCheck:
    """Check ``plan`` against the case's input tables alone (not the model's rows).

    Verified: repairs only of damaged elements, each once; resources per period within the
    plan's availability; flows >= 0, within capacity, in an allowed direction, only on working
    links between working nodes, where *working* is recomputed from the damage, the repairs and
    the dependency table (the greatest set closed under the dependency rule); the balance of
    every node gives the over- and under-supply; the objective recomputed from the cost
    columns equals the solver's, period by period.
    """
    options = options or INDPOptions()
    checks = []

    def add(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    nodes_t = case.nodes.assign(layer=case.nodes["layer"].astype(str), node=case.nodes["node"].astype(str))
    links_t = case.links.assign(layer=case.links["layer"].astype(str), link=case.links["link"].astype(str))
    nodes_t = nodes_t.set_index(["layer", "node"])
    links_t = links_t.set_index(["layer", "link"])
    periods = sorted(plan.costs["period"].astype(int))
    dmg = {(r.kind, r.layer, r.element) for r in plan.damage.itertuples(index=False)}
    directed = options.arc_model == "directed"
    factor = 2.0 if options.arc_model == "paired" else 1.0

    def base(kind, el):
        """(link id, direction) of a repaired unit: "X:+" / "X:-" are the arcs of link X."""
        if kind == "link" and directed and el[-2:] in (":+", ":-"):
            return el[:-2], el[-1]
        return el, None

    rep = plan.repairs
    keys = list(zip(rep["kind"], rep["layer"], rep["element"], strict=True))
    bad = [k for k in keys if (k[0], k[1], base(k[0], k[2])[0]) not in dmg]
    add("repairs only damaged elements", not bad, str(bad[:5]))
    add("each element repaired at most once", len(keys) == len(set(keys)))
    add("repairs within the plan's periods", rep["period"].isin(periods).all() if len(rep) else True)

    if options.service_layers is not None:
        nodes_t.loc[~nodes_t.index.get_level_values("layer").isin(options.service_layers), "demand"] = 0.0

    def attr(kind, layer, el, col):
        if kind == "node":
            return float(nodes_t.at[(layer, el), col])
        b = base(kind, el)[0]
        f = factor if bool(links_t.at[(layer, b), "two_way"]) else 1.0
        return f * float(links_t.at[(layer, b), col])

    def use(r):
        return attr(r.kind, r.layer, r.element, "resource_use")

    used = {}
    for r in rep.itertuples(index=False):
        used[r.period] = used.get(r.period, 0.0) + use(r)
    avail = plan.resources.groupby("period")["available"].min().to_dict()
    over = {t: used.get(t, 0.0) - avail.get(t, np.inf) for t in periods}
    add(
        "resources per period respected",
        all(v <= tol for v in over.values()),
        ", ".join(f"t={t}: used {used.get(t, 0):g} of {avail.get(t, np.inf):g}" for t in periods),
    )

    deps = case.dependencies
    if deps is not None and len(deps):
        deps = deps[deps["type"].isin(options.dependency_types)]
    flows = plan.flows
    bk = plan.nodes.set_index(["layer", "node", "period"])["backup"] if len(plan.nodes) else None
    costs = plan.costs.set_index("period")
    ok_flow, ok_cap, ok_dir, ok_obj, ok_own = True, True, True, True, True
    detail_obj = []
    recomputed_total = 0.0
    link_end = {k: (str(r["from"]), str(r["to"]), bool(r["two_way"])) for k, r in links_t.iterrows()}
    spaces = case.spaces.set_index("space")["preparation_cost"].to_dict() if case.spaces is not None else {}
    es = (
        case.element_spaces
        if case.element_spaces is not None
        else pd.DataFrame(columns=["kind", "layer", "element", "space"])
    )
    space_of = {}
    for r in es.itertuples(index=False):
        space_of.setdefault((r.kind, str(r.layer), str(r.element)), set()).add(str(r.space))
    for t in periods:
        fixed = {
            (k, la, el)
            for k, la, el, p in zip(rep["kind"], rep["layer"], rep["element"], rep["period"], strict=True)
            if p <= t
        }
        up_node = {k for k in nodes_t.index if ("node", *k) not in dmg or ("node", *k) in fixed}

        def link_up(layer, el, d, fixed=fixed):
            """Link ``el`` works in direction ``d`` ("+" from->to, "-" back) at period t."""
            if ("link", layer, el) not in dmg:
                return True
            unit = f"{el}:{d}" if directed else el
            return ("link", layer, unit) in fixed

        works = _dependency_closure(up_node, deps, options.dependency_rule)
        ft = flows[flows["period"] == t]
        net = dict.fromkeys(nodes_t.index, 0.0)
        flow_cost = 0.0
        for la, li, fr, to, x in zip(ft["layer"], ft["link"], ft["from"], ft["to"], ft["flow"], strict=True):
            li_base, _ = base("link", str(li))
            k = (str(la), li_base)
            a, b, two = link_end[k]
            o, e = (k[0], str(fr)), (k[0], str(to))
            if x < -tol:
                ok_flow = False
            if x > float(links_t.at[k, "capacity"]) * (1 + tol) + tol:
                ok_cap = False
            d = "+" if (o[1], e[1]) == (a, b) else "-"
            if not (d == "+" or (two and (o[1], e[1]) == (b, a))):
                ok_dir = False
            if x > tol and not (link_up(k[0], li_base, d) and o in works and e in works):
                ok_flow = False
            net[o] += x
            net[e] -= x
            flow_cost += float(links_t.at[k, "flow_cost"]) * x
        unbalance = 0.0
        for k, row in nodes_t.iterrows():
            s = float(bk.get((k[0], k[1], t), 0.0)) if bk is not None else 0.0
            gap = float(row["demand"]) + s - net[k]  # = oversupply - undersupply
            if gap > max(float(row["demand"]), 0.0) + tol or -gap > max(-float(row["demand"]), 0.0) + tol:
                ok_own = False
            unbalance += float(row["oversupply_penalty"]) * max(gap, 0.0) + float(row["unmet_penalty"]) * max(
                -gap, 0.0
            )
        rt = rep[rep["period"] == t]
        repair = sum(attr(r.kind, r.layer, r.element, "repair_cost") for r in rt.itertuples(index=False))
        prepared = set().union(
            *[
                space_of.get((r.kind, r.layer, base(r.kind, r.element)[0]), set())
                for r in rt.itertuples(index=False)
            ]
        )
        space = sum(float(spaces[s]) for s in prepared)
        ext = float(costs.at[t, "extension_cost"]) if "extension_cost" in costs else 0.0
        total = flow_cost + repair + space + unbalance + ext
        reported = float(costs.at[t, "objective"])
        recomputed_total += total
        if abs(total - reported) > tol * max(1.0, abs(reported)) + 1e-6:
            ok_obj = False
            detail_obj.append(f"t={t}: recomputed {total:.6f} vs solver {reported:.6f}")
    add("flows >= 0 and only through working elements (dependencies honoured)", ok_flow)
    add("flows within capacity", ok_cap)
    add("flows in an allowed direction", ok_dir)
    add("no node is short of more than its demand or left with more than its supply", ok_own)
    add("objective recomputed from the input tables equals the solver's", ok_obj, "; ".join(detail_obj))
    add(
        "every solve reached a proven optimum",
        (plan.mip["status"] == "optimal").all(),
        f"max gap {plan.max_gap:.3g}",
    )
    return PlanCheck(
        pd.DataFrame(checks, columns=["check", "ok", "detail"]), recomputed_total, plan.objective
    )


def _dependency_closure(up: set, deps, rule: str) -> set:
    """The largest set W within ``up`` such that every node of W has its dependencies met in W."""
    if deps is None or not len(deps):
        return set(up)
    need: dict = {}
    for r in deps.itertuples(index=False):
        der = (str(r.depender_layer), str(r.depender))
        need.setdefault(der, {}).setdefault(str(r.dependee_layer), []).append(
            ((str(r.dependee_layer), str(r.dependee)), float(r.loss))
        )
    works = set(up)
    changed = True
    while changed:
        changed = False
        for j in list(works):
            for lst in need.get(j, {}).values():
                if rule == "any":
                    ok = sum(g for i, g in lst if i in works) >= 1.0 - 1e-9
                else:
                    ok = all(i in works for i, _ in lst)
                if not ok:
                    works.discard(j)
                    changed = True
                    break
    return works
