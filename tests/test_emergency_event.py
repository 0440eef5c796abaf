"""The event file: mobile backup units (checked, used by monitor, respond and replay), roads,
and the messages that name the event file, the observations file and its rows."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from resiliopt.emergency.event import check_backup_plan, load_event
from resiliopt.emergency.monitor import place_backups
from resiliopt.emergency.operations import monitor_event, respond_event
from resiliopt.emergency.replay import replay
from resiliopt.errors import InputError
from resiliopt.formulations.indp import BackupUnit, INDPOptions
from resiliopt.infra import load_infra_case

TOY = Path(__file__).parent / "data" / "infra_toy" / "case.yaml"
DAMAGE = [("node", "power", "A"), ("link", "water", "ST"), ("link", "power", "GC"), ("node", "water", "T")]
LEVELS = {
    "min_dwell": 2,
    "levels": [
        {"name": "normal", "response": {"resources_per_period": 1, "horizon": 3}},
        {
            "name": "IV",
            "enter": {"unserved_share": 0.05, "unserved_share.water": 0.5},
            "leave": {"unserved_share": 0.02},
            "response": {"resources_per_period": 2},
        },
    ],
}
#: the toy event: four elements down at time 0, A up at time 1; a road layer (lon/lat near the
#: toy case's coordinates) with a bridge closed until period 1; a power unit from the start and
#: a water unit from period 1, at U only
EVENT = {
    "kind": "emergency_event",
    "synthetic": True,
    "observations": "observations.csv",
    "period_hours": 24,
    "roads": {
        "speed_kmh": 40,
        "depots": ["d0"],
        "nodes": [
            {"id": "d0", "x": 0.0, "y": 0.0},
            {"id": "r1", "x": 2.0, "y": 1.0},
            {"id": "r2", "x": 2.0, "y": -1.0},
        ],
        "links": [
            {"id": "a", "from": "d0", "to": "r1"},
            {"id": "b", "from": "d0", "to": "r2", "bridge": True},
        ],
        "damaged_bridges": [{"link": "b", "repaired_period": 1}],
    },
    "backups": [
        {"layer": "power", "count": 1, "capacity": 3, "cost": 1},
        {"layer": "water", "count": 1, "capacity": 2, "from_period": 1, "nodes": ["U"]},
    ],
    "emergency": LEVELS,
}
OBSERVATIONS = "time,kind,layer,element,status\n" + "".join(f"0,{k},{la},{el},down\n" for k, la, el in DAMAGE)
OBSERVATIONS += "1,node,power,A,up\n"


def write_event(d: Path, event: dict | None = None, observations: str = OBSERVATIONS) -> Path:
    """The toy event (or ``event``) in folder ``d``: event.yaml and observations.csv."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "event.yaml").write_text(yaml.safe_dump(EVENT if event is None else event, sort_keys=False))
    (d / "observations.csv").write_text(observations)
    return d


def edited(**changes) -> dict:
    ev = copy.deepcopy(EVENT)
    ev.update(changes)
    return ev


@pytest.fixture(scope="module")
def toy_case():
    return load_infra_case(TOY)


@pytest.fixture(scope="module")
def event_dir(tmp_path_factory) -> Path:
    return write_event(tmp_path_factory.mktemp("toy_event"))


