"""User constraints, the extension hook and override layers (docs/constraints.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest

from resiliopt.case import load_case
from resiliopt.errors import InputError
from resiliopt.formulations.slice_lp import SliceData
from resiliopt.logistics import solve_slice
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.montecarlo import load_case_model, simulate
from resiliopt.simulation.scenario import RecoveryState, sample_scenario

DIR = "tests/data/constraints"
OVR = f"{DIR}/overrides.yaml"
EXT = f"{DIR}/ext_business.py:business_cap"
COLS = ["fc", "demand", "delivered", "unused", "supply_rate", "unrepaired", "objective"]


class CheckedLP:
    """The fast path, with every solve checked against the extended Pyomo model built from that
    slice's tables (active groups only) and solved through resiliopt.logistics: the same
    optimum, and the fast path's plan is feasible for the Pyomo model. (Gains tie between
    groups of one sector and damage state, so the optimal *plan* is not unique: two solvers
    may pick different vertices, and only the optimum and feasibility can be compared.)"""

    def __init__(self, cm):
        self.cm = cm
        self.fast = compiled_for(cm)
        self.checked = 0
        self.binding = set()

    def reset(self):
        self.fast.reset()

    def day_key(self, day):
        return self.fast.day_key(day)

    def next_change(self, day):
        return self.fast.next_change(day)

    def open_capacity(self, cap, day):
        return self.fast.open_capacity(cap, day)

    def recheck(self, *args, **kwargs):  # the Monte Carlo certifies reused optima (simulation/reuse.py)
        return self.fast.recheck(*args, **kwargs)

    def update(self, cap, demand, gain, tr, day=0):
        self.args = (cap, demand, gain, tr, day)
        self.fast.update(cap, demand, gain, tr, day)

    def solve(self):
        obj, x, y = self.fast.solve()
        cap, demand, gain, tr, day = self.args
        cm = self.cm
        arcs = cm.arcs[["arc", "from", "to", "capacity", "label", "bridges"]].copy()
        arcs["capacity"] = cap
        sectors = np.asarray(["residential", "business", "education", "public"])[cm.g_sector]
        groups = pd.DataFrame(
            {"group": cm.group_ids, "node": cm.g_node, "capacity": demand, "gain": gain, "sector": sectors}
        )
        active = np.flatnonzero(demand > 0)
        groups = groups.iloc[active].reset_index(drop=True)
        net = cm.case.network
        data = SliceData(
            arcs,
            groups,
            tr,
            net.entry.id,
            net.sink,
            named_nodes=[n.id for n in net.nodes],
            constraints=cm.user_rows,
            extension=cm.extension,
            day=day,
        )
        res = solve_slice(data, crosscheck=False)
        assert res.solution.optimal and res.certificate.passed
        if cm.extension is None:
            assert res.passed, res.problems
        else:
            assert not res.input_certificate.applicable
        assert obj == pytest.approx(res.objective, rel=1e-9, abs=1e-12)
        # the fast path's plan in the Pyomo model: every row and bound holds
        m = res.model
        for e, v in zip(m.arcs, x, strict=True):
            m.flow[e].set_value(float(v), skip_validation=True)
        for j, v in zip(m.groups, y[active], strict=True):
            m.delivery[j].set_value(float(v), skip_validation=True)
        for con in m.component_data_objects(pyo.Constraint, active=True):
            body = pyo.value(con.body)
            lo, up = pyo.value(con.lower), pyo.value(con.upper)
            assert lo is None or body >= lo - 1e-7 * (1 + abs(lo)), con.name
            assert up is None or body <= up + 1e-7 * (1 + abs(up)), con.name
        assert float(np.dot(gain, y)) == pytest.approx(res.objective, rel=1e-9, abs=1e-12)
        d = res.duals
        user = d[~d["constraint"].isin(["node_balance", "total_resources", "arc_capacity", "group_demand"])]
        self.binding |= set(user.loc[user["value"].abs() > 1e-12, "constraint"])
        self.checked += 1
        return obj, x, y


def _tables(cm, lp, seed=3, n=2, days=40):
    rows = [pd.DataFrame(run_scenario(cm, seed, i, days, lp)[0]) for i in range(n)]
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("extension", [None, EXT, f"{DIR}/ext_business.py:gain_cap"])
def test_monte_carlo_equals_extended_pyomo_slice_by_slice(tmp_path, extension):
    """The Monte Carlo's tables are those of a run whose every slice is checked against the
    extended Pyomo model, and the constraints change them."""
    cm = load_case_model("beijing", None, (OVR,), extension)
    sim = simulate(
        "beijing", 2, 3, 40, tmp_path / "mc", workers=1, plots=False, overrides=(OVR,), extension=extension
    )
    lp = CheckedLP(cm)
    ref = _tables(cm, lp)
    assert lp.checked >= 5  # every slice whose data change (the others reuse the optimum)
    assert (extension.split(":")[1] if extension else "heavy_trucks") in lp.binding  # a user row binds
    got = sim.slices
    assert len(got) == len(ref)
    for c in COLS:
        np.testing.assert_array_equal(got[c].to_numpy(), ref[c].to_numpy(), err_msg=c)
    # and the constraints matter: without them (or without the extension) the tables differ
    plain = load_case_model("beijing", None, (OVR,)) if extension else load_case_model("beijing", None)
    base = _tables(plain, compiled_for(plain))
    assert not np.array_equal(base["delivered"], got["delivered"])


def test_duals_of_user_rows_in_the_audit_under_their_names(tmp_path):
    from resiliopt.reports.audit import write_audit

    cm = load_case_model("beijing", None, (OVR,), EXT)
    st = RecoveryState(cm, sample_scenario(cm, 3, 0))
    res = solve_slice(st.slice_data())
    write_audit(res, tmp_path / "a")
    duals = pd.read_csv(tmp_path / "a" / "duals.csv", keep_default_na=False)
    for name in ("heavy_trucks", "schools_first", "homes_min", "ring2_closed", "business_cap"):
        rows = duals[duals["constraint"] == name]
        assert len(rows) >= 1, name
        assert (rows["constraint_unit"] == "units/slice").all()  # the row's unit
        assert (rows["unit"] == "F_C per unit/slice").all()  # the unit of its dual, a price
    assert set(duals.loc[duals["constraint"] == "ring2_closed", "index"]) == {"R2-01->R2-02", "R2-02->R2-01"}
    heavy = duals[duals["constraint"] == "heavy_trucks"]
    assert float(heavy["value"].iloc[0]) > 0  # the cap binds on day 0 of this scenario
    assert "heavy trucks over two 2nd-ring bridges" in heavy["description"].iloc[0]
    md = (tmp_path / "a" / "summary.md").read_text()
    assert "## User constraints" in md and "heavy_trucks" in md and "business_cap" in md
    assert "business_cap" in md and "units/slice" in md


def test_update_slice_model_moves_the_closure_with_the_day():
    from resiliopt.formulations.slice_lp import build_slice_model, update_slice_model
    from resiliopt.logistics import solve_model

    cm = load_case_model("beijing", None, (OVR,))
    st = RecoveryState(cm, sample_scenario(cm, 3, 0))
    m = build_slice_model(st.slice_data())
    closed = [pyo.value(m.ring2_closed[e].upper) for e in m.ring2_closed]
    assert closed == [0.0, 0.0]
    update_slice_model(m, day=5)
    assert [pyo.value(m.ring2_closed[e].upper) for e in m.ring2_closed] == [
        pyo.value(m.cap[e]) for e in m.ring2_closed
    ]
    assert solve_model(m, crosscheck=False).passed


@pytest.mark.parametrize(("day", "share"), [(0, None), (20, None), (0, 0.7)])
def test_duals_of_user_rows_are_finite_differences(tmp_path, day, share):
    """One more unit of a binding row's right-hand side is worth its dual (each scalar row)."""
    from dataclasses import replace

    layers = [OVR]
    if share is not None:  # a share large enough to bind
        doc = f"case: {{constraints: {{schools_first: {{share: {share}}}}}}}\n"
        (tmp_path / "share.yaml").write_text(doc)
        layers.append(tmp_path / "share.yaml")
    cm = load_case_model("beijing", None, tuple(layers))
    lp = compiled_for(cm)
    _, _, st = run_scenario(cm, 3, 0, day, lp, stop_day=day) if day else (None, None, None)
    st = st or RecoveryState(cm, sample_scenario(cm, 3, 0))
    data = st.slice_data()
    res = solve_slice(data)
    assert res.passed, res.problems
    h = 1e-3
    tried = 0
    for r in data.constraints:
        if r.kind == "closure":
            continue
        mu = float(res.duals.loc[res.duals["constraint"] == r.name, "value"].iloc[0])
        if abs(mu) < 1e-9:
            continue
        if r.kind == "tr_share":
            moved = replace(r, value=r.value - h / data.total_resources)  # (1 - s) TR up by h
        else:
            moved = replace(r, value=r.value + h)  # the cap, or the amount (below the demand)
        rows = tuple(moved if x.name == r.name else x for x in data.constraints)
        data2 = replace(data, constraints=rows)
        res2 = solve_slice(data2)
        assert res2.objective - res.objective == pytest.approx(mu * h, rel=1e-3, abs=1e-13), r.name
        tried += 1
    assert tried >= (3 if share else 2)  # heavy_trucks, homes_min (a >= row), and the share


