"""The analyst's constraints and extension reach every solve: slice, audit, fast path, Monte Carlo."""

import numpy as np
import pytest
import yaml

from resiliopt.case import load_case
from resiliopt.errors import InputError
from resiliopt.logistics import solve_slice
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.scenario import RecoveryState, case_model, sample_scenario

BASE = load_case("beijing").path.parent
CONSTRAINTS = [
    {"name": "heavy_trucks", "description": "heavy trucks over the R5-01 bridge", "kind": "arc_flow_cap",
     "bridges": ["B-R5-01"], "value": 6.0},
    {"name": "public_reserve", "description": "30 % of TR kept for public buildings", "kind": "reserve_share",
     "sector": "public", "value": 0.3},
    {"name": "ring5_works", "kind": "arc_closed", "arcs": ["RR->R5-02", "RR->R5-03"], "days": [2, 5]},
]  # fmt: skip


def _case(tmp_path, constraints=CONSTRAINTS, extension="tests.ext.demo_extension:ring2_cap"):
    doc = {"kind": "override", "base": str(BASE), "case": {"constraints": constraints}}
    if extension:
        doc["case"]["extension"] = extension
    p = tmp_path / "with-rows.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_case(p)


def test_rows_and_their_duals_in_the_audit(tmp_path, run_cli):
    cd = _case(tmp_path)
    cm = case_model(cd)
    st = RecoveryState(cm, sample_scenario(cm, 1, 0))
    res = solve_slice(st.slice_data())
    assert res.passed, res.problems  # the matrix certificate proves the extended optimum
    assert res.input_certificate is None and "heavy_trucks" in res.crosscheck_note
    d = res.duals.set_index("constraint")
    for name in ("heavy_trucks", "public_reserve", "ring2_groups"):
        assert name in d.index
        assert d.loc[name, "unit"] == "F_C per unit/slice"
    assert d.loc["heavy_trucks", "description"] == "heavy trucks over the R5-01 bridge"
    flows = res.flows.set_index("arc")["flow"]
    at_bridge = [
        a for a, b in zip(res.flows["arc"], res.flows["bridges"], strict=True) if "B-R5-01" in b.split("+")
    ]
    assert flows[at_bridge].sum() <= 6.0 + 1e-9
    code, _, err = run_cli("audit", tmp_path / "with-rows.yaml", "--seed", 1, "--out", tmp_path / "audit")
    assert code == 0, err
    md = (tmp_path / "audit" / "summary.md").read_text()
    assert "Input certificate: not applicable" in md and "cross-check: not applicable" in md


def test_monte_carlo_equals_the_extended_pyomo_model_slice_by_slice(tmp_path):
    cm = case_model(_case(tmp_path))
    plain = case_model(load_case("beijing"))
    lp = compiled_for(cm)
    changed = 0
    for i in range(3):
        cols, _, _ = run_scenario(cm, 1, i, 8, lp)
        # the same recovery, each slice built as a Pyomo model with the rows and solved on its own
        st = RecoveryState(cm, sample_scenario(cm, 1, i))
        for k in range(8):
            data = st.slice_data(only_active=False)
            if float(data.groups["capacity"].sum()) > 0:
                res = solve_slice(data, crosscheck=False)
                assert res.objective == pytest.approx(cols["objective"][k], rel=1e-9, abs=1e-14)
                y = res.deliveries["delivered"].to_numpy()
            else:
                y = np.zeros(cm.n_groups)
            assert st.functionality() == pytest.approx(cols["fc"][k], abs=1e-12)
            st.advance(np.minimum(np.maximum(y, 0.0), st.demand()))
        ref, _, _ = run_scenario(plain, 1, i, 8, compiled_for(plain))
        changed += not np.allclose(ref["delivered"], cols["delivered"])
    assert changed > 0  # the rows change the Monte Carlo


def test_arc_closed_on_its_days(tmp_path):
    cm = case_model(_case(tmp_path, extension=None))
    st = RecoveryState(cm, sample_scenario(cm, 1, 0))
    closed = cm.arcs["arc"].isin(["RR->R5-02", "RR->R5-03"]).to_numpy()
    base = st.arc_capacity()
    for day, shut in ((1, False), (2, True), (4, True), (5, False)):
        st.day = day
        cap = st.arc_capacity()
        assert (cap[closed] == 0).all() == shut
        assert np.array_equal(cap[~closed], base[~closed])


@pytest.mark.parametrize(
    "spec, where",
    [
        ({"name": "x", "kind": "arc_flow_cap", "arcs": ["R9-01->R2-01"], "value": 1}, "constraints[0] (x)"),
        ({"name": "x", "kind": "arc_flow_cap", "bridges": ["B-NONE"], "value": 1}, "constraints[0] (x)"),
        ({"name": "x", "kind": "arc_closed", "arcs": ["RR->R5-02"], "days": [5, 2]}, "constraints[0]"),
        ({"name": "x y", "kind": "reserve_share", "sector": "public", "value": 0.2}, "constraints[0].name"),
    ],
)
def test_bad_constraints_are_refused(tmp_path, spec, where):
    with pytest.raises(InputError) as e:
        case_model(_case(tmp_path, [spec], extension=None))
    assert where in str(e.value) and "with-rows.yaml" in str(e.value)


def test_bad_extension_is_refused(tmp_path):
    with pytest.raises(InputError, match="cannot load the extension"):
        case_model(_case(tmp_path, [], extension="no_such_module:f"))


def test_event_engine_sees_closures_as_events(tmp_path):
    """Closing and reopening arcs are events: the event-driven tables equal the stepwise ones."""
    from resiliopt.simulation.engine import run_scenario_stepwise

    spec = [{"name": "works", "kind": "arc_closed", "bridges": ["B-R5-01", "B-R4-03"], "days": [3, 40]}]
    cm = case_model(_case(tmp_path, spec, extension=None))
    lp = compiled_for(cm)
    for i in range(4):
        a, _, _ = run_scenario(cm, 2, i, 90, lp)
        b, _, _ = run_scenario_stepwise(cm, 2, i, 90, lp)
        for k in a:
            assert np.array_equal(a[k], b[k]), k
