"""solve_slice solves a plain slice from its numpy matrix (no Pyomo): the same optimum, the
same shadow prices and the same checks as the Pyomo model it stands for."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resiliopt.formulations.slice_crosscheck import networkx_objective
from resiliopt.formulations.slice_lp import build_slice_model
from resiliopt.logistics import load_slice, solve_model, solve_slice


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 50), day=st.sampled_from([0, 3, 20, 60]), method=st.sampled_from(["simplex", "ipm"])
)
def test_matrix_path_equals_pyomo_model(seed, day, method):
    data = load_slice("beijing", seed=seed, day=day)
    fast = solve_slice(data, method=method)
    ref = solve_model(build_slice_model(data))
    assert fast.solved_model is None  # nothing went through Pyomo
    assert fast.status == ref.status == "optimal"
    assert fast.passed and fast.certificate.passed and fast.input_certificate.passed
    assert fast.objective == pytest.approx(ref.objective, rel=1e-9, abs=1e-12)
    assert fast.objective == pytest.approx(networkx_objective(data), rel=1e-7, abs=1e-9)
    # the same tables, row for row (values may differ only where the optimum is not unique)
    for name in ("flows", "deliveries", "duals", "reduced_costs"):
        a, b = getattr(fast, name), getattr(ref, name)
        assert list(a.columns) == list(b.columns), name
        key = [c for c in a.columns if a[c].dtype == object or str(a[c].dtype).startswith("str")]
        assert a[key].astype(str).equals(b[key].astype(str)), name
    # total delivered and TR used agree (flows may route differently at equal cost)
    assert fast.delivered == pytest.approx(ref.delivered, rel=1e-7, abs=1e-6)


def test_prices_match_finite_differences_on_the_matrix_path(data_dir):
    """TR and an arc capacity priced by the matrix path (simplex and IPM + crossover) equal
    one-sided differences of the optimum (the known values of tests/test_slice_lp.py)."""
    from resiliopt.formulations.slice_lp import SliceData

    for method in ("simplex", "ipm"):
        data = SliceData.from_file(data_dir / "slice_tr_binds.yaml")
        base = solve_slice(data, method=method)
        d = base.duals.set_index(["constraint", "index"])["value"]
        assert d["total_resources", ""] == pytest.approx(0.013)
        h = 1e-3
        data.total_resources += h
        assert (solve_slice(data, method=method).objective - base.objective) / h == pytest.approx(
            d["total_resources", ""], rel=1e-6
        )
        data.total_resources -= h
        k = data.arcs.index[data.arcs["arc"] == "n1->n3"][0]
        data.arcs.loc[k, "capacity"] += h
        assert (solve_slice(data, method=method).objective - base.objective) / h == pytest.approx(
            d["arc_capacity", "n1->n3"], rel=1e-6
        )


def test_model_is_built_on_demand_with_the_solution():
    data = load_slice("beijing", seed=1)
    res = solve_slice(data)
    m = res.model
    assert res.solved_model is m
    x = {e: m.flow[e].value for e in m.arcs}
    assert x == dict(zip(res.flows["arc"], res.flows["flow"], strict=True))
    again = solve_model(m)  # the built model solves to the same optimum
    assert again.objective == pytest.approx(res.objective, rel=1e-9)


def test_method_is_checked():
    with pytest.raises(ValueError, match="method"):
        solve_slice(load_slice("beijing"), method="barrier")


def test_engine_cold_solve_by_interior_point():
    """City-size LPs start each scenario with IPM + crossover, then warm dual simplex. Forced on
    the Beijing case every slice still passes its input certificate (the engine raises
    otherwise), and the first slice of every scenario has the same optimum as with dual
    simplex. Later slices may differ: the slice LP often has several optimal plans, and the
    plan chosen changes the state the next slice starts from (docs/recovery.md, "Ties")."""
    from resiliopt.case import load_case
    from resiliopt.simulation.engine import compiled_for, run_scenario
    from resiliopt.simulation.scenario import case_model

    cm = case_model(load_case("beijing"))
    runs = {}
    for method in ("simplex", "ipm"):
        lp = compiled_for(cm)
        lp.cold_method = method
        runs[method] = [run_scenario(cm, 4, i, 365, lp)[0] for i in range(3)]
        assert lp.solves > 0 and lp.last_certificate.passed
    for a, b in zip(runs["simplex"], runs["ipm"], strict=True):
        assert a["objective"][0] == pytest.approx(b["objective"][0], rel=1e-9)
        assert a["fc"][0] == b["fc"][0]
        assert a["fc"][-1] == pytest.approx(b["fc"][-1], abs=0.05)


def test_a_crossover_vertex_that_fails_the_certificate_is_solved_again_by_simplex(monkeypatch):
    import resiliopt.solvers.highs as hs
    from resiliopt.formulations.slice_compiled import slice_matrix
    from resiliopt.solvers.certificate import Certificate

    calls = []
    real = hs.certify

    def first_fails(*args, **kw):
        calls.append(1)
        if len(calls) == 1:
            return Certificate(1.0, 0.0, 0.0, 0.0)  # primal infeasibility 1: not passed
        return real(*args, **kw)

    monkeypatch.setattr(hs, "certify", first_fails)
    data = load_slice("beijing", seed=1)
    sol = hs.solve_lp(slice_matrix(data), method="ipm")
    assert len(calls) == 2 and sol.optimal and sol.certificate.passed
    assert sol.objective == pytest.approx(solve_slice(data).objective, rel=1e-9)
