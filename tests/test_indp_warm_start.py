"""A re-plan from a MIP start (the last plan, shifted) equals the cold re-plan.

On shelby-extended damage scenarios: plan at horizon 3, take the first period's repairs as
done, then re-plan the rest cold and from the shifted plan. The objectives must agree within
the MIP gap, and the warm plan passes the independent plan check. The warm path may choose
another plan of the same cost (a tie), never a worse one."""

from __future__ import annotations

import pytest

from resiliopt.formulations.indp import INDPOptions
from resiliopt.infra import load_infra_case
from resiliopt.infra.restoration import COLD_OPTIONS, WARM_OPTIONS, Restorer, check_plan

OPTS = INDPOptions(dependency_rule="all")
#: scenarios of shelby-extended with 16, 40 and 63 damaged elements
SCENARIOS = ["set8/sce53", "set5/sce36", "set1/sce13"]


@pytest.fixture(scope="module")
def restorer():
    case = load_infra_case("shelby-extended")
    return case, Restorer(case, 3, OPTS, resources=3.0)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_warm_replan_equals_cold(restorer, scenario):
    case, r = restorer
    damage = case.damage_scenario(scenario)
    r.solver.reset()
    first = r.td(damage)
    reps = first.repairs
    done = set(map(tuple, reps.loc[reps["period"] == 1, ["kind", "layer", "element"]].to_numpy()))
    assert done, "the first period repairs something"
    keys = list(map(tuple, damage[["kind", "layer", "element"]].to_numpy()))
    rest = damage[[k not in done for k in keys]].reset_index(drop=True)
    rows = reps[["kind", "layer", "element", "period"]].to_numpy()
    prior = [(k, la, el, int(t) - 1) for k, la, el, t in rows if t > 1]
    r.solver.reset()
    cold = r.td(rest)
    r.solver.reset()
    warm = r.td(rest, prior=prior)
    c, w = cold.mip.iloc[0], warm.mip.iloc[0]
    assert c.status == w.status == "optimal"
    tol = 1e-9 * max(1.0, abs(c.objective)) + 1e-6
    assert abs(w.objective - c.objective) <= max(tol, (c.gap + w.gap) * abs(c.objective))
    chk = check_plan(case, warm, OPTS, damage=rest, resources=3.0)
    assert chk.ok, chk.failed()


def test_start_from_keeps_only_feasible_starts(restorer):
    """The start keeps a repair only if the element is damaged, ends in the horizon and fits
    the resources of every period of its window (3 per period, each repair uses 1)."""
    case, r = restorer
    damage = case.damage_scenario("set4/sce46")
    keys = list(map(tuple, damage[["kind", "layer", "element"]].to_numpy()))
    r.td(damage.iloc[:10])
    prior = [(*k, 1) for k in keys[:5]] + [(*k, 4) for k in keys[5:6]] + [(*k, 2) for k in keys[11:12]]
    start = r.start_from(prior)
    ones = {str(v) for v, x in start if x == 1.0}
    # 3 fit in period 1; period 4 is past the horizon; element 11 is not damaged
    assert len(ones) == 3
    assert len(start) == 10 * 3  # every damaged element's start variable in each period


def test_warm_options_only_switch_heuristics():
    assert set(WARM_OPTIONS) == set(COLD_OPTIONS)
    assert all(k.startswith("mip_heuristic") for k in WARM_OPTIONS)
