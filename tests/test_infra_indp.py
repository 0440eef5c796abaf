"""INDP / td-INDP: known optima by brute force, iterative vs td, the independent plan check,
the extensions (tiers, mobile backups)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from test_infra_indp_toy import TOY_DAMAGE, toy_case

from resiliopt.errors import InputError
from resiliopt.formulations.indp import BackupUnit, INDPOptions
from resiliopt.infra.plan_check import CHECKS
from resiliopt.infra.restoration import Plan, Restorer, check_plan, restore


def _working(case, up_nodes):
    """Greatest set of nodes closed under the paper's dependency rule (written for the test)."""
    works = set(up_nodes)
    while True:
        drop = set()
        for j in works:
            d = case.dependencies[
                (case.dependencies.depender_layer == j[0]) & (case.dependencies.depender == j[1])
            ]
            for _, g in d.groupby("dependee_layer"):
                if sum(r.loss for r in g.itertuples() if (r.dependee_layer, r.dependee) in works) < 1:
                    drop.add(j)
        if not drop:
            return works
        works -= drop


def _flow_cost(case, up_nodes, up_links):
    """min flow + penalty cost of one period, by scipy's LP (independent of the Pyomo model)."""
    nodes = list(zip(case.nodes.layer, case.nodes.node, strict=True))
    works = _working(case, up_nodes)
    arcs = []
    for r in case.links.itertuples(index=False):
        k = (r.layer, r.link)
        a, b = (r.layer, r._2), (r.layer, r.to)
        if k in up_links and a in works and b in works:
            arcs += [(a, b, r.capacity, r.flow_cost), (b, a, r.capacity, r.flow_cost)]
    n, na = len(nodes), len(arcs)
    idx = {k: i for i, k in enumerate(nodes)}
    A = np.zeros((n, na + 2 * n))
    for j, (a, b, _, _) in enumerate(arcs):
        A[idx[a], j] += 1
        A[idx[b], j] -= 1
    A[:, na : na + n] = np.eye(n)  # oversupply
    A[:, na + n :] = -np.eye(n)  # undersupply
    c = np.r_[[x[3] for x in arcs], case.nodes.oversupply_penalty, case.nodes.unmet_penalty]
    b = case.nodes.demand.to_numpy()
    bounds = [(0, x[2]) for x in arcs] + [(0, max(x, 0)) for x in b] + [(0, max(-x, 0)) for x in b]
    res = linprog(c, A_eq=A, b_eq=case.nodes.demand.to_numpy(), bounds=bounds, method="highs")
    assert res.status == 0
    return res.fun


def _brute_force_one_period(case, damage, v):
    all_nodes = set(zip(case.nodes.layer, case.nodes.node, strict=True))
    all_links = set(zip(case.links.layer, case.links.link, strict=True))
    dmg = list(damage.itertuples(index=False))
    spaces = case.spaces.set_index("space").preparation_cost
    best = np.inf
    for r in range(len(dmg) + 1):
        for sub in itertools.combinations(dmg, r):
            if len(sub) > v:  # every toy repair uses one resource unit
                continue
            fixed = {(e.kind, e.layer, e.element) for e in sub}
            down = {(e.kind, e.layer, e.element) for e in dmg} - fixed
            up_n = {k for k in all_nodes if ("node", *k) not in down}
            up_l = {k for k in all_links if ("link", *k) not in down}
            cost = 0.0
            for e in sub:
                tab = (
                    case.nodes[case.nodes.node == e.element]
                    if e.kind == "node"
                    else case.links[case.links.link == e.element]
                )
                cost += float(tab.repair_cost.iloc[0])
            es = case.element_spaces
            used = {s for e in sub for s in es[(es.kind == e.kind) & (es.element == e.element)].space}
            cost += sum(spaces[s] for s in used)
            best = min(best, cost + _flow_cost(case, up_n, up_l))
    return best


@pytest.mark.parametrize("v", [1, 2, 3])
def test_first_period_equals_brute_force(v):
    case = toy_case(v=v)
    plan = Restorer(case, 1).iterative(TOY_DAMAGE, max_iterations=1)
    assert plan.mip["status"].eq("optimal").all()
    assert plan.max_gap <= 1e-9
    assert plan.objective == pytest.approx(_brute_force_one_period(case, TOY_DAMAGE, v), rel=1e-9)


