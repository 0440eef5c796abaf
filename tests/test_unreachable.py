"""Demand no road reaches: read from the input graph, reported by slice, audit and validate.

A building group on a node that no open arc path reaches from the source gets nothing in
every feasible plan. It is reported (count, nodes, demand and F_C shares) on the slice
result, in ``slice`` (text and JSON), in the audit (summary.md, audit.json, unreachable.csv),
and ``validate`` warns (exit 0) when the intact network of a case leaves buildings unreached.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import resiliopt
from resiliopt.formulations.slice_lp import SliceData
from resiliopt.formulations.user_constraints import UserRow
from resiliopt.logistics import solve_slice
from resiliopt.simulation.load import load_case_model
from resiliopt.simulation.unreachable import intact_unreachable, unreachable_groups, unreachable_summary

BEIJING = Path(resiliopt.__file__).parent.parent / "data" / "beijing"
CUT = "R2-01"


def _slice(arcs, groups, tr=100.0, constraints=(), day=0) -> SliceData:
    a = pd.DataFrame(arcs, columns=["from", "to", "capacity"])
    a.insert(0, "arc", a["from"] + "->" + a["to"])
    a["label"] = a["arc"]
    g = pd.DataFrame(groups, columns=["group", "node", "capacity", "gain"])
    return SliceData(a, g, tr, constraints=tuple(constraints), day=day)


def test_known_slice():
    """By construction: n3 only behind a closed arc, n4 only behind n3, n5 reached but TR is
    short (the LP gives it nothing, yet a road reaches it: not listed), g0 has no demand."""
    data = _slice(
        [("RR", "n1", 50), ("n1", "n2", 50), ("n1", "n3", 0), ("n3", "n4", 10), ("n2", "n5", 50)],
        [
            ("g1", "n2", 20, 0.01),
            ("g2", "n3", 5, 0.02),
            ("g3", "n4", 15, 0.04),
            ("g4", "n5", 10, 0.001),
            ("g0", "n4", 0, 0.5),
        ],
        tr=20,
    )
    t = unreachable_groups(data)
    assert t["group"].tolist() == ["g2", "g3"]
    assert t["fc_at_stake"].tolist() == pytest.approx([0.1, 0.6])
    s = unreachable_summary(data)
    assert s["groups"] == 2 and s["nodes"] == ["n3", "n4"]
    assert s["demand"] == 20 and s["demand_share"] == pytest.approx(20 / 50)
    assert s["fc_share"] == pytest.approx(0.7 / (0.2 + 0.1 + 0.6 + 0.01))
    res = solve_slice(data)
    assert res.passed
    got = dict(zip(res.deliveries["group"], res.deliveries["delivered"], strict=True))
    assert got["g2"] == 0 and got["g3"] == 0 and got["g4"] == pytest.approx(0.0)  # g4: TR, not the road
    assert res.unreachable["group"].tolist() == ["g2", "g3"]
    assert res.to_dict()["unreachable"]["groups"] == 2
    assert "2 group(s)" in res.unreachable_note and "n3, n4" in res.unreachable_note


def test_a_closure_closes_its_arc_on_its_days():
    arcs = [("RR", "n1", 50), ("n1", "n2", 50)]
    closure = UserRow("shut", "closure", "", arcs=("n1->n2",), from_day=3, until_day=10)
    groups = [("g1", "n2", 5, 0.01)]
    assert unreachable_groups(_slice(arcs, groups, constraints=[closure], day=0)).empty
    assert unreachable_groups(_slice(arcs, groups, constraints=[closure], day=5))["group"].tolist() == ["g1"]


@st.composite
def slices(draw):
    nodes = [f"n{k}" for k in range(draw(st.integers(2, 6)))]
    arcs = {("RR", nodes[0]): draw(st.sampled_from([0.0, 30.0]))}
    for _ in range(draw(st.integers(0, 10))):
        u, w = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
        if u != w:
            arcs[(u, w)] = draw(st.sampled_from([0.0, 5.0, 40.0]))
    groups = [
        (
            f"g{k}",
            draw(st.sampled_from(nodes)),
            draw(st.sampled_from([0.0, 3.0, 10.0])),
            draw(st.floats(0, 1)),
        )
        for k in range(draw(st.integers(1, 6)))
    ]
    return _slice([(u, w, c) for (u, w), c in arcs.items()], groups, tr=draw(st.sampled_from([5.0, 100.0])))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(slices())
def test_unreachable_groups_get_nothing_and_reached_ones_could(data):
    """An unreachable group gets 0 in the proven optimum; a reached group with demand and a
    positive gain, the only one, with TR and capacities ample on its path, gets something."""
    res = solve_slice(data)
    assert res.passed
    cut = set(res.unreachable["group"])
    got = dict(zip(res.deliveries["group"], res.deliveries["delivered"], strict=True))
    assert all(got[j] == pytest.approx(0.0, abs=1e-9) for j in cut)
    alone = data.groups[(data.groups["capacity"] > 0) & (data.groups["gain"] > 1e-3)]
    if len(alone) == 1 and alone["group"].iloc[0] not in cut:  # some open path carries >= 5 units
        assert got[alone["group"].iloc[0]] > 0


@pytest.fixture(scope="module")
def cut_case(tmp_path_factory) -> Path:
    """The bundled case with every link at R2-01 removed (its building groups stay)."""
    case = tmp_path_factory.mktemp("cut") / "beijing"
    shutil.copytree(BEIJING, case)
    net = yaml.safe_load((case / "network.yaml").read_text())
    net["links"] = [k for k in net["links"] if CUT not in (k["from"], k["to"])]
    (case / "network.yaml").write_text(yaml.safe_dump(net, sort_keys=False))
    return case


def test_slice_reports_the_cut_node(run_cli, cut_case):
    code, out, _ = run_cli("slice", cut_case, "--json")
    assert code == 0
    d = json.loads(out)
    u = d["unreachable"]
    at_cut = [g for g in d["deliveries"] if g["node"] == CUT and g["demand"] > 0]
    assert u["groups"] == len(at_cut) > 0 and u["nodes"] == [CUT]
    assert {r["group"] for r in u["table"]} == {g["group"] for g in at_cut}
    demand = sum(g["demand"] for g in d["deliveries"])
    assert u["demand_share"] == pytest.approx(sum(g["demand"] for g in at_cut) / demand)
    worth = sum(g["gain"] * g["demand"] for g in d["deliveries"])
    assert u["fc_share"] == pytest.approx(sum(g["gain"] * g["demand"] for g in at_cut) / worth)
    code, out, _ = run_cli("slice", cut_case)
    assert code == 0 and "unreachable demand" in out and CUT in out
    code, out, _ = run_cli("slice", "beijing")
    assert code == 0 and "none (every group with demand is reached)" in out


def test_audit_writes_the_table(run_cli, cut_case, tmp_path):
    out = tmp_path / "audit"
    code, _, _ = run_cli("audit", cut_case, "--out", out)
    assert code == 0
    table = pd.read_csv(out / "unreachable.csv")
    meta = json.loads((out / "audit.json").read_text())["unreachable"]
    assert set(table["node"]) == {CUT} and meta["groups"] == len(table) > 0
    assert meta["fc_at_stake"] == pytest.approx(table["fc_at_stake"].sum())
    md = (out / "summary.md").read_text()
    assert "## Demand no road reaches" in md and f"({CUT})" in md
    out2 = tmp_path / "audit2"
    assert run_cli("audit", "beijing", "--out", out2)[0] == 0
    assert pd.read_csv(out2 / "unreachable.csv").empty  # the header, no row
    assert json.loads((out2 / "audit.json").read_text())["unreachable"]["groups"] == 0


def test_validate_warns_on_an_intact_case(run_cli, cut_case):
    code, out, err = run_cli("validate", cut_case)
    assert code == 0, err
    warn = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warn) == 1 and CUT in warn[0] and "4.94 % of the buildings" in warn[0]
    code, out, _ = run_cli("validate", "beijing")
    assert code == 0 and "warning" not in out


def test_intact_shares_known_from_the_files(cut_case):
    """Every category stands at R2-01 with the node share 0.049381 (buildings.yaml): that is
    the building share; the F_C share is F_C's drop with those buildings unsafe."""
    from resiliopt import community as fc

    cm = load_case_model(cut_case, None)
    r = intact_unreachable(cm)
    shares = yaml.safe_load((cut_case / "buildings.yaml").read_text())["node_shares"]
    assert r["nodes"] == [CUT] and r["building_share"] == pytest.approx(shares[CUT] / sum(shares.values()))
    at = np.array([n == CUT for n in cm.g_node])
    l = fc.sector_loss(np.where(at, cm.g_count, 0.0), cm.g_sector, cm.case.sector_totals)
    f0 = float(fc.functionality(np.zeros(4), cm.case.dam, cm.case.community.clamp))
    assert r["fc_share"] == pytest.approx((f0 - float(fc.functionality(l, cm.case.dam))) / f0)
    assert 0 < r["fc_share"] < 1
    assert intact_unreachable(load_case_model("beijing", None))["groups"] == []


def test_validate_warns_on_a_slice_file(run_cli, tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(
        yaml.safe_dump(
            {
                "kind": "slice",
                "total_resources": 10,
                "arcs": [{"from": "RR", "to": "a", "capacity": 5}, {"from": "b", "to": "a", "capacity": 5}],
                "groups": [
                    {"id": "g1", "node": "a", "capacity": 2, "gain": 0.1},
                    {"id": "g2", "node": "b", "capacity": 3, "gain": 0.1},
                ],
            }
        )
    )
    code, out, _ = run_cli("validate", f)
    assert code == 0
    assert "warning: 1 group(s) with demand 3 (60 % of the demand" in out and ": b" in out
