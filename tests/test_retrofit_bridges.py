"""Bridge upgrades by SAA: formulation against the plain slice LP, budget, out-of-sample sanity."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from resiliopt.case import load_case
from resiliopt.errors import InputError
from resiliopt.formulations.bridge_saa import build_bridge_saa
from resiliopt.formulations.retrofit_milp import solve_mip
from resiliopt.retrofit import bridges as rbr
from resiliopt.simulation.scenario import case_model

N = 6  # scenarios: few, tests must stay fast


@pytest.fixture(scope="module")
def case():
    return load_case("beijing")


@pytest.fixture(scope="module")
def data(case):
    return rbr.saa_data(case_model(case), 3, range(N))


def test_common_random_numbers(data):
    assert (data.keep_hi >= data.keep_lo).all()
    assert (data.keep_hi > data.keep_lo).any()  # upgrades matter in some scenario
    # bridges that are already of the upgrade grade are not candidates and never change
    assert np.array_equal(data.keep_hi[:, ~data.candidate], data.keep_lo[:, ~data.candidate])


@pytest.mark.parametrize("which", ["none", "some", "all"])
def test_saa_with_fixed_plan_equals_plain_slice_lp(case, data, which):
    """The SAA second stage with z fixed is the mean of the slice LP over the same scenarios."""
    cm = case_model(case)
    cand = np.flatnonzero(data.candidate)
    up = {"none": [], "some": list(cand[::3]), "all": list(cand)}[which]
    m = build_bridge_saa(data, budget=1e9)
    for b in m.K:
        m.z[b].fix(1 if b in up else 0)
    status, obj = solve_mip(m)
    assert status == "optimal"
    ev = rbr.evaluate(case, [cm.bridge_ids[k] for k in up], 3, range(N))
    assert obj == pytest.approx(ev["weighted"].mean(), rel=1e-7, abs=1e-12)


def test_choice_within_budget_and_bounded_by_all(case):
    plan = rbr.choose_bridges(case, 1.0, n_scenarios=N, seed=3)
    assert plan.cost <= 1.0 + 1e-9
    assert len(plan.upgraded) <= 5
    # the chosen plan's in-sample value is between 'none' and 'all' on the same scenarios
    idx = range(N)
    none = rbr.evaluate(case, [], 3, idx)["weighted"].mean()
    cm = case_model(case)
    all_ids = [b for b, c in zip(cm.bridge_ids, rbr.candidates(cm), strict=True) if c]
    top = rbr.evaluate(case, all_ids, 3, idx)["weighted"].mean()
    chosen = rbr.evaluate(case, plan.upgraded, 3, idx)["weighted"].mean()
    assert chosen == pytest.approx(plan.saa_value, rel=1e-7)
    assert none - 1e-12 <= plan.saa_value <= top + 1e-12
    # with a budget for every candidate, the optimum equals 'all'
    full = rbr.choose_bridges(case, 100.0, n_scenarios=N, seed=3)
    assert full.saa_value == pytest.approx(top, rel=1e-7)
    assert rbr.choose_bridges(case, 0.0, n_scenarios=N, seed=3).upgraded == []


def test_out_of_sample_all_not_worse_than_none(case):
    plan = rbr.choose_bridges(case, 0.6, n_scenarios=N, seed=5)
    cmp_ = rbr.compare(case, plan, n_eval=8).set_index("plan")
    assert cmp_.loc["all", "weighted_mean"] >= cmp_.loc["none", "weighted_mean"] - 1e-12
    assert cmp_.loc["selective", "cost"] <= 0.6 + 1e-9
    # per scenario too: more upgraded bridges never lower capacity (common random numbers)
    cm = case_model(case)
    all_ids = [b for b, c in zip(cm.bridge_ids, rbr.candidates(cm), strict=True) if c]
    idx = range(rbr.EVAL_START, rbr.EVAL_START + 8)
    a = rbr.evaluate(case, all_ids, 5, idx)["weighted"].to_numpy()
    n = rbr.evaluate(case, [], 5, idx)["weighted"].to_numpy()
    assert (a >= n - 1e-9).all()


def test_model_has_documented_constraints(data):
    m = build_bridge_saa(data, 1.0)
    for name in ["budget", "arc_capacity", "node_balance", "total_resources"]:
        assert getattr(m, name).doc
    assert isinstance(m.z[next(iter(m.K))].domain, type(pyo.Binary))


@pytest.mark.parametrize(
    "kw, msg",
    [({"budget": -1.0}, "budget"), ({"budget": 1.0, "n_scenarios": 0}, "scenarios")],
)
def test_bad_input(case, kw, msg):
    with pytest.raises(InputError, match=msg):
        rbr.choose_bridges(case, **kw)
