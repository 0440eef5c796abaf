"""Tests that kill mutants the suite let through (benchmarks/mutation.py, docs/solvers.md
"Mutation test"): each names the planted bug it catches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from resiliopt.formulations.slice_compiled import slice_matrix
from resiliopt.formulations.slice_lp import SliceData, build_slice_model
from resiliopt.logistics import solve_model
from resiliopt.solvers.certificate import TOL, certify
from resiliopt.solvers.matrix import LinearProgram, to_matrix


def test_matrix_certificate_fails_on_a_gap_that_no_single_slackness_term_shows():
    """Kills ``matrix-cert-no-gap``: complementary slackness is a *largest* term, the gap a sum.

    max sum_j x_j, 0 <= x_j <= 1 (ten columns) and a slack row sum x <= 100; the candidate
    x_j = 1 - 1e-6, z_j = 1 is primal and dual feasible, each slackness term is
    1e-6 / (1 + obj) < tol, but the duality gap is ten of them: 9.1e-7 > tol."""
    n = 10
    lp = LinearProgram(
        c=np.ones(n),
        c0=0.0,
        sense=1,
        rows=np.zeros(n, dtype=np.int64),
        cols=np.arange(n, dtype=np.int64),
        vals=np.ones(n),
        row_lb=np.array([-np.inf]),
        row_ub=np.array([100.0]),
        col_lb=np.zeros(n),
        col_ub=np.ones(n),
        col_component=["x"] * n,
        col_index=list(range(n)),
        row_component=["cap"],
        row_index=[None],
    )
    x = np.full(n, 1.0 - 1e-6)
    cert = certify(lp, x, np.zeros(1), np.ones(n))
    assert cert.primal_infeasibility == 0.0 and cert.dual_infeasibility == 0.0
    assert cert.complementary_slackness < TOL < cert.gap
    assert not cert.passed
    assert certify(lp, np.ones(n), np.zeros(1), np.ones(n)).passed  # the optimum itself passes


def _islanded() -> SliceData:
    """Node b is named only by its group (every road to it is gone): nothing can reach it."""
    arcs = pd.DataFrame(
        {"arc": ["RR->a"], "from": ["RR"], "to": ["a"], "capacity": [10.0], "label": ["entry"]}
    )
    groups = pd.DataFrame(
        {"group": ["ga", "gb"], "node": ["a", "b"], "capacity": [5.0, 5.0], "gain": [1.0, 2.0]}
    )
    return SliceData(arcs, groups, total_resources=100.0)


def test_pyomo_model_serves_no_group_on_a_node_no_road_reaches():
    """Kills ``slice-group-node-row``: the Pyomo model (the route of a slice with user rows)
    gives node b its balance row -y_gb = 0, so gb receives nothing; the matrix the fast path
    builds is the same, entry for entry."""
    data = _islanded()
    res = solve_model(build_slice_model(data))
    assert res.passed and res.objective == pytest.approx(5.0)
    got = dict(zip(res.deliveries["group"], res.deliveries["delivered"], strict=True))
    assert got["gb"] == pytest.approx(0.0, abs=1e-9)
    a, b = to_matrix(build_slice_model(data)), slice_matrix(data)
    assert list(a.row_index) == list(b.row_index) == ["a", "b", None]
    for k in ("rows", "cols", "vals", "row_lb", "row_ub", "col_ub", "c"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
