"""td-INDP with repairs that take several periods (docs/indp.md, "Repairs that take several
periods"): known optima by enumerating every repair schedule, tau = 1 gives the model of
before, and the independent plan check catches each planted error with its own check."""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_infra_indp import _flow_cost
from test_infra_indp_toy import TOY_DAMAGE, toy_case

from resiliopt.errors import InputError
from resiliopt.formulations.indp import INDPOptions
from resiliopt.formulations.indp_repairs import periods_of, window
from resiliopt.infra.plan_check import CHECKS
from resiliopt.infra.restoration import Plan, Restorer, check_plan

COLS = ["kind", "layer", "element"]


def with_durations(case, taus: dict):
    """The toy case with ``repair_time`` set for some (kind, layer, element)."""
    for (kind, layer, el), tau in taus.items():
        tab, col = (case.nodes, "node") if kind == "node" else (case.links, "link")
        tab.loc[(tab.layer == layer) & (tab[col] == el), "repair_time"] = float(tau)
    return case


def brute_force(case, damage: pd.DataFrame, T: int, v: float) -> float:
    """Cheapest of all repair schedules: every damaged element starts at one period 1..T-tau+1
    or never; a repair holds its resource use in each of its tau periods, pays its repair cost
    once and its spaces' preparation in each period under way; the element serves from period
    start + tau - 1; each period's flow and penalty cost by scipy's LP (test_infra_indp)."""
    dmg = [tuple(r) for r in damage[COLS].itertuples(index=False)]
    nodes = case.nodes.set_index(["layer", "node"])
    links = case.links.set_index(["layer", "link"])

    def attr(e, col):
        return float((nodes if e[0] == "node" else links).at[(e[1], e[2]), col])

    tau = {e: max(1, math.ceil(attr(e, "repair_time"))) for e in dmg}
    prep = case.spaces.set_index("space").preparation_cost
    spaces = {}
    for r in case.element_spaces.itertuples(index=False):
        spaces.setdefault((r.kind, r.layer, r.element), set()).add(r.space)
    all_nodes = set(zip(case.nodes.layer, case.nodes.node, strict=True))
    all_links = set(zip(case.links.layer, case.links.link, strict=True))

    @functools.cache
    def period_cost(down: frozenset) -> float:
        return _flow_cost(
            case,
            {k for k in all_nodes if ("node", *k) not in down},
            {k for k in all_links if ("link", *k) not in down},
        )

    best = np.inf
    for starts in itertools.product(*[[0, *range(1, T - tau[e] + 2)] for e in dmg]):
        busy = [
            [e for e, s in zip(dmg, starts, strict=True) if s and s <= t <= s + tau[e] - 1]
            for t in range(1, T + 1)
        ]
        if any(sum(attr(e, "resource_use") for e in b) > v + 1e-9 for b in busy):
            continue
        cost = sum(attr(e, "repair_cost") for e, s in zip(dmg, starts, strict=True) if s)
        for t in range(1, T + 1):
            cost += sum(prep[s] for s in set().union(*[spaces.get(e, set()) for e in busy[t - 1]]))
            down = frozenset(e for e, s in zip(dmg, starts, strict=True) if not (s and s + tau[e] - 1 <= t))
            cost += period_cost(down)
        best = min(best, cost)
    return best


def _dmg(*keys):
    return pd.DataFrame(list(keys), columns=COLS)


P1, P3, W1 = ("node", "power", "P1"), ("node", "power", "P3"), ("node", "water", "W1")
p12, p13, w12 = ("link", "power", "p12"), ("link", "power", "p13"), ("link", "water", "w12")

CASES = [  # damaged elements with their durations, horizon T, resources v
    ({P1: 2, W1: 1, p12: 3, w12: 2, P3: 1}, 4, 1),
    ({P1: 3, p13: 2, W1: 2, w12: 1}, 4, 2),
    ({P1: 2, P3: 3, p13: 1}, 5, 1),
    ({P1: 3, P3: 3, W1: 3}, 3, 2),  # every repair must start in period 1
    ({P1: 2, W1: 2, p12: 2, P3: 2}, 3, 3),
]