# --------------------------------------------------------------------------- the rule
def test_place_backups_by_hand():
    nodes = pd.DataFrame(
        {
            "layer": ["p", "p", "p", "w"],
            "element": ["a", "b", "c", "u"],
            "demand": [-4.0, -5.0, -1.0, -3.0],
            "unserved": [4.0, 5.0, 0.5, 3.0],
        }
    )
    tier = pd.Series({("p", "a"): 1, ("p", "b"): 3, ("p", "c"): 3, ("w", "u"): 3})
    units = [BackupUnit("p", 2, 3.0), BackupUnit("p", 1, 10.0, nodes=("c",)), BackupUnit("w", 1, 5.0)]
    got = place_backups(nodes, units, tier)
    # entry 0: tier-1 a first (3 of 4), then b, the larger shortfall (3 of 5); entry 1 only at c
    assert got.values.tolist() == [
        ["p", "a", 0, 3.0],
        ["p", "b", 0, 3.0],
        ["p", "c", 1, 0.5],
        ["w", "u", 2, 3.0],
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 20, allow_nan=False), min_size=1, max_size=6),
    st.integers(0, 4),
    st.floats(0.1, 10, allow_nan=False),
)
def test_one_entry_placement_is_the_largest_supply(unserved, count, capacity):
    """Equal tiers, one entry: the rule's supply equals the best over every choice of nodes."""
    n = len(unserved)
    nodes = pd.DataFrame(
        {
            "layer": "p",
            "element": [str(i) for i in range(n)],
            "demand": [-(u + 1) for u in unserved],
            "unserved": unserved,
        }
    )
    tier = pd.Series({("p", str(i)): 3 for i in range(n)})
    got = place_backups(nodes, [BackupUnit("p", count, capacity)], tier)["supply"].sum()
    best = max(
        (
            sum(min(capacity, unserved[i]) for i in pick)
            for r in range(min(count, n) + 1)
            for pick in itertools.combinations(range(n), r)
        ),
        default=0.0,
    )
    assert got == pytest.approx(best, abs=1e-9)


# --------------------------------------------------------------------------- the commands
def test_backups_at_hand_by_period(event_dir):
    ev = load_event(event_dir)
    assert [u.layer for u in ev.backup_units(0)] == ["power"]
    assert [(u.layer, u.nodes) for u in ev.backup_units(1)] == [("power", None), ("water", ("U",))]


def test_monitor_counts_backup_supply(event_dir, tmp_path):
    base = monitor_event(TOY, write_event(tmp_path / "none", edited(backups=[]))).periods
    got = monitor_event(TOY, event_dir).periods
    # time 0: power loses everything (A and GC down); the unit supplies 3 of the 9 the intact network serves
    assert base.loc[0, "unserved_share.power"] == pytest.approx(1.0)
    assert got.loc[0, "unserved_share.power"] == pytest.approx(1 - 3 / 9)
    assert got.loc[0, "backup_supply"] == pytest.approx(3.0)
    # time 1: the water unit is at hand too (at U only)
    assert got.loc[1, "backup_supply"] > got.loc[0, "backup_supply"]
    assert (got["unserved_share"] <= base["unserved_share"] + 1e-12).all()
    assert "backup_supply" not in base


def test_respond_places_backups_as_the_event_allows(event_dir, tmp_path):
    r0 = respond_event(TOY, event_dir, time=0.0, out=tmp_path / "r0")
    assert r0.ok and bool(r0.check.checks["check"].str.contains("backup units").any())
    assert len(r0.backups) and set(r0.backups["layer"]) == {"power"}  # the water unit comes at time 1
    assert (r0.backups["supply"] <= 3 + 1e-9).all()
    assert (tmp_path / "r0" / "backups.csv").is_file()
    r1 = respond_event(TOY, event_dir, time=1.0)
    water = r1.backups[r1.backups["layer"] == "water"]
    assert set(water["node"]) <= {"U"}
    # without units the plan costs no less (a unit may always stay unused)
    none = respond_event(TOY, write_event(tmp_path / "none", edited(backups=[])), time=0.0)
    assert r0.plan.objective <= none.plan.objective + 1e-6
    assert json.dumps(r0.as_dict())  # strict JSON


def test_backup_plan_check_catches_a_tampered_plan(event_dir, toy_case):
    ev = load_event(event_dir)
    r = respond_event(TOY, event_dir, time=0.0)
    nodes = r.plan.nodes
    assert check_backup_plan(nodes, ev.spec, 0.0, toy_case)[0]
    for layer, node, supply in [("water", "U", 1.0), ("power", "C", 9.0), ("power", "G", 1.0)]:
        bad = nodes.copy()
        k = bad.index[(bad["layer"] == layer) & (bad["node"] == node) & (bad["period"] == 1)][0]
        bad.loc[k, "backup"] = supply  # a unit not at hand / above capacity and demand / at a supply node
        ok, detail = check_backup_plan(bad, ev.spec, 0.0, toy_case)
        assert not ok and node in detail, (layer, node, detail)