def test_td_two_periods_equals_brute_force():
    case = toy_case(v=1)
    damage = TOY_DAMAGE.iloc[[0, 2, 3, 4]].reset_index(drop=True)  # P1, p12, w12, P3
    plan = Restorer(case, 2).td(damage)
    all_nodes = set(zip(case.nodes.layer, case.nodes.node, strict=True))
    all_links = set(zip(case.links.layer, case.links.link, strict=True))
    spaces = case.spaces.set_index("space").preparation_cost
    es = case.element_spaces
    dmg = list(damage.itertuples(index=False))
    best = np.inf
    for when in itertools.product([0, 1, 2], repeat=len(dmg)):  # 0 = not repaired
        if any(sum(1 for w in when if w == t) > 1 for t in (1, 2)):
            continue
        cost = 0.0
        for t in (1, 2):
            sub = [e for e, w in zip(dmg, when, strict=True) if w == t]
            done = {(e.kind, e.layer, e.element) for e, w in zip(dmg, when, strict=True) if 0 < w <= t}
            down = {(e.kind, e.layer, e.element) for e in dmg} - done
            for e in sub:
                tab = case.nodes if e.kind == "node" else case.links
                col = "node" if e.kind == "node" else "link"
                cost += float(tab[tab[col] == e.element].repair_cost.iloc[0])
            cost += sum(spaces[s] for s in {s for e in sub for s in es[es.element == e.element].space})
            cost += _flow_cost(
                case,
                {k for k in all_nodes if ("node", *k) not in down},
                {k for k in all_links if ("link", *k) not in down},
            )
        best = min(best, cost)
    assert plan.objective == pytest.approx(best, rel=1e-9)
    assert check_plan(case, plan).ok


def _padded(plan: Plan, periods: int) -> float:
    c = plan.costs["objective"].tolist()
    last = plan.costs.iloc[-1]
    carry = last["objective"] - last["node_repair_cost"] - last["link_repair_cost"] - last["space_cost"]
    return sum(c) + carry * (periods - len(c))


@pytest.mark.parametrize("v", [1, 2])
def test_td_never_worse_than_iterative(v):
    case = toy_case(v=v)
    it = Restorer(case, 1).iterative(TOY_DAMAGE)
    T = 6
    assert len(it.costs) <= T
    td = Restorer(case, T).td(TOY_DAMAGE)
    assert td.objective <= _padded(it, T) + 1e-7
    # the iterative plan's repairs are feasible for td-INDP: every element repaired once, within v
    assert check_plan(case, it).ok and check_plan(case, td).ok


@pytest.mark.parametrize("v", [1, 2, 100])
def test_td_with_the_iterative_schedule_costs_what_the_iterative_run_cost(v):
    """Fix the td-INDP's repair binaries to the iterative plan's schedule: same total cost."""
    case = toy_case(v=v)
    it = Restorer(case, 1).iterative(TOY_DAMAGE)
    T = 6
    r = Restorer(case, T)
    rep = it.repairs[["kind", "layer", "element", "period"]]
    sched = {(k, la, el): p for k, la, el, p in rep.itertuples(index=False)}
    m = r.model
    for k in r.data.nodes:
        for t in m.T:
            m.wr[k, t].fix(int(sched.get(("node", *k)) == t))
    for k in r.data.links:
        for t in m.T:
            m.yr[k, t].fix(int(sched.get(("link", *k)) == t))
    r.solver._model = None  # bounds changed: hand the model over again
    fixed = r.td(TOY_DAMAGE)
    assert fixed.objective == pytest.approx(_padded(it, T), rel=1e-12)


def test_model_is_updated_not_rebuilt():
    case = toy_case(v=2)
    r = Restorer(case, 1)
    model_id, n_rows = id(r.model), r.model.nconstraints()
    a = r.iterative(TOY_DAMAGE)
    b = r.iterative(TOY_DAMAGE.iloc[:2])
    c = r.iterative(TOY_DAMAGE)
    assert id(r.model) == model_id and r.model.nconstraints() == n_rows
    assert a.objective == pytest.approx(c.objective) and b.objective < a.objective
    fresh = Restorer(case, 1).iterative(TOY_DAMAGE.iloc[:2])
    assert fresh.objective == pytest.approx(b.objective)


