"""Served-demand LP under damage, its certificates, the cascade and the IIM."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resiliopt.errors import InputError
from resiliopt.formulations.infra_certificate import certify_flow
from resiliopt.formulations.infra_flow import InfraFlow, failed_table, solve_flow
from resiliopt.infra import load_infra_case
from resiliopt.infra.cascade import cascade, case_iim, iim, layer_interdependency_matrix

TOY = Path(__file__).parent / "data" / "infra_toy" / "case.yaml"


@pytest.fixture(scope="module")
def toy():
    return load_infra_case(TOY)


@pytest.fixture(scope="module")
def ext():
    return load_infra_case("shelby-extended")


def test_toy_hand_solved(toy):
    flow = InfraFlow(toy)
    # intact: power 4 + 5 units over two arcs each (cost 18), water 5@1 + 2@1 + 2@2 (cost 11)
    r = flow.solve()
    assert r.objective == pytest.approx(29.0)
    assert r.layers["served_share"].tolist() == [1.0, 1.0]
    # A down: water source S depends on A and fails; C keeps 3 units through GC (cost 4 each)
    r = flow.solve(toy.damage_scenario("a-down"))
    assert r.objective == pytest.approx(13 * 100 + 3 * 4)
    n = r.nodes.set_index("element")
    assert n.loc["S", "functionality"] == pytest.approx(0.0) and n.loc["C", "served"] == pytest.approx(3.0)
    assert r.certificate.passed and r.input_certificate.passed
    # ST cut: only SU (capacity 2) feeds water
    r = flow.solve(toy.damage_scenario("st-cut"))
    assert r.objective == pytest.approx(18 + 4 + 5 * 100)
    lk = r.links.set_index("link")
    assert lk.loc["SU", "capacity_value"] == pytest.approx(98.0)  # 100 penalty saved - 2 flow cost
    assert lk.loc["ST", "flow_forward"] == 0.0


def test_capacity_value_is_a_finite_difference(toy):
    base = InfraFlow(toy).solve(toy.damage_scenario("a-down"))
    v = base.links.set_index("link").loc["GC", "capacity_value"]
    links = toy.links.copy()
    links.loc[links["link"] == "GC", "capacity"] += 0.5
    bumped = InfraFlow(dataclasses.replace(toy, links=links)).solve(toy.damage_scenario("a-down"))
    assert (base.objective - bumped.objective) / 0.5 == pytest.approx(v)
    assert v == pytest.approx(96.0)


def test_node_price_is_a_finite_difference(toy):
    failed = toy.damage_scenario("st-cut")
    base = InfraFlow(toy).solve(failed)
    price = base.nodes.set_index("element").loc["U", "price"]
    nodes = toy.nodes.copy()
    nodes.loc[nodes["node"] == "U", "demand"] += 0.25  # a quarter unit less demand at U
    bumped = InfraFlow(dataclasses.replace(toy, nodes=nodes)).solve(failed)
    assert (bumped.objective - base.objective) / 0.25 == pytest.approx(price)


def test_partial_loss(toy):
    dep = toy.dependencies.copy()
    dep.loc[0, "loss"] = 0.5  # S loses half its function while A is down
    case = dataclasses.replace(toy, dependencies=dep)
    r = InfraFlow(case).solve(toy.damage_scenario("a-down"))
    # S at w = 0.5: arcs out of S carry at most 2.5 (ST) + 1 (SU)
    assert r.layers.set_index("layer").loc["water", "served"] == pytest.approx(3.5)
    assert r.input_certificate.passed and r.certificate.passed
    c = cascade(case, toy.damage_scenario("a-down"))
    assert c.final.set_index("element").loc["S", "functionality"] == pytest.approx(0.5)


def test_certificates_on_shelby(ext):
    flow = InfraFlow(ext)
    for name in ext.damage_scenarios[:6]:
        r = flow.solve(ext.damage_scenario(name))
        assert r.certificate.passed, (name, r.certificate)
        assert r.input_certificate.passed, (name, r.input_certificate)
    indp = load_infra_case("shelby-indp")
    rng = np.random.default_rng(3)
    el = indp.elements()
    failed = el.iloc[rng.choice(len(el), 25, replace=False)]
    r = InfraFlow(indp, objective="served").solve(failed)
    assert r.input_certificate.passed and r.certificate.passed
    assert 0 < r.served_value < 3


def test_input_certificate_catches_bad_solutions(toy):
    failed = toy.damage_scenario("st-cut")
    r = InfraFlow(toy).solve(failed)
    bad = dataclasses.replace(r, links=r.links.copy())
    bad.links.loc[bad.links["link"] == "ST", "flow_forward"] = 1.0  # flow on a failed link
    cert = certify_flow(toy, failed, bad)
    assert not cert.passed and cert.failed_carry > 0
    bad = dataclasses.replace(r, nodes=r.nodes.copy())
    bad.nodes.loc[bad.nodes["element"] == "U", "price"] -= 5.0  # a wrong dual
    cert = certify_flow(toy, failed, bad)
    assert not cert.passed and cert.gap > 1e-3


def test_unservable_demand_is_named(toy):
    """a-down: B (only via A), T and U (S is down through its dependency on A) can never be
    served; C is short of capacity only, so it is not in the table."""
    r = InfraFlow(toy).solve(toy.damage_scenario("a-down"))
    u = r.unservable.set_index("node")
    assert sorted(u.index) == ["B", "T", "U"] and (u["reason"] == "no supply").all()
    assert u["demand"].to_dict() == {"B": 4.0, "T": 3.0, "U": 4.0}
    served = r.nodes.set_index("element")["served"]
    assert (served[u.index] == 0).all() and served["C"] == pytest.approx(3.0)
    d = r.to_dict()
    assert [(x["layer"], x["demand"], x["nodes"]) for x in d["unservable"]] == [
        ("power", 4.0, ["B"]),
        ("water", 7.0, ["T", "U"]),
    ]
    assert d["unservable"][1]["share"] == pytest.approx(1.0) and d["status"] == "optimal"
    # T failed: T itself, and C through its cyber dependency on T
    r = InfraFlow(toy).solve(failed_table([("node", "water", "T")]))
    u = r.unservable.set_index("node")
    assert u.loc["T", "reason"] == "failed" and u.loc["C", ["reason", "cause"]].tolist() == [
        "dependency",
        "water:T",
    ]
    assert InfraFlow(toy).solve().unservable.empty


def test_demand_on_no_link_is_solved_and_named(toy):
    nodes = pd.concat([toy.nodes, toy.nodes[toy.nodes["node"] == "B"].assign(node="V")], ignore_index=True)
    case = dataclasses.replace(toy, nodes=nodes)
    r = InfraFlow(case).solve()
    assert r.status == "optimal" and r.certified
    assert r.unservable[["layer", "node", "demand", "reason"]].values.tolist() == [
        ["power", "V", 4.0, "no supply"]
    ]
    assert r.nodes.set_index("element").loc["V", "unserved"] == pytest.approx(4.0)
    assert r.to_dict()["unservable"][0]["share"] == pytest.approx(4 / 13)


def test_unknown_failed_element(toy):
    with pytest.raises(InputError, match="not in layer"):
        solve_flow(toy, failed_table([("node", "power", "Z")]))


def test_cascade_rounds(toy):
    c = cascade(toy, toy.damage_scenario("a-down"))
    got = {(r.round, r.kind, r.element, r.cause) for r in c.rounds.itertuples()}
    assert got == {
        (0, "node", "A", ""),
        (1, "node", "S", "A"),
        (1, "link", "GA", "A"),
        (1, "link", "AB", "A"),
        (1, "link", "AC", "A"),
        (1, "link", "ST", "S"),
        (1, "link", "SU", "S"),
    }
    assert c.n_rounds == 1 and set(c.failed["element"]) == {"A", "S", "GA", "AB", "AC", "ST", "SU"}


def _no_deps(case):
    return dataclasses.replace(case, dependencies=case.dependencies.iloc[0:0])


@pytest.mark.parametrize("objective", ["cost", "served"])
def test_cascade_equals_lp(ext, objective):
    """The LP under the initial damage = the LP under the cascade's final set without dependencies."""
    with_dep = InfraFlow(ext, objective)
    without = InfraFlow(_no_deps(ext), objective)
    for name in ext.damage_scenarios[:: len(ext.damage_scenarios) // 8][:8]:
        d = ext.damage_scenario(name)
        c = cascade(ext, d)
        a = with_dep.solve(d, certificate=False)
        b = without.solve(c.failed, certificate=False)
        assert a.objective == pytest.approx(b.objective, rel=1e-9, abs=1e-7), name
        # every element of the final set carries nothing in the LP under the initial damage
        dead = c.failed
        n = a.nodes.merge(dead[dead["kind"] == "node"], on=["kind", "layer", "element"])
        assert (n["served"].abs() < 1e-9).all() and (n["supply_used"].abs() < 1e-9).all()
        lk = a.links.merge(
            dead[dead["kind"] == "link"].rename(columns={"element": "link"}), on=["layer", "link"]
        )
        assert (lk[["flow_forward", "flow_backward"]].abs() < 1e-9).all().all()


def test_cascade_power_outage_spreads(ext):
    # every node of the power layer down: all its dependers fail in round 1
    p = ext.nodes[ext.nodes["layer"] == "power"]
    d = pd.DataFrame({"kind": "node", "layer": "power", "element": p["node"]})
    c = cascade(ext, d)
    dependers = ext.dependencies[ext.dependencies["dependee_layer"] == "power"]
    got = c.final[c.final["failed"] & (c.final["kind"] == "node") & (c.final["layer"] != "power")]
    assert set(zip(dependers["depender_layer"], dependers["depender"], strict=True)) <= set(
        zip(got["layer"], got["element"], strict=True)
    )


def test_iim_haimes_jiang_example():
    q = iim([[0, 0.8], [0.2, 0]], [0, 0.6])
    assert q["q"].round(3).tolist() == [0.571, 0.714]
    assert q["q"].to_numpy() == pytest.approx([0.48 / 0.84, 0.6 / 0.84])
    with pytest.raises(InputError, match="spectral radius"):
        iim([[0, 1], [1, 0]], [0.1, 0.1])


def test_case_iim(ext):
    a = layer_interdependency_matrix(ext)
    assert list(a.index) == ["water", "gas", "power", "telecom"]
    assert (a.to_numpy() >= 0).all() and (a.to_numpy() <= 1).all()
    assert a.loc["water", "power"] > 0 and a.loc["power", "telecom"] > 0 and a.loc["water", "gas"] == 0
    assert a.loc["water", "telecom"] == 0  # no water node depends on telecom
    q = case_iim(ext, ext.damage_scenario(ext.damage_scenarios[0]))
    assert (q["q"] >= q["c_star"] - 1e-12).all() and (q["q"] <= 1).all()
    # the bounded IIM is the linear one when nothing caps
    lin = iim([[0, 0.8], [0.2, 0]], [0, 0.6])
    assert iim([[0, 0.8], [0.2, 0]], [0, 0.6], bounded=True)["q"].to_numpy() == pytest.approx(
        lin["q"], abs=1e-10
    )


_TOY_CASE = load_infra_case(TOY)
_TOY_ELEMENTS = list(_TOY_CASE.elements().itertuples(index=False, name=None))
_TOY_FLOW = {o: InfraFlow(_TOY_CASE, o) for o in ("cost", "served")}
_TOY_NODEP = {o: InfraFlow(_no_deps(_TOY_CASE), o) for o in ("cost", "served")}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(_TOY_ELEMENTS), max_size=5, unique=True),
    st.sampled_from(["cost", "served"]),
)
def test_property_any_failed_set(failed, objective):
    """Any failed set: both certificates pass, the cascade's set gives the same LP optimum, and
    failing more never serves more."""
    d = failed_table(failed)
    r = _TOY_FLOW[objective].solve(d)
    assert r.certificate.passed and r.input_certificate.passed
    c = cascade(_TOY_CASE, d)
    # unservable demand (graph only) gets nothing in the LP; its down nodes are the cascade's
    served = r.nodes.set_index(["layer", "element"])["served"]
    u = r.unservable
    assert (served.reindex(pd.MultiIndex.from_frame(u[["layer", "node"]])).abs() <= 1e-9).all()
    down = c.final[(c.final["kind"] == "node") & (c.final["functionality"] <= 0)]
    dem = set(
        zip(_TOY_CASE.nodes["layer"], _TOY_CASE.nodes["node"], _TOY_CASE.nodes["demand"] < 0, strict=True)
    )
    want = {(la, n) for la, n in zip(down["layer"], down["element"], strict=True) if (la, n, True) in dem}
    got = u[u["reason"] != "no supply"]
    assert set(zip(got["layer"], got["node"], strict=True)) == want
    assert _TOY_NODEP[objective].objective_under(c.failed) == pytest.approx(r.objective, abs=1e-9)
    if failed:
        fewer = _TOY_FLOW[objective].objective_under(failed_table(failed[:-1]))
        assert fewer <= r.objective + 1e-9  # a minimisation: more failures cost at least as much
