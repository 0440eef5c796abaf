"""The compiled INDP (matrix written directly) is the Pyomo model, entry by entry, and its
re-plans give the Pyomo model's optimum."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from resiliopt.formulations.indp import INDPOptions, build_indp, compile_case, set_damage, set_resources
from resiliopt.formulations.indp_compiled import CompiledINDP, build_matrix, supported
from resiliopt.infra import load_infra_case
from resiliopt.infra.restoration import Restorer
from resiliopt.solvers.matrix import to_matrix


def _entries(lp):
    rows = [(lp.row_component[i], lp.row_index[i]) for i in range(lp.shape[0])]
    cols = [(lp.col_component[j], lp.col_index[j]) for j in range(lp.shape[1])]
    a = {}
    for i, j, v in zip(lp.rows, lp.cols, lp.vals, strict=True):
        if v != 0:
            a[rows[i], cols[j]] = a.get((rows[i], cols[j]), 0.0) + float(v)
    return rows, cols, a


def _drawn(case, seed=0):
    rng = np.random.default_rng(seed)
    n, lk = case.nodes, case.links
    return dataclasses.replace(
        case,
        nodes=n.assign(repair_time=rng.integers(1, 4, len(n)).astype(float)),
        links=lk.assign(repair_time=rng.integers(1, 4, len(lk)).astype(float)),
    )


@pytest.mark.parametrize("rule", ["all", "any"])
@pytest.mark.parametrize("which", ["toy", "shelby-durations"])
def test_matrix_equals_pyomo(rule, which):
    case = load_infra_case("tests/data/infra_toy/case.yaml" if which == "toy" else "shelby-extended")
    if which != "toy":
        case = _drawn(case)
    opts = INDPOptions(dependency_rule=rule)
    data = compile_case(case, opts)
    m = build_indp(case, 3, opts, data)
    ref = to_matrix(m)
    lp, _ = build_matrix(data, 3, opts)
    r_rows, r_cols, r_a = _entries(ref)
    rows, cols, a = _entries(lp)
    assert rows == r_rows and cols == r_cols  # same rows and columns, same order
    assert a == pytest.approx(r_a, rel=0, abs=0) and set(a) == set(r_a)
    for x, y in ((lp.c, ref.c), (lp.row_lb, ref.row_lb), (lp.row_ub, ref.row_ub)):
        assert np.array_equal(x, y)
    assert np.array_equal(lp.col_lb, ref.col_lb) and np.array_equal(lp.col_ub, ref.col_ub)


def test_unsupported_options():
    assert supported(INDPOptions(dependency_rule="all"))
    assert not supported(INDPOptions(tier1_min_share=0.5))
    assert not supported(INDPOptions(arc_model="paired"))


@pytest.mark.parametrize("scenario", ["set8/sce53", "set5/sce36"])
def test_compiled_solve_equals_pyomo(scenario):
    """Same damage and resources: the same optimum (within the gap), also after a change."""
    case = _drawn(load_infra_case("shelby-extended"), 1)
    opts = INDPOptions(dependency_rule="all")
    damage = case.damage_scenario(scenario)
    nodes = [(la, el) for k, la, el in damage[["kind", "layer", "element"]].to_numpy() if k == "node"]
    links = [(la, el) for k, la, el in damage[["kind", "layer", "element"]].to_numpy() if k == "link"]
    r = Restorer(case, 4, opts)
    fast = CompiledINDP(r.data, 4, opts)
    for res in ([3.0] * 4, [1.0, 2.0, 2.0, 3.0]):
        set_resources(r.model, {"repair": res})
        set_damage(r.model, nodes, links)
        ref = r._solve()
        fast.set_resources({"repair": res})
        fast.set_damage(nodes, links)
        out = fast.solve()
        assert out.status == ref.status == "optimal"
        assert out.objective == pytest.approx(ref.objective, rel=2e-9)
        # a warm re-plan from the repairs found: the same optimum
        start = fast.start_from(fast.repairs())
        again = fast.solve(start)
        assert again.objective == pytest.approx(ref.objective, rel=2e-9)