def test_dependency_rule_is_honoured():
    case = toy_case(v=0)
    plan = Restorer(case, 1).iterative(
        pd.DataFrame([("node", "power", "P2")], columns=["kind", "layer", "element"])
    )
    served = plan.served.set_index("layer")["share"]
    assert served["water"] == 0.0  # W1 needs P2: no water at all
    assert served["power"] == pytest.approx(0.6)  # P3 (6 of 10) still served: W2 is dry, but P3 needs
    # ... W2 to work, and W2 works (it is not damaged; only water *flow* is missing)
    assert check_plan(case, plan).ok


def test_all_rule_is_stricter():
    case = toy_case(v=0)
    case.dependencies = pd.concat(
        [
            case.dependencies,
            pd.DataFrame(
                [
                    dict(
                        dependee_layer="power",
                        dependee="P1",
                        depender_layer="water",
                        depender="W1",
                        type="physical",
                        loss=1.0,
                    )
                ]
            ),
        ]
    )
    dmg = pd.DataFrame([("node", "power", "P2")], columns=["kind", "layer", "element"])
    anyp = Restorer(case, 1, INDPOptions(dependency_rule="any")).iterative(dmg)
    allp = Restorer(case, 1, INDPOptions(dependency_rule="all")).iterative(dmg)
    assert anyp.served.set_index("layer")["share"]["water"] == 1.0  # P1 still powers W1
    assert allp.served.set_index("layer")["share"]["water"] == 0.0
    assert check_plan(case, anyp).ok
    assert check_plan(case, allp, INDPOptions(dependency_rule="all")).ok


def test_check_plan_catches_tampering():
    case = toy_case(v=2)
    plan = Restorer(case, 1).iterative(TOY_DAMAGE)
    assert check_plan(case, plan, damage=TOY_DAMAGE).ok
    extra = pd.DataFrame([("link", "water", "w23", 1, 1, 1)], columns=plan.repairs.columns)
    bad = Plan(**{**plan.__dict__, "repairs": pd.concat([plan.repairs, extra])})
    assert CHECKS["damaged"] in check_plan(case, bad, damage=TOY_DAMAGE).failed()
    # the plan's own damage table is not the input: a repair of an element added there is caught
    wider = pd.concat([plan.damage, pd.DataFrame([("link", "water", "w23")], columns=plan.damage.columns)])
    bad = Plan(**{**bad.__dict__, "damage": wider})
    assert CHECKS["damaged"] in check_plan(case, bad, damage=TOY_DAMAGE).failed()
    res = plan.resources.assign(available=0.0)
    chk = check_plan(case, Plan(**{**plan.__dict__, "resources": res}), damage=TOY_DAMAGE)
    assert chk.failed() == {CHECKS["resource table"]}
    costs = plan.costs.copy()
    costs.loc[0, "objective"] -= 1.0
    assert check_plan(case, Plan(**{**plan.__dict__, "costs": costs}), damage=TOY_DAMAGE).failed() == {
        CHECKS["costs"]
    }
    flows = plan.flows.copy()
    flows.loc[flows.index[0], "flow"] += 1000.0
    assert CHECKS["capacity"] in check_plan(
        case, Plan(**{**plan.__dict__, "flows": flows}), damage=TOY_DAMAGE
    ).failed()


def test_tier1_minimum_share():
    case = toy_case(v=1)
    dmg = pd.DataFrame(
        [("node", "water", "W1"), ("node", "power", "P1")], columns=["kind", "layer", "element"]
    )
    base = Restorer(case, 1).iterative(dmg, max_iterations=1)
    # the paper's INDP repairs P1 first (power demand 10 at penalty 100-150 > water 8)
    assert set(base.repairs.element) == {"P1"}
    opts = INDPOptions(tier1_min_share=0.9, tier1_shortfall_penalty=1e5)
    tier = Restorer(case, 1, opts).iterative(dmg, max_iterations=1)
    nodes = tier.nodes.set_index(["layer", "node"])
    # tier-1 water node W2 (demand 5) must now get >= 90 %: W1 is repaired first (the tier-1
    # power node P2 is left short: 10 % of the tier-1 load may go unserved, at 1e5 per unit)
    assert set(tier.repairs.element) == {"W1"}
    assert nodes.loc[("water", "W2"), "undersupply"] <= 0.5 + 1e-9
    assert tier.costs["extension_cost"].iloc[0] == pytest.approx((4 - 0.4) * 1e5)
    assert check_plan(case, tier, opts).ok