@pytest.mark.parametrize(("taus", "T", "v"), CASES)
def test_td_with_durations_equals_brute_force(taus, T, v):
    case = with_durations(toy_case(v=v), taus)
    damage = _dmg(*taus)
    plan = Restorer(case, T).td(damage)
    assert plan.mip["status"].eq("optimal").all() and plan.max_gap <= 1e-9
    assert plan.objective == pytest.approx(brute_force(case, damage, T, v), rel=1e-9)
    chk = check_plan(case, plan, damage=damage)
    assert chk.ok, chk.checks[~chk.checks.ok]
    for r in plan.repairs.itertuples(index=False):  # durations from the case, ended in the horizon
        assert r.duration == taus[r.kind, r.layer, r.element]
        assert r.works_from == r.period + r.duration - 1 <= T
    # a repair holds its resource in every period it is under way
    use = plan.resources.set_index("period")["used"]
    for t in range(1, T + 1):
        under_way = plan.repairs[(plan.repairs.period <= t) & (plan.repairs.works_from >= t)]
        assert use[t] == len(under_way) <= v
    # a longer repair can only cost more
    longer = {**taus, next(iter(taus)): next(iter(taus.values())) + 1}
    slower = Restorer(with_durations(toy_case(v=v), longer), T).td(damage)
    assert slower.objective >= plan.objective - 1e-7


ELEMENTS = [P1, P3, W1, p12, p13, w12, ("node", "water", "W2"), ("link", "water", "w13")]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(
        st.tuples(st.sampled_from(ELEMENTS), st.integers(1, 3)),
        min_size=1,
        max_size=4,
        unique_by=lambda x: x[0],
    ),
    T=st.integers(1, 3),
    v=st.sampled_from([1, 2]),
)
def test_property_optimum_equals_enumeration(picks, T, v):
    taus = dict(picks)
    case = with_durations(toy_case(v=v), taus)
    damage = _dmg(*taus)
    plan = Restorer(case, T).td(damage)
    assert plan.objective == pytest.approx(brute_force(case, damage, T, v), rel=1e-9)
    assert check_plan(case, plan, damage=damage).ok


# -- tau = 1 is the model of before -----------------------------------------------------------

#: plans of the model before durations existed (commit 2645491, the same calls): objective, repairs
BEFORE = {
    ("toy", "td", 6, 1): (30897.5, [("link", "power", "p12", 2), ("link", "power", "p13", 5),
                                    ("node", "power", "P1", 3), ("node", "power", "P3", 4),
                                    ("node", "water", "W1", 1)]),
    ("toy", "iterative", 1, 1): (22636.0, [("node", "water", "W1", 1)]),
    ("toy", "td", 6, 2): (11552.0, [("link", "power", "p12", 3), ("link", "power", "p13", 2),
                                    ("link", "water", "w12", 3), ("node", "power", "P1", 1),
                                    ("node", "power", "P3", 2), ("node", "water", "W1", 1)]),
    ("toy", "iterative", 1, 2): (18380.0, [("link", "power", "p12", 2), ("link", "power", "p13", 3),
                                           ("node", "power", "P1", 2), ("node", "power", "P3", 3),
                                           ("node", "water", "W1", 1)]),
}  # fmt: skip


def _repairs(plan):
    return sorted(map(tuple, plan.repairs[[*COLS, "period"]].itertuples(index=False, name=None)))


@pytest.mark.parametrize("key", list(BEFORE))
@pytest.mark.parametrize("repair_time", [1.0, 0.0, 0.5])
def test_tau_one_gives_the_plans_of_before_on_the_toy(key, repair_time):
    _, method, T, v = key
    case = toy_case(v=v)
    case.nodes["repair_time"] = repair_time  # every repair_time <= 1 is one period
    case.links["repair_time"] = repair_time
    r = Restorer(case, T)
    plan = r.td(TOY_DAMAGE) if method == "td" else r.iterative(TOY_DAMAGE)
    obj, reps = BEFORE[key]
    assert plan.objective == pytest.approx(obj, rel=1e-12)
    assert _repairs(plan) == reps
    assert (plan.repairs.duration == 1).all() and (plan.repairs.works_from == plan.repairs.period).all()


SHELBY_BEFORE = {
    "set0/sce1": (6008822171.394908, [("link", "water", "17", 1)]),
    "set5/sce55": (23754463452.438908, [
        ("link", "gas", "0", 4), ("link", "gas", "8", 1), ("link", "telecom", "13", 3),
        ("link", "telecom", "16", 1), ("link", "telecom", "2", 4), ("link", "telecom", "23", 3),
        ("link", "telecom", "33", 1), ("link", "telecom", "4", 2), ("link", "water", "13", 3),
        ("link", "water", "23", 5), ("link", "water", "26", 2), ("link", "water", "3", 5),
        ("link", "water", "42", 2), ("link", "water", "50", 5), ("node", "gas", "2", 4)]),
}  # fmt: skip


