r"""The independent check of a restoration plan against the INPUT (docs/indp.md, "Proof of every
plan"). It shares no code with the model builder (:mod:`resiliopt.formulations.indp`).

What it reads from where:

* from the **input**: the damage given to the check (``damage=``), the resources available
  per period (``resources=``, the same specification as given to
  :class:`~resiliopt.infra.restoration.Restorer`; default: the case's ``per_period``), every
  number of the case's tables (capacities, flow and repair costs, resource use, repair
  durations :math:`\tau_i = \max(1, \lceil \text{repair\_time}_i \rceil)`, penalties, spaces,
  dependencies) and the options (:class:`~resiliopt.formulations.indp.INDPOptions`);
* from the **plan**, only its decisions: the repair starts (``repairs``), the flows, the backup
  units placed (``backups``) and what it claims (node states, its resource and cost tables,
  the solver's objective), which are compared with what the decisions imply.

Each check (one row of :attr:`PlanCheck.checks`, name in :data:`CHECKS`):

``damaged``     repairs only of damaged elements;
``once``        each element repaired at most once;
``horizon``     the plan's periods are :math:`1..P`; every repair starts in one and ends by
                :math:`P`: :math:`t_i + \tau_i - 1 \le P`; its ``duration`` and ``works_from``
                columns equal :math:`\tau_i` and :math:`t_i + \tau_i - 1`;
``resources``   per resource :math:`r` and period :math:`t` (not summed over periods):
                :math:`\sum_{i: t_i \le t \le t_i + \tau_i - 1} p_i \le v_{rt}` (input);
``resource table`` the plan's ``resources`` table claims no more than the input's
                :math:`v_{rt}` (a plan made with fewer resources is still a plan for the
                input), states the use recomputed above and uses no more than it claims;
``capacity``    :math:`0 \le x_{at} \le u_a`;  ``direction``: one-way links used one way;
``working``     flows only on working links between working nodes, and no node reported
                working unless it works, where an element works at :math:`t` if undamaged or
                :math:`t_i + \tau_i - 1 \le t`, closed under the dependency rule;
``balance``     no node short of more than its demand or left with more than its supply;
``backups``     backup units within their count, capacity and each node's own demand;
``costs``       every cost term of every period recomputed from the input equals the plan's
                (flow, node and link repair at the start period, spaces in every period a
                repair in them is under way, unbalance, extensions), and the objective column
                is their sum;
``solver objective`` the recomputed objective equals the solver's (``mip`` table);
``optimal``     every solve reached a proven optimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from resiliopt.errors import InputError
from resiliopt.formulations.indp import INDPOptions

CHECKS = {
    "damaged": "repairs only damaged elements",
    "once": "each element repaired at most once",
    "horizon": "repairs start in the plan's periods and end by its last (durations from the case)",
    "resources": "resources in use per period within what the input gives",
    "resource table": "the plan claims no more resources than the input gives, and the use it states",
    "capacity": "flows >= 0 and within capacity",
    "direction": "flows in an allowed direction",
    "working": "flows and reported states only through working elements (repairs done, dependencies)",
    "balance": "no node is short of more than its demand or left with more than its supply",
    "backups": "backup units within their count, capacity and the node's own demand",
    "costs": "every cost term recomputed from the input tables equals the plan's, per period",
    "solver objective": "objective recomputed from the input equals the solver's",
    "optimal": "every solve reached a proven optimum",
}


@dataclass
class PlanCheck:
    checks: pd.DataFrame  # check, ok, detail
    objective_recomputed: float
    objective_reported: float
    #: where the check took the damage and the resources from ("given", "case" or "plan")
    inputs: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks["ok"].all())

    def failed(self) -> set[str]:
        """Names of the failed checks (the long names, as in the ``check`` column)."""
        return set(self.checks.loc[~self.checks["ok"], "check"])


def _damage_set(damage) -> set:
    if isinstance(damage, pd.DataFrame):
        for col in ("kind", "layer", "element"):
            if col not in damage.columns:
                raise InputError(f"damage table lacks column {col!r}", location="damage")
        return {(str(k), str(la), str(e)) for k, la, e in damage[["kind", "layer", "element"]].to_numpy()}
    nodes, links = damage
    return {("node", str(a), str(b)) for a, b in nodes} | {("link", str(a), str(b)) for a, b in links}


def _available(case, resources, periods: list[int]) -> dict:
    """v[r, t] from the case's resources, overridden by ``resources`` (a number for every
    resource and period, or a dict resource -> number or per-period sequence)."""
    base = {str(r.resource): float(r.per_period) for r in case.resources.itertuples(index=False)}
    out = {}
    for r, v0 in base.items():
        spec = v0 if resources is None else resources
        if isinstance(spec, dict):
            spec = spec.get(r, v0)
        vals = np.atleast_1d(np.asarray(spec, dtype=float))
        if len(vals) == 1:
            vals = np.repeat(vals, len(periods))
        if len(vals) != len(periods):
            raise InputError(
                f"resources for {r!r} give {len(vals)} periods, the plan has {len(periods)}",
                location="resources",
            )
        out.update({(r, t): float(x) for t, x in zip(periods, vals, strict=True)})
    return out


def check_plan(
    case,
    plan,
    options: INDPOptions | None = None,
    tol: float = 1e-6,
    *,
    damage=None,
    resources=None,
) -> PlanCheck:
    """Check ``plan`` against the input alone (module docstring): ``damage`` the damage the
    plan was made for (a kind, layer, element table, or (nodes, links)); ``resources`` the
    resources per period given to the planner (default: the case's). Without ``damage`` the
    plan's own damage table is used (``inputs["damage"] == "plan"``): pass it."""
    options = options or INDPOptions()
    rows: dict[str, tuple[bool, str]] = {}

    def add(key, ok, detail=""):
        rows[key] = (bool(ok), str(detail))

    nodes_t = case.nodes.assign(layer=case.nodes["layer"].astype(str), node=case.nodes["node"].astype(str))
    links_t = case.links.assign(layer=case.links["layer"].astype(str), link=case.links["link"].astype(str))
    nodes_t = nodes_t.set_index(["layer", "node"])
    links_t = links_t.set_index(["layer", "link"])
    if options.service_layers is not None:
        nodes_t.loc[~nodes_t.index.get_level_values("layer").isin(options.service_layers), "demand"] = 0.0
    periods = sorted(int(p) for p in plan.costs["period"])
    P = max(periods) if periods else 0
    inputs = {"damage": "given" if damage is not None else "plan", "resources": "given"}
    if resources is None:
        inputs["resources"] = "case"
    dmg = _damage_set(damage if damage is not None else plan.damage)
    avail = _available(case, resources, periods)
    directed = options.arc_model == "directed"
    factor = 2.0 if options.arc_model == "paired" else 1.0

    def base(kind, el):
        """(link id, direction) of a repaired unit: "X:+" / "X:-" are the arcs of link X."""
        if kind == "link" and directed and el[-2:] in (":+", ":-"):
            return el[:-2], el[-1]
        return el, None

    def row(kind, layer, el):
        if kind == "node":
            return nodes_t.loc[(layer, el)], 1.0
        b = base(kind, el)[0]
        r = links_t.loc[(layer, b)]
        return r, factor if bool(r["two_way"]) else 1.0

    def tau(kind, layer, el) -> int:
        r, _ = row(kind, layer, el)
        if options.durations == "one" or "repair_time" not in r.index:
            return 1
        return max(1, math.ceil(float(r["repair_time"]) - 1e-9))

    rep = plan.repairs
    keys = [(str(k), str(la), str(e)) for k, la, e in rep[["kind", "layer", "element"]].to_numpy()]
    starts = [int(p) for p in rep["period"]]
    bad = [k for k in keys if (k[0], k[1], base(k[0], k[2])[0]) not in dmg]
    add("damaged", not bad, str(bad[:5]))
    add("once", len(keys) == len(set(keys)), "")
    # an element the case does not have cannot be looked up below: it fails "damaged" above
    known = [
        (k[1], base(k[0], k[2])[0]) in (nodes_t.index if k[0] == "node" else links_t.index) for k in keys
    ]
    rep = rep[known]
    keys = [k for k, kn in zip(keys, known, strict=True) if kn]
    starts = [s for s, kn in zip(starts, known, strict=True) if kn]
    taus = [tau(*k) for k in keys]
    # -- horizon and durations ---------------------------------------------------------------
    late = [
        (k, s, d) for k, s, d in zip(keys, starts, taus, strict=True) if s not in periods or s + d - 1 > P
    ]
    claims = []
    if "duration" in rep.columns:
        claims += [k for k, d, c in zip(keys, taus, rep["duration"], strict=True) if int(c) != d]
    if "works_from" in rep.columns:
        claims += [
            k for k, s, d, c in zip(keys, starts, taus, rep["works_from"], strict=True) if int(c) != s + d - 1
        ]
    consecutive = periods == list(range(1, len(periods) + 1))
    add(
        "horizon",
        consecutive and not late and not claims,
        "; ".join(
            ([] if consecutive else [f"periods {periods[:5]} are not 1..{len(periods)}"])
            + [f"{k} starts {s}, takes {d}: ends after {P}" for k, s, d in late[:3]]
            + [f"{k}: duration or works_from is not the case's" for k in claims[:3]]
        ),
    )
    # -- resources, per period -----------------------------------------------------------------
    use = [row(*k)[0]["resource_use"] * row(*k)[1] for k in keys]
    used = dict.fromkeys(periods, 0.0)
    for s, d, u in zip(starts, taus, use, strict=True):
        for t in range(s, s + d):
            if t in used:
                used[t] += float(u)
    over = [(r, t, used[t], v) for (r, t), v in avail.items() if used[t] > v + tol]
    add(
        "resources",
        not over,
        "; ".join(f"{r} t={t}: {u:g} in use, {v:g} available" for r, t, u, v in over[:5]),
    )
    tab_bad = []
    if len(plan.resources):
        got = {
            (str(r), int(t)): (a, u)
            for r, t, a, u in plan.resources[["resource", "period", "available", "used"]].to_numpy()
        }
        if set(got) != set(avail):
            tab_bad.append(f"rows {sorted(set(got) ^ set(avail))[:3]}")
        for key, (a, u) in got.items():
            # a plan made with fewer resources than the input gives (--v below the case's) is
            # still a plan for the input; one that claims more is not, nor one using more than
            # it says it has
            v = avail.get(key)
            # (use above the input's v is the "resources" check; above a smaller claim, this one)
            if v is not None and (
                a > v + tol or abs(u - used[key[1]]) > tol or (a < v - tol and u > a + tol)
            ):
                tab_bad.append(
                    f"{key}: plan claims {a:g} available, {u:g} used; input {v:g}, used {used[key[1]]:g}"
                )
    add("resource table", not tab_bad, "; ".join(tab_bad[:5]))
    # -- flows, states, balance, costs, per period ----------------------------------------------
    deps = case.dependencies
    if deps is not None and len(deps):
        deps = deps[deps["type"].isin(options.dependency_types)]
    flows = plan.flows
    bk = getattr(plan, "backups", None)
    if bk is None:
        bk = pd.DataFrame(columns=["layer", "node", "unit", "period", "placed", "supply"])
    supply = bk.groupby(["layer", "node", "period"])["supply"].sum().to_dict() if len(bk) else {}
    claimed = plan.nodes[plan.nodes["works"] > 0.5] if len(plan.nodes) else plan.nodes
    costs = plan.costs.set_index("period")
    link_end = {k: (str(r["from"]), str(r["to"]), bool(r["two_way"])) for k, r in links_t.iterrows()}
    spaces = case.spaces.set_index("space")["preparation_cost"].to_dict() if case.spaces is not None else {}
    es = case.element_spaces
    space_of: dict = {}
    if es is not None:
        for r in es.itertuples(index=False):
            space_of.setdefault((r.kind, str(r.layer), str(r.element)), set()).add(str(r.space))
    mminus = nodes_t["unmet_penalty"].astype(float)
    pen = options.tier1_shortfall_penalty
    if pen is None:
        pen = 10.0 * max([float(v) for v in mminus] + [1.0])
    tier1: dict = {}
    if options.tier1_min_share is not None:
        t1 = nodes_t[(nodes_t["tier"].astype(int) == 1) & (nodes_t["demand"] < 0)]
        for k in t1.index:
            tier1.setdefault(k[0], []).append(k)
    ok = dict.fromkeys(["capacity", "direction", "working", "balance"], True)
    notes: dict = {"working": [], "costs": []}
    recomputed_total, recomputed = 0.0, {}
    for t in periods:
        done = {k for k, s, d in zip(keys, starts, taus, strict=True) if s + d - 1 <= t}
        busy = [(k, s) for k, s, d in zip(keys, starts, taus, strict=True) if s <= t <= s + d - 1]
        up_node = {k for k in nodes_t.index if ("node", *k) not in dmg or ("node", *k) in done}

        def link_up(layer, el, d, done=done):
            if ("link", layer, el) not in dmg:
                return True
            return ("link", layer, f"{el}:{d}" if directed else el) in done

        works = _dependency_closure(up_node, deps, options.dependency_rule)
        ct = claimed[claimed["period"] == t] if len(claimed) else claimed
        wrong = (
            [
                (la, nd)
                for la, nd in zip(ct["layer"].astype(str), ct["node"].astype(str), strict=True)
                if (la, nd) not in works
            ]
            if len(ct)
            else []
        )
        if wrong:
            ok["working"] = False
            notes["working"].append(f"t={t}: reported working {wrong[:3]}")
        ft = flows[flows["period"] == t]
        net = dict.fromkeys(nodes_t.index, 0.0)
        flow_cost = 0.0
        for la, li, fr, to, x in zip(ft["layer"], ft["link"], ft["from"], ft["to"], ft["flow"], strict=True):
            li_base, _ = base("link", str(li))
            k = (str(la), li_base)
            a, b, two = link_end[k]
            o, e = (k[0], str(fr)), (k[0], str(to))
            if x < -tol or x > float(links_t.at[k, "capacity"]) * (1 + tol) + tol:
                ok["capacity"] = False
            d = "+" if (o[1], e[1]) == (a, b) else "-"
            if not (d == "+" or (two and (o[1], e[1]) == (b, a))):
                ok["direction"] = False
            if x > tol and not (link_up(k[0], li_base, d) and o in works and e in works):
                ok["working"] = False
                notes["working"].append(f"t={t}: flow {x:g} on {k}")
            net[o] += x
            net[e] -= x
            flow_cost += float(links_t.at[k, "flow_cost"]) * x
        unbalance, under = 0.0, {}
        for k, r in nodes_t.iterrows():
            b = float(r["demand"])
            gap = b + float(supply.get((k[0], k[1], t), 0.0)) - net[k]  # = oversupply - undersupply
            if gap > max(b, 0.0) + tol or -gap > max(-b, 0.0) + tol:
                ok["balance"] = False
            under[k] = max(-gap, 0.0)
            unbalance += float(r["oversupply_penalty"]) * max(gap, 0.0) + float(r["unmet_penalty"]) * under[k]
        started = [(k, s) for k, s in zip(keys, starts, strict=True) if s == t]
        node_rep = sum(float(row(*k)[0]["repair_cost"]) for k, _ in started if k[0] == "node")
        link_rep = sum(float(row(*k)[0]["repair_cost"]) * row(*k)[1] for k, _ in started if k[0] == "link")
        prepared = set().union(*[space_of.get((k[0], k[1], base(k[0], k[2])[0]), set()) for k, _ in busy])
        space = sum(float(spaces[s]) for s in prepared)
        share = options.tier1_min_share or 0.0
        ext = sum(
            pen
            * max(
                0.0,
                sum(under[n] for n in ns) - (1 - share) * sum(-float(nodes_t.at[n, "demand"]) for n in ns),
            )
            for ns in tier1.values()
        )
        bt = bk[bk["period"] == t] if len(bk) else bk
        ext += (
            sum(
                float(options.backups[int(u)].cost) * float(p)
                for u, p in zip(bt["unit"], bt["placed"], strict=True)
                if 0 <= int(u) < len(options.backups)
            )
            if len(bt)
            else 0.0
        )
        terms = {
            "flow_cost": flow_cost,
            "node_repair_cost": node_rep,
            "link_repair_cost": link_rep,
            "space_cost": space,
            "unbalance_cost": unbalance,
            "extension_cost": ext,
        }
        total = sum(terms.values())
        recomputed[t] = total
        recomputed_total += total
        if t not in costs.index:
            notes["costs"].append(f"t={t}: no cost row")
            continue
        scale = tol * max(1.0, abs(total)) + 1e-6
        for name, val in [*terms.items(), ("objective", total)]:
            rep_val = float(costs.at[t, name]) if name in costs.columns else float("nan")
            if not abs(rep_val - val) <= scale:
                notes["costs"].append(f"t={t} {name}: input {val:.6f}, plan {rep_val:.6f}")
    for key in ("capacity", "direction", "balance"):
        add(key, ok[key])
    add("working", ok["working"], "; ".join(notes["working"][:5]))
    add("backups", *_check_backups(bk, nodes_t, options, tol))
    add("costs", not notes["costs"], "; ".join(notes["costs"][:5]))
    add("solver objective", *_check_solver(plan.mip, recomputed, periods, tol))
    add("optimal", (plan.mip["status"] == "optimal").all(), f"max gap {plan.max_gap:.3g}")
    table = pd.DataFrame([(CHECKS[k], *rows[k]) for k in CHECKS], columns=["check", "ok", "detail"])
    return PlanCheck(table, recomputed_total, plan.objective, inputs)


def _check_backups(bk: pd.DataFrame, nodes_t: pd.DataFrame, options: INDPOptions, tol: float):
    if not len(bk):
        return True, ""
    bad = []
    units = options.backups
    count: dict = {}
    at_node: dict = {}
    for la, nd, u, t, placed, s in bk[["layer", "node", "unit", "period", "placed", "supply"]].to_numpy():
        u, key = int(u), (str(la), str(nd))
        if not 0 <= u < len(units) or units[u].layer != key[0] or key not in nodes_t.index:
            bad.append(f"unit {u} at {key}: no such unit of that layer")
            continue
        if units[u].nodes is not None and key[1] not in units[u].nodes:  # BackupUnit.nodes
            bad.append(f"unit {u} at {key}: not one of its nodes")
            continue
        dem = -float(nodes_t.at[key, "demand"])
        if placed not in (0, 1) or s < -tol or s > units[u].capacity * placed + tol or dem <= 0:
            bad.append(f"unit {u} at {key} t={t}: placed {placed}, supply {s:g}")
        count[u, t] = count.get((u, t), 0) + placed
        at_node[key, t] = at_node.get((key, t), 0.0) + s
    bad += [
        f"unit {u} t={t}: {c:g} placed of {units[u].count}"
        for (u, t), c in count.items()
        if c > units[u].count
    ]
    bad += [
        f"{k} t={t}: backup {s:g} above its demand"
        for (k, t), s in at_node.items()
        if s > -float(nodes_t.at[k, "demand"]) + tol
    ]
    return not bad, "; ".join(bad[:5])


def _check_solver(mip: pd.DataFrame, recomputed: dict, periods: list[int], tol: float):
    """One solve: its objective is the plan's total; one solve per period (iterative): each
    solve's objective is its period's."""
    if not len(mip):
        return False, "no solve recorded"
    if len(mip) == 1:
        pairs = [(float(mip["objective"].iloc[0]), sum(recomputed.values()), "total")]
    elif len(mip) == len(periods):
        pairs = [(float(o), recomputed[t], f"t={t}") for o, t in zip(mip["objective"], periods, strict=True)]
    else:
        return False, f"{len(mip)} solves for {len(periods)} periods"
    bad = [
        f"{w}: solver {o:.6f}, input {r:.6f}"
        for o, r, w in pairs
        if not abs(o - r) <= tol * max(1.0, abs(r)) + 1e-6
    ]
    return not bad, "; ".join(bad[:5])


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