def test_replay_with_backups_loses_less(event_dir, tmp_path):
    """The population rule does not plan, so its repairs are the same with and without units:
    the units' supply can only lower the unserved area (strictly here: power is short)."""
    with_units = replay(TOY, event_dir, "population,closed", seeds=1, seed=3)
    without = replay(TOY, write_event(tmp_path / "none", edited(backups=[])), "population", seeds=1, seed=3)
    a = with_units.summary.set_index("policy").loc["population", "unserved_area"]
    b = without.summary.set_index("policy").loc["population", "unserved_area"]
    assert a < b - 1e-6
    per = with_units.periods
    assert (per["backup_supply"] > 0).any() and "backup_supply" not in without.periods


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    "backup, where, needle",
    [
        ({"layer": "sewer", "count": 1, "capacity": 1}, "backups[0].layer", "no layer 'sewer'"),
        ({"layer": "power", "count": -1, "capacity": 1}, "backups[0].count", "(got -1)"),
        ({"layer": "power", "count": 2.5, "capacity": 1}, "backups[0].count", "(got 2.5)"),
        ({"layer": "power", "count": "3", "capacity": 1}, "backups[0].count", "(got '3')"),
        ({"layer": "power", "count": 1, "capacity": float("nan")}, "backups[0].capacity", "finite"),
        ({"layer": "power", "count": 1, "capacity": 1e13}, "backups[0].capacity", "1e+12"),
        ({"layer": "power", "count": 1, "capacity": -2}, "backups[0].capacity", "(got -2"),
        (
            {"layer": "power", "count": 1, "capacity": 1, "from_period": -1},
            "backups[0].from_period",
            "(got -1",
        ),
        (
            {"layer": "power", "count": 1, "capacity": 1, "nodes": ["Z"]},
            "backups[0].nodes[0]",
            "'Z' is not a node",
        ),
        ({"layer": "power", "count": 1, "capacity": 1, "nodes": ["G"]}, "backups[0].nodes[0]", "no demand"),
        (
            {"layer": "power", "count": 1, "capacity": 1, "nodes": ["B", "B"]},
            "backups[0].nodes[1]",
            "repeats",
        ),
        ({"layer": "power", "count": 1, "capacity": 1, "where": "B"}, "backups[0].where", "unknown field"),
    ],
)
def test_bad_backup_refused(run_cli, tmp_path, backup, where, needle):
    d = write_event(tmp_path / "ev", edited(backups=[backup]))
    for cmd in ("monitor", "respond", "replay"):
        code, _, err = run_cli("emergency", cmd, TOY, d)
        first = err.strip().splitlines()[0]
        assert code == 2 and "Traceback" not in err, err
        assert first.startswith(f"error: {d / 'event.yaml'}: {where}: ") and needle in first, first


@pytest.mark.parametrize(
    "edit, where",
    [
        (lambda e: e["roads"]["nodes"][1].update(x=1e308), "roads.nodes[1].x"),
        (lambda e: e["roads"]["nodes"][1].update(y=-91.0), "roads.nodes[1].y"),
        (lambda e: e["roads"]["nodes"][1].update(x="2"), "roads.nodes[1].x"),
        (lambda e: e["roads"]["links"][0].update(length_km=float("inf")), "roads.links[0].length_km"),
        (lambda e: e["roads"]["damaged_bridges"][0].update(repaired_period=1e13), "repaired_period"),
        (lambda e: e["roads"]["links"][0].update(to="d0"), "roads.links[0].to"),
        (lambda e: e.update(period_hours="24"), "period_hours"),
        (lambda e: e.update(observations="../observations.csv"), "observations"),
    ],
)
def test_bad_event_field_refused(run_cli, tmp_path, edit, where):
    ev = copy.deepcopy(EVENT)
    edit(ev)
    d = write_event(tmp_path / "ev", ev)
    code, _, err = run_cli("emergency", "monitor", TOY, d)
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"error: {d / 'event.yaml'}: ") and where in err.splitlines()[0], err