def test_tau_one_gives_the_plans_of_before_on_shelby():
    from resiliopt.infra import load_infra_case
    from resiliopt.infra.damage import draw_damage, failure_table
    from resiliopt.infra.experiment import PUBLISHED_READING

    ext = load_infra_case("shelby-extended")
    assert (ext.nodes.repair_time == 1).all() and (ext.links.repair_time == 1).all()
    r = Restorer(ext, 5)
    for sc, (obj, reps) in SHELBY_BEFORE.items():
        plan = r.td(ext.damage_scenario(sc))
        assert plan.objective == pytest.approx(obj, rel=1e-9) and _repairs(plan) == reps
        assert check_plan(ext, plan, damage=ext.damage_scenario(sc)).ok
    indp = load_infra_case("shelby-indp")
    dmg = draw_damage(failure_table(indp, 7), 3, 7, 0)
    reps = [("link", "water", "12-49", 2), ("link", "water", "13-45", 3), ("node", "water", "25", 1),
            ("node", "water", "37", 1), ("node", "water", "6", 1)]  # fmt: skip
    it = Restorer(indp, 1, PUBLISHED_READING).iterative(dmg)
    td = Restorer(indp, 3, PUBLISHED_READING).td(dmg)
    assert it.objective == pytest.approx(67519274.99999683, rel=1e-9) and _repairs(it) == reps
    assert td.objective == pytest.approx(67285953.99999459, rel=1e-9) and _repairs(td) == reps


def test_durations_one_ignores_the_case():
    taus = {P1: 3, W1: 2, p12: 2}
    case = with_durations(toy_case(v=2), taus)
    one = Restorer(case, 4, INDPOptions(durations="one")).td(_dmg(*taus))
    plain = Restorer(toy_case(v=2), 4).td(_dmg(*taus))
    assert one.objective == pytest.approx(plain.objective, rel=1e-12) and _repairs(one) == _repairs(plain)
    assert check_plan(case, one, INDPOptions(durations="one"), damage=_dmg(*taus)).ok


def test_durations_from_repair_time():
    assert [periods_of(x) for x in (0, 0.3, 1, 1.0000000001, 1.2, 2, 2.5, 7)] == [1, 1, 1, 1, 2, 2, 3, 7]
    with pytest.raises(ValueError):
        periods_of(float("nan"))
    case = toy_case()
    case.nodes.loc[0, "repair_time"] = float("nan")
    with pytest.raises(InputError, match="repair_time"):
        Restorer(case, 2)
    with pytest.raises(InputError, match="durations"):
        Restorer(toy_case(), 2, INDPOptions(durations="two"))


def test_a_repair_longer_than_the_horizon_is_not_started():
    case = with_durations(toy_case(v=3), {P1: 4, W1: 1, p13: 2})
    r = Restorer(case, 3)
    assert [r.model.wr[("power", "P1"), t].ub for t in (1, 2, 3)] == [0, 0, 0]
    assert [r.model.yr[("power", "p13"), t].ub for t in (1, 2, 3)] == [1, 1, 0]  # starts 1, 2 end by 3
    plan = r.td(_dmg(P1, W1))
    assert list(plan.repairs.element) == ["W1"]
    assert [tuple(x) for x in plan.unrepaired[COLS].to_numpy()] == [P1]
    assert check_plan(case, plan, damage=_dmg(P1, W1)).ok


def test_iterative_refuses_repairs_longer_than_a_period():
    case = with_durations(toy_case(v=2), {P1: 2})
    with pytest.raises(InputError, match="td-INDP"):
        Restorer(case, 1).iterative(_dmg(P1, W1))
    # an element that is not damaged may take long: the iterative INDP runs
    assert check_plan(case, Restorer(case, 1).iterative(_dmg(W1)), damage=_dmg(W1)).ok


# -- the independent check: one planted error, one failed check --------------------------------

TAUS = {P1: 2, W1: 2, p12: 1, w12: 2, P3: 1}  # W1, w12: no space; P1 2 periods


def _base(v=1, T=4):
    case = with_durations(toy_case(v=v), TAUS)
    return case, Restorer(case, T)


def _only(chk, key):
    assert chk.failed() == {CHECKS[key]}, chk.checks[~chk.checks.ok]


def test_check_fails_only_per_period_resources_when_the_model_sums_them_over_periods():
    case, r = _base(v=1)
    m, d = r.model, r.data
    total = sum(
        float(tab.at[k, "resource_use"]) * var[k, s]
        for kind, keys, tab, var in (("node", d.nodes, d.node_tab, m.wr), ("link", d.links, d.link_tab, m.yr))
        for k in keys
        for t in m.T
        for s in window(t, d.repair_periods[(kind, *k)])
    )
    m.del_component(m.resources)  # the planted bug: one row over all periods
    m.resources = pyo.Constraint(expr=total <= sum(m.v["crew", t] for t in m.T))
    plan = r.td(_dmg(*TAUS))
    assert plan.resources.used.max() > 1  # the buggy plan does overlap repairs
    _only(check_plan(case, plan, damage=_dmg(*TAUS)), "resources")