def test_input_certificate_checks_declarative_rows():
    cm = load_case_model("beijing", None, (OVR,))
    st = RecoveryState(cm, sample_scenario(cm, 3, 0))
    data = st.slice_data()
    res = solve_slice(data)
    inp = res.input_certificate
    assert inp.passed and inp.user_count == 5  # three scalar rows, the closure on two arcs
    from resiliopt.logistics import slice_potentials
    from resiliopt.solvers.input_certificate import certify_input

    pot, lam = slice_potentials(res.solution.duals)
    flows = dict(zip(res.flows["arc"], res.flows["flow"], strict=True))
    dl = dict(zip(res.deliveries["group"], res.deliveries["delivered"], strict=True))
    ud = res.solution.duals
    duals = {(c, i): v for c, i, v in zip(ud["constraint"], ud["index"], ud["value"], strict=True)}
    ok = certify_input(data, flows, dl, pot, lam, res.objective, user_duals=duals)
    assert ok.passed
    # forget the binding cap's dual: the dual bound no longer holds
    wrong = {**duals, ("heavy_trucks", ""): 0.0}
    assert not certify_input(data, flows, dl, pot, lam, res.objective, user_duals=wrong).passed
    # a plan that breaks the cap (all flow doubled on its arcs) is refused as infeasible
    heavy = next(r for r in data.constraints if r.name == "heavy_trucks")
    bad = {a: (2 * f + 1 if a in heavy.arcs else f) for a, f in flows.items()}
    cert = certify_input(data, bad, dl, pot, lam, res.objective, user_duals=duals)
    assert cert.user_rows > 1e-3 and not cert.passed


