"""The emergency loop on the toy case: indicators, closed/open loop and rules, road access."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from resiliopt.case.infra import KEY
from resiliopt.emergency import load_emergency_config
from resiliopt.emergency.event import RoadAccess, Roads
from resiliopt.emergency.monitor import Monitor
from resiliopt.emergency.response import POLICIES, element_sites, run_loop
from resiliopt.infra import load_infra_case

TOY = "tests/data/infra_toy/case.yaml"
CFG = {
    "min_dwell": 2,
    "levels": [
        {"name": "normal", "response": {"resources_per_period": 1, "horizon": 3}},
        {
            "name": "IV",
            "enter": {"unserved_share": 0.05},
            "leave": {"unserved_share": 0.02},
            "response": {"resources_per_period": 2},
        },
        {
            "name": "III",
            "enter": {"unserved_share": 0.3},
            "leave": {"unserved_share": 0.2},
            "response": {"resources_per_period": 3, "horizon": 4},
        },
    ],
}
DAMAGE = pd.DataFrame(
    [("node", "power", "A"), ("link", "water", "ST"), ("link", "power", "GC"), ("node", "water", "T")],
    columns=KEY,
)


@pytest.fixture(scope="module")
def case():
    return load_infra_case(TOY)


@pytest.fixture(scope="module")
def monitor(case):
    return Monitor(case)


def test_indicators_by_hand(monitor):
    x, _, _ = monitor.indicators(pd.DataFrame(columns=KEY))
    assert x["unserved_share"] == 0 and x["failed_critical"] == 0
    # A down: power B (4) loses all, C (5) gets 3 over GC -> power loses 6 of 9; water's only
    # source S depends on A -> water loses all
    x, _, cas = monitor.indicators(pd.DataFrame([("node", "power", "A")], columns=KEY))
    assert x["unserved_share.power"] == pytest.approx(6 / 9)
    assert x["unserved_share.water"] == pytest.approx(1.0)
    assert x["unserved_share"] == pytest.approx((6 / 9 + 1) / 2)
    assert x["cascade_depth"] == cas.n_rounds >= 1
    assert x["failed_critical"] == 1  # A tops the N-1 ranking


def _resource_use_ok(res, sites):
    rep = res.dispatch[res.dispatch["action"] == "repair"]
    for r in res.periods.itertuples(index=False):
        busy = rep[(rep["start"] <= r.period) & (rep["end"] > r.period)]
        use = sum(sites.at[(k.kind, k.layer, k.element), "resource_use"] for k in busy.itertuples())
        assert use <= r.resources + 1e-9, (r.period, use, r.resources)


@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_is_feasible(case, monitor, policy):
    cfg = load_emergency_config(CFG)
    res = run_loop(case, cfg, DAMAGE, policy, seed=3, monitor=monitor)
    sites = element_sites(case)
    rep = res.dispatch[res.dispatch["action"] == "repair"]
    keys = [tuple(k) for k in rep[KEY].to_numpy()]
    assert len(keys) == len(set(keys))  # each element repaired once
    assert set(keys) <= {tuple(k) for k in DAMAGE.to_numpy()}  # only damaged ones
    assert (rep["end"] > rep["start"]).all()
    _resource_use_ok(res, sites)
    # the level follows the indicators: III while more than 0.3 is unserved
    per = res.periods
    assert (per.loc[per["unserved_share"] >= 0.3, "level"] == "III").all()
    assert res.summary["periods_to_full_service"] is not None


def test_same_seed_same_answer(case, monitor):
    cfg = load_emergency_config(CFG)
    a = run_loop(case, cfg, DAMAGE, "closed", seed=5, monitor=monitor)
    b = run_loop(case, cfg, DAMAGE, "closed", seed=5, monitor=monitor)
    pd.testing.assert_frame_equal(a.periods, b.periods)
    pd.testing.assert_frame_equal(a.dispatch, b.dispatch)


def test_closed_loop_no_worse_than_population_rule(case, monitor):
    cfg = load_emergency_config(CFG)
    for s in range(3):
        closed = run_loop(case, cfg, DAMAGE, "closed", seed=s, dispersion=0.0, monitor=monitor).summary
        rule = run_loop(case, cfg, DAMAGE, "population", seed=s, dispersion=0.0, monitor=monitor).summary
        assert closed["unserved_area"] <= rule["unserved_area"] + 1e-9


def test_crews_need_an_open_road(case, monitor):
    roads = Roads(
        depots=["D"],
        nodes=[
            {"id": "D", "x": 0.0, "y": 0.0},
            {"id": "E", "x": 1.0, "y": 0.0},
            {"id": "W", "x": 3.0, "y": 2.0},
        ],
        links=[
            {"id": "de", "from": "D", "to": "E", "length_km": 20},
            {"id": "ew", "from": "E", "to": "W", "bridge": True, "length_km": 20},
        ],
        damaged_bridges=[{"link": "ew", "repaired_period": 3}],
    )
    access = RoadAccess.build(roads)
    cfg = load_emergency_config(CFG)
    dmg = pd.DataFrame([("node", "power", "A"), ("node", "water", "U")], columns=KEY)  # U at (3, 1): behind
    res = run_loop(case, cfg, dmg, "criticality", roads=access, seed=1, monitor=monitor)
    rep = res.dispatch[res.dispatch["action"] == "repair"].set_index("element")
    assert rep.at["U", "start"] >= 3  # the bridge opens in period 3
    assert rep.at["A", "start"] == 0
    assert rep.at["U", "travel_hours"] == pytest.approx(40 / 40)  # D -> E -> W at 40 km/h
    travel = res.dispatch[res.dispatch["action"] == "travel"]
    assert set(travel["element"]) == {"A", "U"}
    assert res.periods.loc[res.periods["period"] < 3, "unreachable"].max() >= 1
    assert math.isinf(access.travel_hours(0, {"u": "W"})["u"])