def test_mobile_backup_serves_demand_while_repairs_go_on():
    case = toy_case(v=0)
    dmg = pd.DataFrame([("node", "power", "P1")], columns=["kind", "layer", "element"])
    base = Restorer(case, 1).iterative(dmg)
    opts = INDPOptions(backups=(BackupUnit("power", 1, 5.0, cost=1.0),))
    gen = Restorer(case, 1, opts).iterative(dmg)
    assert base.served.set_index("layer")["share"]["power"] == 0.0
    assert gen.served.set_index("layer")["share"]["power"] == pytest.approx(0.5)
    placed = gen.nodes[gen.nodes.backup > 0]
    assert list(placed.node) == ["P3"]  # the unit goes where unmet demand costs most
    chk = check_plan(case, gen, opts, damage=dmg)
    assert chk.ok, chk.checks
    # the backup's cost comes from the options, not from the plan: without them it is caught
    assert check_plan(case, gen, damage=dmg).failed() == {
        CHECKS[k] for k in ("backups", "costs", "solver objective")
    }
    assert gen.objective == pytest.approx(base.objective - 5 * 150 + 1.0)


def test_bad_input_is_refused():
    case = toy_case()
    with pytest.raises(InputError, match="unknown node"):
        Restorer(case, 1).iterative(
            pd.DataFrame([("node", "power", "P9")], columns=["kind", "layer", "element"])
        )
    with pytest.raises(InputError, match="dependency_rule"):
        Restorer(case, 1, INDPOptions(dependency_rule="most"))
    with pytest.raises(InputError, match="method"):
        restore(case, TOY_DAMAGE, method="greedy")
    case.links.loc[0, "to"] = "P7"
    with pytest.raises(InputError, match="unknown node 'P7'"):
        Restorer(case, 1)


@pytest.mark.parametrize(
    "opts",
    [
        INDPOptions(arc_model="directed"),
        INDPOptions(arc_model="paired"),
        INDPOptions(service_layers=("water",)),
        INDPOptions(arc_model="paired", service_layers=("power",), dependency_rule="all"),
    ],
)
def test_every_reading_passes_the_independent_check(opts):
    case = toy_case(v=2)
    it = Restorer(case, 1, opts).iterative(TOY_DAMAGE)
    td = Restorer(case, 3, opts).td(TOY_DAMAGE)
    for plan in (it, td):
        chk = check_plan(case, plan, opts)
        assert chk.ok, chk.checks[~chk.checks.ok]
    assert td.objective <= _padded(it, 3) + 1e-7


def test_paired_arcs_cost_twice_and_directed_arcs_are_separate():
    case = toy_case(v=3)
    dmg = pd.DataFrame([("link", "power", "p13")], columns=["kind", "layer", "element"])
    link = Restorer(case, 1).iterative(dmg, max_iterations=1)
    paired = Restorer(case, 1, INDPOptions(arc_model="paired")).iterative(dmg, max_iterations=1)
    directed = Restorer(case, 1, INDPOptions(arc_model="directed")).iterative(dmg, max_iterations=1)
    # P3 short of 1 unit (at 150) without p13: worth repairing in every reading
    assert link.costs.link_repair_cost.iloc[0] == pytest.approx(9.0)
    assert paired.costs.link_repair_cost.iloc[0] == pytest.approx(18.0)
    assert paired.costs.space_cost.iloc[0] == link.costs.space_cost.iloc[0] == pytest.approx(30.0)
    # a directed repair names the arc: only the direction P1 -> P3 is needed, at the link's cost
    assert list(directed.repairs.element) == ["p13:+"]
    assert directed.costs.link_repair_cost.iloc[0] == pytest.approx(9.0)


def test_scip_and_highs_agree_on_the_same_model():
    pytest.importorskip("pyscipopt")
    case = toy_case(v=2)
    h = Restorer(case, 3).td(TOY_DAMAGE)
    s = Restorer(case, 3, solver="scip").td(TOY_DAMAGE)
    assert s.mip["status"].iloc[0] == "optimal"
    assert s.objective == pytest.approx(h.objective, rel=1e-9)
