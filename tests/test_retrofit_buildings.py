"""Building retrofit: cost, Z against finite differences, greedy, grid MILP against brute force.

The global optimum (``exact``) has its own tests in test_retrofit_exact.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from resiliopt import community as fc
from resiliopt import retrofit as rb
from resiliopt.case import load_case
from resiliopt.errors import InputError
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.scenario import case_model


@pytest.fixture(scope="module")
def case():
    return load_case("beijing")


@pytest.fixture(scope="module")
def st(case):
    return rb.stock(case)


def fc_with_category_at(st, c, a):
    """F_C (unclamped) with all of category c at response a, everything else as built."""
    unsafe = np.array([st.count[k] * st.p[k, st.levels.index(int(st.level0[k]))] for k in range(len(st.ids))])
    unsafe[c] = st.count[c] * st.unsafe_share(a)
    return float(fc.functionality(fc.sector_loss(unsafe, st.sector, st.totals), st.dam, clamp=False))


def test_cost_reading_of_eq5(st):
    """B6 to level 7: 8 x 5.15 x (0.046/0.026 - 1) (MODEL_NOTES 3), computed independently."""
    c = st.index("B6")
    k7 = st.levels.index(7)
    assert st.unit_cost[c, k7] == pytest.approx(8 * 5.15 * (0.046 / 0.026 - 1))
    # cost depends only on where a building ends: 6 -> 7 -> 8 equals 6 -> 8
    k8 = st.levels.index(8)
    step1 = st.unit_cost[c, k7]
    step2 = st.unit_cost[c, k8] - st.unit_cost[c, k7]
    assert step1 + step2 == pytest.approx(st.category_cost(c, st.a[c, k8]))


@pytest.mark.parametrize("cid", ["R6", "B7", "E6", "P6", "P7"])
def test_marginal_z_matches_finite_difference(st, cid):
    """Z of (6)-(8) = dF_C/dC when the whole category is strengthened continuously."""
    c = st.index(cid)
    x = st.as_built()
    n, c0k, a0 = st.count[c], st.c0k[c], st.a0[c]

    def a_of_cost(cost):  # inverse of C(a) = n c0k (a0/a - 1)
        return a0 / (1.0 + cost / (n * c0k))

    h = 1e-4
    fd = (fc_with_category_at(st, c, a_of_cost(h)) - fc_with_category_at(st, c, a_of_cost(-h))) / (2 * h)
    assert rb.marginal_z(st, x, c) == pytest.approx(fd, rel=1e-5)


def test_candidate_z_matches_finite_difference_and_path_average(st):
    x = st.as_built()
    cand = rb.candidates(st, x)
    assert len(cand) == 12
    for _, r in cand.iterrows():
        c, k0, k1 = int(r["_c"]), int(r["_k0"]), int(r["_k1"])
        eps = 1e-3
        xx = x.copy()
        xx[c, k0] -= eps
        xx[c, k1] += eps
        dF = st.functionality(xx, clamp=False) - st.functionality(x, clamp=False)
        dC = st.cost(xx) - st.cost(x)
        assert r["z"] == pytest.approx(dF / dC, rel=1e-6)
        # the move's Z is the average of the chain-rule Z over the path a_L -> a_L'
        a = np.linspace(st.a[c, k0], st.a[c, k1], 2001)
        zm = np.array([rb.marginal_z(st, x, c, ai) for ai in a])
        dC_da = -st.c0k[c] * st.a0[c] / a**2  # per thousand buildings
        integral = np.trapezoid(zm * dC_da, a)
        cost = st.c0k[c] * st.a0[c] * (1 / st.a[c, k1] - 1 / st.a[c, k0])
        assert r["z"] == pytest.approx(integral / cost, rel=1e-5)


def test_greedy_spends_budget_and_improves(st):
    prev = -np.inf
    for budget in [0.0, 5.0, 20.0, 60.0]:
        p = rb.greedy(st, budget)
        assert p.cost <= budget + 1e-9
        assert p.fc_after >= prev - 1e-12
        assert p.fc_after == pytest.approx(p.fc_before + p.steps["fc_gain"].sum())
        assert p.cost == pytest.approx(p.steps["cost"].sum())
        prev = p.fc_after
        if budget > 0:
            assert p.cost == pytest.approx(budget)  # plenty of candidates left to fill it
    assert rb.greedy(st, 0.0).steps.empty


def test_greedy_moves_best_z_first(st):
    p = rb.greedy(st, 60.0)
    z0 = p.z_start.sort_values("z", ascending=False).iloc[0]
    first = p.steps.iloc[0]
    assert (first["category"], first["to_level"]) == (z0["category"], z0["to_level"])
    # fractions only at the margin: every move but the last is complete
    assert (p.steps["fraction"].iloc[:-1] == 1.0).all()


def test_greedy_target_stops_at_target(st):
    p = rb.greedy(st, 200.0, target_fc=0.8)
    assert p.fc_after == pytest.approx(0.8, abs=1e-9)
    assert p.cost < 200.0
    # target already met: nothing to do
    assert rb.greedy(st, 50.0, target_fc=0.5).steps.empty


def test_grid_greedy_fractions_on_grid(st):
    p = rb.greedy(st, 37.0, step=0.1)
    assert np.allclose(np.round(p.x * 10), p.x * 10)
    assert p.cost <= 37.0 + 1e-9


def test_restrict_excludes_categories(st):
    r = rb.restrict(st, exclude=["R6", "R7", "R8"])
    p = rb.greedy(r, 100.0)
    assert not p.steps["category"].str.startswith("R").any()
    with pytest.raises(InputError, match="unknown category"):
        rb.restrict(st, only=["X9"])


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"budget": -1.0}, "budget"),
        ({"budget": 10.0, "target_fc": 1.2}, "target"),
        ({"budget": 1, "step": 0.3}, "step"),
    ],
)
def test_bad_input(st, kw, msg):
    with pytest.raises(InputError, match=msg):
        rb.greedy(st, **kw)


def test_parse_sweep():
    assert list(rb.parse_sweep("0:120:5"))[-1] == 120
    assert len(rb.parse_sweep("0:120:5")) == 25
    for bad in ["0:120", "a:b:c", "10:0:5", "0:10:0", "-5:10:5"]:
        with pytest.raises(InputError):
            rb.parse_sweep(bad)


def _brute_force(st, step, budget):
    """Best F_C over every combination of grid options (no MILP), vectorised per sector."""
    opts = rb.options(st, step)
    best_per_sector = []
    for i in range(4):
        cats = [g for _, g in opts[opts["sector"] == i].groupby("category", sort=False)]
        combos = list(itertools.product(*[list(zip(g["loss"], g["cost"], strict=True)) for g in cats]))
        loss = np.array([sum(t[0] for t in cmb) for cmb in combos])
        cost = np.array([sum(t[1] for t in cmb) for cmb in combos])
        best_per_sector.append((loss, cost))
    grids = np.meshgrid(*[b[0] for b in best_per_sector], indexing="ij")
    cgrids = np.meshgrid(*[b[1] for b in best_per_sector], indexing="ij")
    L = np.stack([g.ravel() for g in grids], axis=1)
    C = sum(g.ravel() for g in cgrids)
    F = fc.functionality(L, st.dam, clamp=False)
    ok = C <= budget + 1e-9
    return float(F[ok].max())


@pytest.mark.parametrize("budget", [0.0, 12.0, 45.0, 90.0])
def test_grid_equals_brute_force_and_exact_beats_it(st, budget):
    # a smaller instance: fractions in halves (6 options per level-6 category, 104976 plans)
    best = _brute_force(st, 0.5, budget)
    e = rb.grid(st, budget, step=0.5)
    assert e.cost <= budget + 1e-6
    assert e.fc_after == pytest.approx(best, abs=1e-7)
    assert e.method == "grid optimum (step 0.5)" and e.info["grid_optimum"]
    # every grid plan is a continuous plan: the global optimum is at least the best of them
    assert rb.exact(st, budget).fc_after >= best - 1e-12


@settings(max_examples=8, deadline=None)
@given(hs.floats(min_value=0, max_value=120))
def test_grid_not_worse_than_grid_greedy(budget):
    st = rb.stock(load_case("beijing"))
    e = rb.grid(st, budget, step=0.5)
    g = rb.greedy(st, budget, step=0.5)
    assert e.fc_after >= g.fc_after - 1e-7


def test_grid_with_target_is_cheapest(st):
    e = rb.grid(st, 200.0, target_fc=0.8, step=0.5)
    assert e.info["target_met"]
    assert e.fc_after >= 0.8 - 1e-7
    g = rb.greedy(st, 200.0, target_fc=0.8, step=0.5)
    assert e.cost <= g.cost + 1e-6
    # unreachable target within budget: falls back to the best F_C, says so
    e2 = rb.grid(st, 5.0, target_fc=0.95, step=0.5)
    assert not e2.info["target_met"]
    assert e2.fc_after == pytest.approx(rb.grid(st, 5.0, step=0.5).fc_after)


def test_table3_variant_state(case, st):
    x = rb.plan_from_variant(case, "buildings")
    assert x.sum(axis=1) == pytest.approx(np.ones(len(st.ids)))
    steps = rb.plan_steps(st, x)
    assert set(steps["category"]) == {"B6", "E6", "E7", "P6", "P7"}
    assert steps.set_index("category").loc["P6", "fraction"] == pytest.approx(0.3)


def test_month_fc_matches_the_case_variant(case, st):
    """month_fc of Table 3's state equals the simulation of the case's own 'buildings' variant."""
    got = rb.month_fc(case, st, rb.paper_state(st), scenarios=3, seed=2, days=30)
    cm = case_model(case, "buildings")
    lp = compiled_for(cm)
    want = [run_scenario(cm, 2, i, 30, lp)[2].functionality() for i in range(3)]
    assert got == pytest.approx(want, abs=1e-12)


def test_month_target_plan(case, st):
    plan, hist = rb.month_target_plan(case, st, 100.0, 0.9, scenarios=4, seed=1)
    assert plan.cost <= 100.0 + 1e-9
    assert hist["target_fc"].is_monotonic_increasing
    assert hist["median_month_fc"].iloc[-1] == plan.info["median_month_fc"]
    # stops at the first increment whose median reaches the target, or when money runs out
    assert plan.info["month_target_met"] == (hist["median_month_fc"].iloc[-1] >= 0.9)
    assert (hist["median_month_fc"].iloc[:-1] < 0.9).all()
    with pytest.raises(InputError):
        rb.month_target_plan(case, st, 10.0, 1.5, scenarios=2)
