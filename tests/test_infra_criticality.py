"""Criticality: N-1 ranking, the N-k interdiction MILP against brute force, single points of failure."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from resiliopt.errors import InputError
from resiliopt.formulations.infra_flow import InfraFlow
from resiliopt.infra import load_infra_case
from resiliopt.infra.criticality import brute_force, n_minus_1, n_minus_k, single_points_of_failure
from resiliopt.infra.plots import criticality_map, dependency_graph

TOY = Path(__file__).parent / "data" / "infra_toy" / "case.yaml"


@pytest.fixture(scope="module")
def toy():
    return load_infra_case(TOY)


def only_layers(case, layers):
    keep = case.layers["layer"].isin(layers)
    dep = case.dependencies
    return dataclasses.replace(
        case,
        layers=case.layers[keep].reset_index(drop=True),
        nodes=case.nodes[case.nodes["layer"].isin(layers)].reset_index(drop=True),
        links=case.links[case.links["layer"].isin(layers)].reset_index(drop=True),
        dependencies=dep[dep["dependee_layer"].isin(layers) & dep["depender_layer"].isin(layers)].reset_index(
            drop=True
        ),
    )


def test_n_minus_1_toy(toy):
    r = n_minus_1(toy)
    assert len(r) == 14 and r["rank"].tolist() == list(range(1, 15))
    top = r.iloc[0]
    # A down: power keeps 3 of 9 through GC, water loses S (depends on A): 6/9 + 7/7
    assert (top["kind"], top["element"]) == ("node", "A") and top["loss"] == pytest.approx(6 / 9 + 1)
    t = r.set_index("element").loc["T"]
    # T down: C (depends on T) fails -> 5/9 of power; water loses T's 3 and 2 of U's 4
    assert t["loss_power"] == pytest.approx(5 / 9) and t["loss_water"] == pytest.approx(5 / 7)
    assert r["loss"].is_monotonic_decreasing
    # each N-1 loss equals a fresh solve of the same failure
    flow = InfraFlow(toy, objective="served")
    base = flow.objective_under(None)
    for row in r.itertuples(index=False):
        v = InfraFlow(toy, objective="served").objective_under([(row.kind, row.layer, row.element)])
        assert v - base == pytest.approx(row.loss, abs=1e-9)


@pytest.mark.parametrize("candidates", ["all", "nodes", "links"])
@pytest.mark.parametrize("k", [1, 2])
def test_n_minus_k_equals_brute_force_toy(toy, k, candidates):
    res = n_minus_k(toy, k, candidates)
    best, best_set = brute_force(toy, k, candidates)
    assert res.served == pytest.approx(best, abs=1e-8)
    assert res.lp_check == pytest.approx(res.served, abs=1e-8)
    assert len(res.failed) <= k


@pytest.mark.parametrize("k", [1, 2])
def test_n_minus_k_equals_brute_force_gas(k):
    gas = only_layers(load_infra_case("shelby-indp"), ["gas"])
    res = n_minus_k(gas, k)
    best, _ = brute_force(gas, k)
    assert res.served == pytest.approx(best, abs=1e-8)
    if k == 1:
        assert res.loss == pytest.approx(n_minus_1(gas)["loss"].max(), abs=1e-9)


def test_n_minus_k_refuses_partial_loss(toy):
    dep = toy.dependencies.copy()
    dep.loc[0, "loss"] = 0.5
    with pytest.raises(InputError, match="loss = 1"):
        n_minus_k(dataclasses.replace(toy, dependencies=dep), 1)


def test_spof_toy(toy):
    s = single_points_of_failure(toy).set_index("element")
    # A is the only way to B (through AB) and S depends on A (water T, U cut)
    assert set(s.loc["A", "cut"].split(";")) == {"power:B", "water:T", "water:U"}
    assert s.loc["AB", "cut"] == "power:B"
    assert "GC" not in s.index and "AC" not in s.index  # C has two ways in


def test_spof_cut_nodes_get_nothing():
    ext = load_infra_case("shelby-extended")
    s = single_points_of_failure(ext)
    assert len(s) > 0
    flow = InfraFlow(ext, objective="served")
    for r in s.head(12).itertuples(index=False):
        res = flow.solve([(r.kind, r.layer, r.element)], certificate=False)
        served = res.nodes.set_index(["layer", "element"])["served"]
        for c in r.cut.split(";"):
            layer, node = c.split(":")
            assert served[(layer, node)] == pytest.approx(0.0, abs=1e-9), (r.element, c)


def test_plots(toy, tmp_path):
    r = n_minus_1(toy)
    paths = criticality_map(toy, r, tmp_path) + dependency_graph(toy, tmp_path)
    assert all(p.stat().st_size > 1000 for p in paths)


def test_certified_columns(toy):
    r = n_minus_1(toy, certify_top=3)
    assert r["certified"].head(3).tolist() == [True, True, True]
    assert r["certified"].iloc[3:].isna().all()
    assert n_minus_k(toy, 1).certified


def test_spof_ignores_partial_dependencies(toy):
    dep = toy.dependencies.copy()
    dep.loc[0, "loss"] = 0.5  # S keeps half its function without A: A no longer cuts T and U
    s = single_points_of_failure(dataclasses.replace(toy, dependencies=dep)).set_index("element")
    assert s.loc["A", "cut"] == "power:B"
