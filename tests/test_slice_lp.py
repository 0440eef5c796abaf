import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resiliopt.formulations.slice_compiled import CompiledSlice
from resiliopt.formulations.slice_crosscheck import networkx_objective
from resiliopt.formulations.slice_lp import SliceData, build_slice_model, update_slice_model
from resiliopt.logistics import solve_model, solve_slice


def dual(res, constraint, index=""):
    d = res.duals
    return float(d[(d["constraint"] == constraint) & (d["index"] == index)]["value"].iloc[0])


def test_small_slice_known_optimum(data_dir):
    res = solve_slice(SliceData.from_file(data_dir / "slice_small.yaml"))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(5 * 0.013 + 10 * 0.02 + 3 * 0.001)
    assert dual(res, "total_resources") == pytest.approx(0.0)  # TR = 400 does not bind
    assert dual(res, "arc_capacity", "n1->n3") == pytest.approx(0.02)
    assert res.passed and res.certificate.passed and res.input_certificate.passed


def test_tr_binding_known_duals(data_dir):
    res = solve_slice(SliceData.from_file(data_dir / "slice_tr_binds.yaml"))
    assert res.objective == pytest.approx(0.226)
    assert dual(res, "total_resources") == pytest.approx(0.013)
    assert dual(res, "arc_capacity", "n1->n3") == pytest.approx(0.007)
    assert res.passed
    assert dual(res, "arc_capacity", "n1->n2") == pytest.approx(0.0)
    deliv = res.deliveries.set_index("group")["delivered"]
    assert (
        deliv["g2"] == pytest.approx(10)
        and deliv["g1"] == pytest.approx(2)
        and deliv["g3"] == pytest.approx(0)
    )
    # g2's unmet demand (40 units) sits behind the saturated n1->n3
    assert list(res.min_cut()["arc"]) == ["n1->n3"]


def test_duals_match_finite_differences(data_dir):
    """Shadow prices of TR and of a capacity equal one-sided differences of the optimum."""
    data = SliceData.from_file(data_dir / "slice_tr_binds.yaml")
    m = build_slice_model(data)
    base = solve_model(m)
    h = 1e-3
    update_slice_model(m, total_resources=12 + h)
    up = solve_model(m).objective
    assert (up - base.objective) / h == pytest.approx(dual(base, "total_resources"), rel=1e-6)
    update_slice_model(m, total_resources=12, capacity={"n1->n3": 10 + h})
    up = solve_model(m).objective
    assert (up - base.objective) / h == pytest.approx(dual(base, "arc_capacity", "n1->n3"), rel=1e-6)


def test_case_slice_duals_finite_differences():
    from resiliopt.logistics import case_slice

    data = case_slice("beijing", seed=3)
    m = build_slice_model(data)
    base = solve_model(m)
    assert base.passed and base.certificate.passed and base.input_certificate.passed
    top = base.shadow_prices(1)
    arc, price = top["index"].iloc[0], top["value"].iloc[0]
    cap = float(data.arcs.set_index("arc").loc[arc, "capacity"])
    h = 1e-4
    update_slice_model(m, capacity={arc: cap + h})
    fd = (solve_model(m).objective - base.objective) / h
    assert fd == pytest.approx(price, rel=1e-5)


@st.composite
def random_slice(draw):
    n = draw(st.integers(2, 7))
    nodes = [f"n{i}" for i in range(n)]
    pairs = [(u, v) for u in nodes for v in nodes if u != v]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=len(pairs), unique=True))
    entries = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=n, unique=True))
    cap = st.floats(0, 50, allow_nan=False).map(lambda x: round(x, 3))
    arcs = [{"from": "RR", "to": v, "capacity": draw(cap)} for v in entries]
    arcs += [{"from": u, "to": v, "capacity": draw(cap)} for u, v in chosen]
    on_arcs = sorted({a["to"] for a in arcs} | {a["from"] for a in arcs} - {"RR"})
    k = draw(st.integers(0, 6))
    groups = [
        {
            "id": f"g{i}",
            "node": draw(st.sampled_from(on_arcs)),
            "capacity": draw(cap),
            "gain": round(draw(st.floats(0, 0.05)), 6),
        }
        for i in range(k)
    ]
    from resiliopt.schemas import SliceFile

    f = SliceFile.model_validate(
        {"kind": "slice", "total_resources": draw(cap), "arcs": arcs, "groups": groups}
    )
    return SliceData.from_schema(f)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_slice())
def test_random_slices_match_networkx_and_certify(data):
    res = solve_slice(data, crosscheck=False)
    assert res.status == "optimal"
    assert res.certificate.passed, res.certificate
    assert res.input_certificate.passed, res.input_certificate
    assert res.objective == pytest.approx(networkx_objective(data), rel=1e-6, abs=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_slice(), st.randoms(use_true_random=False))
def test_fast_path_equals_pyomo(data, rnd):
    fast = CompiledSlice(data)
    m = build_slice_model(data)
    for _ in range(3):  # re-solve after in-place updates, warm started
        cap = np.array([rnd.uniform(0, 50) for _ in range(len(data.arcs))])
        dem = np.array([rnd.uniform(0, 20) for _ in range(len(data.groups))])
        gain = np.array([rnd.uniform(0, 0.05) for _ in range(len(data.groups))])
        tr = rnd.uniform(0, 100)
        fast.update(cap, dem, gain, tr)
        obj, _, _ = fast.solve()
        assert fast.last_certificate.passed  # the input certificate runs on every fast solve
        update_slice_model(m, capacity=cap, demand=dem, gain=gain, total_resources=tr)
        # HiGHS solves to a primal feasibility tolerance of 1e-7 (absolute)
        assert obj == pytest.approx(solve_model(m, crosscheck=False).objective, rel=1e-7, abs=1e-6)


def test_milp_solves_without_duals():
    """A model with integer variables is solved; it has primal values and no dual tables."""
    import pyomo.environ as pyo

    from resiliopt.solvers.highs import PyomoHighs

    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.Binary)
    m.y = pyo.Var(bounds=(0, 2.5))
    m.c = pyo.Constraint(expr=m.y <= 2 * m.x + 0.5)
    m.o = pyo.Objective(expr=m.y - 0.1 * m.x, sense=pyo.maximize)
    sol = PyomoHighs().solve(m)
    assert sol.status == "optimal" and sol.objective == pytest.approx(2.4)
    assert sol.duals.empty and sol.certificate is None
    assert set(sol.primal["variable"]) == {"x", "y"}
