"""The library's replay (policies x seeds, tidy tables) and operations, and the thin CLI over them."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest
import yaml

from resiliopt.case.infra import KEY
from resiliopt.cli import main
from resiliopt.emergency.event import event_config, load_event
from resiliopt.emergency.monitor import Monitor
from resiliopt.emergency.operations import monitor_event, respond_event
from resiliopt.emergency.replay import ReplayResult, replay
from resiliopt.emergency.response import POLICIES, Planner, run_loop
from resiliopt.errors import InputError
from resiliopt.infra import load_infra_case

TOY = "tests/data/infra_toy/case.yaml"
EVENT = "data/infra/shelby-extended/events/synthetic-m7"
LEVELS = {
    "min_dwell": 2,
    "levels": [
        {"name": "normal", "response": {"resources_per_period": 1, "horizon": 3}},
        {
            "name": "IV",
            "enter": {"unserved_share": 0.05},
            "leave": {"unserved_share": 0.02},
            "response": {"resources_per_period": 2},
        },
    ],
}
DAMAGE = [("node", "power", "A"), ("link", "water", "ST"), ("link", "power", "GC"), ("node", "water", "T")]


@pytest.fixture(scope="module")
def toy_event(tmp_path_factory) -> Path:
    """An event on the toy case: four elements down at time 0, then one repaired at time 1."""
    d = tmp_path_factory.mktemp("toy_event")
    rows = [(0, *k, "down") for k in DAMAGE] + [(1, *DAMAGE[0], "up")]
    pd.DataFrame(rows, columns=["time", *KEY, "status"]).to_csv(d / "observations.csv", index=False)
    spec = {"kind": "emergency_event", "synthetic": True, "observations": "observations.csv"}
    (d / "event.yaml").write_text(yaml.safe_dump({**spec, "emergency": LEVELS}))
    return d


@pytest.fixture(scope="module")
def replayed(toy_event, tmp_path_factory) -> tuple[ReplayResult, list, Path]:
    calls: list = []
    out = tmp_path_factory.mktemp("replay") / "out"
    res = replay(
        TOY, toy_event, POLICIES, seeds=2, seed=5, out=out, progress=lambda d, t: calls.append((d, t))
    )
    return res, calls, out


def test_replay_tables_are_the_loops_of_every_policy_and_seed(replayed, toy_event):
    """Each (policy, seed) slice of the tidy tables is what run_loop gives on its own."""
    res, _, _ = replayed
    case = load_infra_case(TOY)
    cfg = event_config(case, load_event(toy_event))
    assert res.seeds == [5, 6] and res.policies == list(POLICIES)
    assert list(zip(res.summary["policy"], res.summary["seed"], strict=True)) == [
        (p, s) for s in (5, 6) for p in POLICIES
    ]
    assert {"policy", "seed"} <= set(res.periods.columns) and {"policy", "seed"} <= set(res.dispatch.columns)
    assert sorted(map(tuple, res.damaged.to_numpy())) == sorted(DAMAGE)
    mon, planner = Monitor(case), Planner(case)
    for s in (5, 6):
        for p in POLICIES:
            dmg = pd.DataFrame(DAMAGE, columns=KEY)
            r = run_loop(case, cfg, dmg, p, seed=s, max_periods=40, monitor=mon, planner=planner)
            per, disp = res.run(p, s)
            pd.testing.assert_frame_equal(per, r.periods)
            pd.testing.assert_frame_equal(disp, r.dispatch, check_dtype=False)
            row = res.summary[(res.summary["policy"] == p) & (res.summary["seed"] == s)].iloc[0]
            assert row["unserved_area"] == pytest.approx(r.summary["unserved_area"], abs=1e-12)
            assert row["unserved_area"] == pytest.approx(per["unserved_share"].sum(), abs=1e-12)


def test_replay_progress_and_output_folder(replayed):
    res, calls, out = replayed
    n = len(POLICIES) * 2
    assert calls == [(i, n) for i in range(n + 1)]
    for f in ("summary.csv", "periods.csv", "dispatch.csv", "levels.png", "served.svg", "gantt.png"):
        assert (out / f).is_file(), f
    back = pd.read_csv(out / "summary.csv")
    assert back["unserved_area"].tolist() == pytest.approx(res.summary["unserved_area"].tolist(), abs=1e-12)
    assert len(pd.read_csv(out / "periods.csv")) == len(res.periods)
    js = res.as_dict()
    assert js["damaged"] == len(DAMAGE) and len(js["summary"]) == n


def test_replay_refuses_bad_policies_and_seeds(toy_event):
    with pytest.raises(InputError, match="best"):
        replay(TOY, toy_event, "closed,best")
    with pytest.raises(InputError, match="seed"):
        replay(TOY, toy_event, "population", seeds=0)


def test_monitor_and_respond_operations(toy_event, tmp_path):
    calls: list = []
    mon = monitor_event(TOY, toy_event, out=tmp_path / "m", progress=lambda d, t: calls.append((d, t)))
    assert mon.periods["period"].tolist() == [0.0, 1.0] and calls == [(0, 2), (1, 2), (2, 2)]
    # A repaired at time 1: less unserved than at time 0, never more
    assert mon.periods["unserved_share"].iloc[1] < mon.periods["unserved_share"].iloc[0]
    assert (tmp_path / "m" / "periods.csv").is_file()
    r = respond_event(TOY, toy_event, time=1.0)
    assert r.ok and r.time == 1.0
    # the plan repairs only what is damaged at time 1 (A is up again), on the event's clock,
    # within the level's resources per period
    planned = set(map(tuple, r.repairs[KEY].to_numpy()))
    assert planned and planned <= set(DAMAGE[1:])
    assert r.repairs["period"].min() >= 1
    assert r.repairs.groupby("period").size().max() <= r.resources_per_period
    with pytest.raises(InputError, match="no observation at time 7"):
        respond_event(TOY, toy_event, time=7.0)


@pytest.mark.parametrize(
    "args, expect",
    [
        (["replay", "--seeds", "0"], "out of range"),
        (["replay", "--dispersion", "nan"], "'nan' is not a log standard deviation"),
        (["replay", "--max-periods", "2.5"], "'2.5' is not a whole number of periods"),
        (["replay", "--policies", "closed,closed"], "more than once"),
        (["replay", "--policies", "closed,best"], "unknown policy 'best'"),
        (["diagnose", "--time", "-1"], "out of range"),
        (["diagnose", "--top", "0"], "out of range"),
        (["respond", "--solver", "cplex"], "'cplex' is not a solver"),
        (["learn", "--prior-strength", "0"], "out of range"),
        (["learn", "--prior-dispersion", "inf"], "'inf' is not a log standard deviation"),
    ],
)
def test_bad_options_refused_before_any_work(capsys, args, expect):
    cmd, *opts = args
    assert main(["emergency", cmd, "shelby-extended", EVENT, *opts]) == 2
    err = capsys.readouterr().err
    assert expect in err and "Traceback" not in err


def test_cli_imports_no_other_command_module():
    """The CLI module imports the library and only the shared option/output helpers of the CLI."""
    src = Path(__file__).resolve().parents[1] / "resiliopt" / "cli" / "emergency.py"
    allowed = {"resiliopt.cli._options", "resiliopt.cli._emergency_options", "resiliopt.cli._output"}
    found = set()
    for node in ast.walk(ast.parse(src.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("resiliopt.cli"):
            found |= {node.module} if node.module != "resiliopt.cli" else set()
            if node.module == "resiliopt.cli":
                found |= {f"resiliopt.cli.{a.name}" for a in node.names if a.name != "app"}
    assert found <= allowed, found - allowed