def test_unknown_elements_named_in_the_observations_file(run_cli, tmp_path):
    obs = OBSERVATIONS + "2,node,power,Z,down\n3,link,sewer,x,up\n"
    d = write_event(tmp_path / "ev", observations=obs)
    code, _, err = run_cli("emergency", "monitor", TOY, d)
    lines = err.strip().splitlines()
    assert code == 2 and "Traceback" not in err
    assert lines[0] == (
        f"error: {d / 'observations.csv'}: row 6 (line 7), column 'element': power node 'Z' is not an"
        " element of the case [2 errors in this file]"
    )
    assert lines[1].startswith("  row 7 (line 8), column 'layer': the case has no layer 'sewer'")


def test_observation_rows_named_in_file_order(tmp_path):
    """Rows are named as written even though the table is sorted by time."""
    obs = "time,kind,layer,element,status\n3,node,power,A,up\n0,node,power,B,down\n0,node,power,Q,down\n"
    d = write_event(tmp_path / "ev", observations=obs)
    with pytest.raises(InputError) as exc:
        load_event(d, load_infra_case(TOY))
    assert exc.value.location == "row 3 (line 4), column 'element'" and "'Q'" in exc.value.message


def test_backup_and_observation_errors_together(tmp_path):
    d = write_event(
        tmp_path / "ev",
        edited(backups=[{"layer": "gas", "count": 1, "capacity": 1}]),
        OBSERVATIONS + "2,node,power,Z,down\n",
    )
    with pytest.raises(InputError) as exc:
        load_event(d, load_infra_case(TOY))
    text = str(exc.value)
    assert text.startswith(f"{d / 'event.yaml'}: backups[0].layer: the case has no layer 'gas'")
    assert "\n  observations.csv row 6 (line 7), column 'element': " in text


def test_plan_check_reads_the_units_nodes(event_dir, toy_case):
    """The independent plan check refuses a unit moved to a node its entry does not list."""
    from resiliopt.infra.plan_check import CHECKS, check_plan
    from resiliopt.infra.restoration import Restorer

    ev = load_event(event_dir)
    units = ev.backup_units(1)  # the water unit may serve U only
    opts = INDPOptions(dependency_rule="all", backups=units)
    dmg = pd.DataFrame([DAMAGE[1], DAMAGE[3]], columns=["kind", "layer", "element"])
    plan = Restorer(toy_case, 2, opts).td(dmg)
    water = plan.backups[plan.backups["layer"] == "water"]
    assert len(water) and set(water["node"]) == {"U"}
    ok = check_plan(toy_case, plan, opts, damage=dmg)
    assert ok.checks.set_index("check").loc[CHECKS["backups"], "ok"], ok.checks
    bad = plan.backups.copy()
    bad.loc[water.index[0], "node"] = "T"
    tampered = dataclasses.replace(plan, backups=bad)
    chk = check_plan(toy_case, tampered, opts, damage=dmg)
    row = chk.checks.set_index("check").loc[CHECKS["backups"]]
    assert not row["ok"] and "not one of its nodes" in row["detail"]


@pytest.mark.parametrize("x, why", [(500.0, "not a longitude and latitude"), (None, "has no coordinates")])
def test_roads_need_lon_lat_sites(run_cli, tmp_path, x, why):
    """Crews are routed to a site's nearest road node by great-circle distance: a case node off
    the globe or without coordinates is refused when the event has roads, accepted without."""
    raw = yaml.safe_load(TOY.read_text())
    node = next(n for n in raw["nodes"] if n["node"] == "B")
    if x is None:
        del node["x"], node["y"]
    else:
        node["x"] = x
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    d = write_event(tmp_path / "ev")
    code, _, err = run_cli("emergency", "replay", tmp_path / "case.yaml", d, "--policies", "population")
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"error: {d / 'event.yaml'}: roads: power node 'B' of the case ") and why in err
    no_roads = write_event(tmp_path / "ev2", {k: v for k, v in EVENT.items() if k != "roads"})
    assert run_cli("emergency", "monitor", tmp_path / "case.yaml", no_roads)[0] == 0