def test_closure_is_an_event_of_the_fast_path():
    """The LP changes on the day a closure ends although no other data change."""
    cm = load_case_model("beijing", None, (OVR,))
    lp = compiled_for(cm)
    assert lp.day_key(4) != lp.day_key(5) and lp.day_key(5) == lp.day_key(6)
    assert lp.next_change(0) == 5 and lp.next_change(5) == np.inf
    cap = np.ones(len(cm.arcs))
    closed = cm.arcs["label"].eq("ring2-01").to_numpy()
    assert (lp.open_capacity(cap, 4)[closed] == 0).all() and (lp.open_capacity(cap, 4)[~closed] == 1).all()
    assert (lp.open_capacity(cap, 5) == 1).all()


# --------------------------------------------------------------------------- bad input
def _case_with(tmp_path, text: str):
    import shutil

    src = load_case("beijing").path.parent
    dst = tmp_path / "case"
    shutil.copytree(src, dst)
    (dst / "case.yaml").write_text((src / "case.yaml").read_text() + text)
    return dst


@pytest.mark.parametrize(
    ("text", "where", "rule"),
    [
        (
            "constraints:\n  c1: {type: flow_cap, bridges: [NOPE], max: 3}\n",
            "constraints.c1.bridges[0]",
            "unknown bridge",
        ),
        ("constraints:\n  c1: {type: closure, links: [x]}\n", "constraints.c1.links[0]", "unknown link"),
        (
            "constraints:\n  c1: {type: tr_share, categories: [ZZ], share: 0.1}\n",
            "categories[0]",
            "unknown category",
        ),
        (
            "constraints:\n  c1: {type: tr_share, sectors: [education], share: 1.5}\n",
            "share",
            "less than or equal",
        ),
        ("constraints:\n  c1: {type: min_delivery, amount: 3}\n", "constraints.c1", "at least one of"),
        ("constraints:\n  c1: {type: flow_cap, arcs: [R2-01->R2-02], max: -1}\n", "max", "greater than"),
        (
            "constraints:\n  c1: {type: flow_cap, arcs: [R2-01->R2-02], max: 1, maxx: 2}\n",
            "maxx",
            "unknown field",
        ),
        (
            "constraints:\n  c1: {type: closure, arcs: [R2-01->R2-02], from_day: 5, until_day: 2}\n",
            "c1",
            "after",
        ),
        (
            "constraints:\n  node_balance: {type: closure, arcs: [R2-01->R2-02]}\n",
            "constraints",
            "not one of",
        ),
        ("constraints:\n  c1: {type: cap, arcs: [R2-01->R2-02]}\n", "constraints.c1", "tag"),
        ("constraints:\n  flow: {type: closure, arcs: [R2-01->R2-02]}\n", "constraints", "not one of"),
    ],
)
def test_bad_constraints_are_refused(tmp_path, run_cli, text, where, rule):
    case = _case_with(tmp_path, text)
    with pytest.raises(InputError) as e:
        load_case(case)
    msg = str(e.value)
    assert "case.yaml" in msg and where in msg and rule in msg, msg
    code, _, err = run_cli("validate", case)
    assert code == 2 and "Traceback" not in err