def test_check_fails_only_working_when_an_element_works_before_start_plus_tau():
    case, r = _base(v=2)
    m, d = r.model, r.data
    m.del_component(m.node_state)  # the planted bug: a node works from its start period
    m.node_state = pyo.Constraint(
        m.N,
        m.T,
        rule=lambda m, la, nd, t: (
            m.w[la, nd, t] - sum(m.wr[la, nd, s] for s in m.T if s <= t) <= 1 - m.dmg_node[la, nd]
        ),
    )
    plan = r.td(_dmg(*TAUS))
    early = plan.repairs[(plan.repairs.kind == "node") & (plan.repairs.duration > 1)]
    assert len(early) and d.repair_periods[("node", "power", "P1")] == 2
    _only(check_plan(case, plan, damage=_dmg(*TAUS)), "working")


def test_check_fails_only_costs_when_a_cost_column_is_edited():
    case, r = _base(v=2)
    plan = r.td(_dmg(*TAUS))
    assert check_plan(case, plan, damage=_dmg(*TAUS)).ok
    costs = plan.costs.copy()
    t0 = costs.index[costs.node_repair_cost > 0][0]
    costs.loc[t0, "node_repair_cost"] -= 5.0  # the objective column still sums its terms
    costs.loc[t0, "objective"] -= 5.0
    _only(check_plan(case, Plan(**{**plan.__dict__, "costs": costs}), damage=_dmg(*TAUS)), "costs")
    costs = plan.costs.copy()
    costs["space_cost"], costs["flow_cost"] = costs["flow_cost"], costs["space_cost"]  # same sums
    _only(check_plan(case, Plan(**{**plan.__dict__, "costs": costs}), damage=_dmg(*TAUS)), "costs")


def test_check_fails_only_the_resource_table_when_a_plan_claims_more_than_the_case_gives():
    case, r = _base(v=2)
    plan = r.td(_dmg(*TAUS))
    res = plan.resources.assign(available=plan.resources.available + 1)
    _only(check_plan(case, Plan(**{**plan.__dict__, "resources": res}), damage=_dmg(*TAUS)), "resource table")
    # a plan made with more resources than the case gives: it uses them, and says so
    more = Restorer(case, 4, resources=4).td(_dmg(*TAUS))
    assert more.resources.used.max() > 2
    assert check_plan(case, more, damage=_dmg(*TAUS)).failed() == {
        CHECKS["resources"],
        CHECKS["resource table"],
    }
    assert check_plan(case, more, damage=_dmg(*TAUS), resources=4).ok
    assert check_plan(case, more, damage=_dmg(*TAUS), resources={"crew": [4, 4, 4, 4]}).ok
    # fewer resources than the case gives is still a plan for the case
    assert check_plan(case, Restorer(case, 4, resources=1).td(_dmg(*TAUS)), damage=_dmg(*TAUS)).ok


def test_check_fails_only_horizon_when_the_plan_misstates_a_duration():
    case, r = _base(v=2)
    plan = r.td(_dmg(*TAUS))
    rep = plan.repairs.copy()
    rep.loc[rep.element == "W1", "duration"] = 1  # the plan says W1 takes one period: it takes two
    _only(check_plan(case, Plan(**{**plan.__dict__, "repairs": rep}), damage=_dmg(*TAUS)), "horizon")


def test_check_reads_the_damage_given_not_the_plans():
    case, r = _base(v=2)
    plan = r.td(_dmg(*TAUS))
    fewer = _dmg(*[k for k in TAUS if k != W1])
    assert CHECKS["damaged"] in check_plan(case, plan, damage=fewer).failed()
    chk = check_plan(case, plan)  # without damage= the plan's table is used, and said so
    assert chk.ok and chk.inputs == {"damage": "plan", "resources": "case"}


def test_the_library_of_the_cli_takes_durations_and_checks_against_the_input():
    from resiliopt.infra.damage import DamageSource
    from resiliopt.infra.indp_runs import indp_options, restore_run

    assert indp_options(durations="one").durations == "one" and indp_options().durations == "case"
    with pytest.raises(InputError, match="--durations"):
        indp_options(durations="two")
    run = restore_run("shelby-extended", DamageSource("set0/sce1"), "td", 3, 6.0)
    assert run.ok and run.check.inputs == {"damage": "given", "resources": "given"}
