"""Tests that kill mutants of the recovery engine the suite let through (benchmarks/mutation.py,
docs/solvers.md "Mutation test"): each names the planted bug it catches."""

from __future__ import annotations

import numpy as np
import pytest

from resiliopt import community as fc
from resiliopt.case import load_case
from resiliopt.simulation import engine
from resiliopt.simulation.scenario import RecoveryState, case_model, sample_scenario


@pytest.fixture(scope="module")
def cm():
    return case_model(load_case("beijing"))


def test_reusing_an_optimum_changes_nothing(cm, monkeypatch):
    """Kills ``engine-reuse-capacity``: the engine reuses the last optimum only for an LP whose
    data are the same, so solving every slice again gives the same recovery. Scenarios with
    bridges repaired while groups still wait (a capacity changes, nothing else does). The run-time
    audit of reused optima (simulation/reuse.py) is off: this checks the rule itself."""
    lp = engine.compiled_for(cm)
    solve_day = engine._solve_day

    def always_solve(lp, st, demand, cap, gain, tr, last, index, obj, y, *rest):
        return solve_day(lp, st, demand, cap, gain, tr, None, index, obj, y, *rest)

    bridges_repaired = 0
    for i in range(3):
        reused, _, st = engine.run_scenario(cm, 0, i, 90, lp, reuse_check=None)
        with monkeypatch.context() as mp:
            mp.setattr(engine, "_solve_day", always_solve)
            solved, _, _ = engine.run_scenario(cm, 0, i, 90, lp, reuse_check=None)
        for k in engine.SLICE_COLUMNS:
            np.testing.assert_allclose(reused[k], solved[k], rtol=1e-9, atol=1e-12, err_msg=f"{i}: {k}")
        damaged = sample_scenario(cm, 0, i).bridge_state > 0
        bridges_repaired += int(damaged.sum() - (st.bridge_state > 0).sum())
    assert bridges_repaired > 0  # the case exercises the rule


def test_a_groups_gain_is_the_derivative_of_fc(cm):
    """Kills ``gains-no-chain-rule``: g_j = dF_C/db_j, F_C's change per unit delivered to group j
    (a share 1/W_j of its n_j unsafe buildings of sector i made safe), by central differences
    of F_C in the sector loss l_i (F_C is quadratic in l: exact up to rounding)."""
    st = RecoveryState(cm, sample_scenario(cm, 0, 0))
    l0 = st.sector_loss()
    gains = st.gains(l0)
    dam, totals = cm.case.dam, cm.case.sector_totals
    checked = 0
    for j in np.flatnonzero((gains > 0) & np.isfinite(st.work_total))[:25]:
        i, h = cm.g_sector[j], 1e-4
        up, down = l0.copy(), l0.copy()
        up[i] += h
        down[i] -= h
        dfdl = (fc.functionality(down, dam, False) - fc.functionality(up, dam, False)) / (2 * h)
        want = dfdl * cm.g_count[j] / totals[i] / st.work_total[j]
        assert gains[j] == pytest.approx(want, rel=1e-7), j
        checked += 1
    assert checked >= 10