def test_cli_extension_and_override_errors(run_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("case:\n  recovery:\n    slice_dayz: 2\n")
    code, _, err = run_cli(
        "simulate",
        "beijing",
        "--scenarios",
        1,
        "--days",
        2,
        "--out",
        tmp_path / "o",
        "--override",
        bad,
        "--no-progress",
    )
    assert code == 2 and "bad.yaml" in err and "recovery.slice_dayz" in err
    assert not (tmp_path / "o").exists()
    for spec, text in (
        ("nosuch_mod_xyz:f", "cannot import"),
        ("ext.py", "module:function"),
        (f"{DIR}/ext_business.py:nope", "no function"),
        (f"{DIR}/ext_business.py:broken", "boom"),
    ):
        code, _, err = run_cli("slice", "beijing", "--extension", spec)
        assert code == 2 and text in err and "--extension" in err and "Traceback" not in err, err


def test_override_layers_on_the_command_line(tmp_path):
    """--override FILE: layers (docs/overrides.md) whose base is the case argument, in turn."""
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("case:\n  logistics: {total_resources: 123}\n  variants:\n    mine: {description: new}\n")
    b.write_text("kind: override\ncase:\n  logistics: {total_resources: 77}\n")
    case = load_case("beijing", (a, b))
    assert case.case.logistics.total_resources == 77  # later layers win
    assert case.case.logistics.demand_per_thousand == load_case("beijing").case.logistics.demand_per_thousand
    assert "mine" in case.case.variants and "bridges" in case.case.variants
    assert case.overrides == (str(a.resolve()), str(b.resolve()))
    c = tmp_path / "c.yaml"
    c.write_text("base: beijing\ncase: {hazard: {pga: 0.3}}\n")
    with pytest.raises(InputError, match="remove base"):
        load_case("beijing", (c,))


def test_extension_named_in_the_case(tmp_path):
    """``extension:`` in case.yaml (or a layer) works as --extension does; --extension wins."""
    from pathlib import Path

    ext = Path(DIR).resolve() / "ext_business.py"
    layer = tmp_path / "ext.yaml"
    layer.write_text(f"case: {{extension: '{ext}:business_cap'}}\n")
    cm = load_case_model("beijing", None, (OVR, layer))
    assert cm.extension is not None and cm.extension.__name__ == "business_cap"
    cm2 = load_case_model("beijing", None, (OVR, layer), f"{ext}:gain_cap")
    assert cm2.extension.__name__ == "gain_cap"
    st = RecoveryState(cm, sample_scenario(cm, 3, 0))
    res = solve_slice(st.slice_data())
    assert "business_cap" in set(res.duals["constraint"]) and not res.input_certificate.applicable
    assert res.status == "unverified" and res.certificate.passed


def test_event_engine_equals_stepwise_with_user_rows():
    """The event-driven engine jumps over slices with equal LP data; a closure that starts and
    ends is an event (``next_change``), so its tables equal the slice-by-slice reference."""
    from resiliopt.simulation.engine import run_scenario_stepwise

    cm = load_case_model("beijing", None, (OVR,))
    assert any(r.kind == "closure" and r.from_day == 0 and r.until_day == 5 for r in cm.user_rows)
    lp = compiled_for(cm)
    for i in range(2):
        a, _, _ = run_scenario(cm, 4, i, 30, lp)
        b, _, _ = run_scenario_stepwise(cm, 4, i, 30, lp)
        for c in a:
            np.testing.assert_array_equal(a[c], b[c], err_msg=c)
