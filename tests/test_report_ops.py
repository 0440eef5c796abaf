"""The report's kind of run from the output manifest, and the operations pages (docs/report.md).

The folders are made by the commands themselves on the toy case (tests/data/infra_toy) and a
toy event with roads; the map's frames are checked against the inputs and against the loop's
own counts, never against the page's own reconstruction.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from resiliopt._atomic import MANIFEST, atomic_directory, output_record, read_manifest
from resiliopt.case.infra import KEY
from resiliopt.cli import main
from resiliopt.emergency.replay import replay
from resiliopt.errors import InputError
from resiliopt.reports import html as h
from resiliopt.reports.html import render

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "tests" / "data" / "infra_toy" / "case.yaml"
DAMAGE = [
    ("node", "power", "A"),
    ("link", "water", "ST"),
    ("link", "power", "GC"),
    ("node", "water", "T"),
    ("node", "power", "B"),
]
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
BRIDGE_OPEN = 2  # the toy event's damaged bridge reopens at this period


# ----------------------------------------------------------------------------- folders
def make_restore(root: Path) -> Path:
    """``infra restore`` of the toy case with five damaged elements and one resource unit."""
    dmg = root / "damage-in.csv"
    pd.DataFrame(DAMAGE, columns=KEY).to_csv(dmg, index=False)
    out = root / "restore"
    assert main(["infra", "restore", str(TOY), "--damage-file", str(dmg), "--v", "1", "--out", str(out)]) == 0
    return out


def make_event(root: Path) -> Path:
    """The toy damage at time 0 and a 3 x 3 road grid with one depot and one bridge down
    until period :data:`BRIDGE_OPEN`."""
    d = root / "event"
    d.mkdir()
    rows = [(0, *k, "down") for k in DAMAGE]
    pd.DataFrame(rows, columns=["time", *KEY, "status"]).to_csv(d / "observations.csv", index=False)
    xs, ys = [-0.5, 1.5, 3.5], [-1.5, 0.5, 2.5]
    nodes = [{"id": f"r{i}{j}", "x": x, "y": y} for i, y in enumerate(ys) for j, x in enumerate(xs)]
    links = []
    for i in range(3):
        for j in range(3):
            if j < 2:
                links.append(
                    {"id": f"h{i}{j}", "from": f"r{i}{j}", "to": f"r{i}{j + 1}", "bridge": (i, j) == (1, 0)}
                )
            if i < 2:
                links.append({"id": f"v{i}{j}", "from": f"r{i}{j}", "to": f"r{i + 1}{j}"})
    roads = {
        "speed_kmh": 40,
        "depots": ["r00"],
        "nodes": nodes,
        "links": links,
        "damaged_bridges": [{"link": "h10", "repaired_period": BRIDGE_OPEN}],
    }
    spec = {
        "kind": "emergency_event",
        "synthetic": True,
        "observations": "observations.csv",
        "roads": roads,
        "emergency": LEVELS,
    }
    (d / "event.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return d


def make_replay(root: Path) -> Path:
    out = root / "replay"
    replay(TOY, make_event(root), ["closed", "population"], seeds=1, seed=0, out=out)
    return out


def make_simulate(root: Path) -> Path:
    out = root / "isim"
    args = ["--simulations", "2", "--workers", "1", "--no-progress", "--out", str(out)]
    assert main(["infra", "simulate", "shelby-indp", *args]) == 0
    return out


def make_evaluation(root: Path) -> Path:
    """An ``emergency evaluate`` folder from its tables (the columns the command writes)."""
    out = root / "evaluation"
    comparison = pd.DataFrame(
        [
            {"policy": p, "layer": "all", "n_events": 20, "mean": m, "sd": 0.3, "diff_vs_closed": d,
             "ci_low": lo, "ci_high": hi, "win_rate": w, "tie_rate": 0.1, "loss_rate": 0.9 - w,
             "bootstrap": 2000, "confidence": 0.95}
            for p, m, d, lo, hi, w in (
                ("closed", 2.0, 0.0, 0.0, 0.0, 0.0),
                ("open", 2.1, 0.1, -0.05, 0.25, 0.3),
                ("population", 2.6, 0.6, 0.4, 0.8, 0.05),
            )
        ]
    )  # fmt: skip
    events = pd.DataFrame({"event": range(20), "source": "drawn", "magnitude": 6.5, "n_damaged": 7})
    runs = pd.DataFrame(
        [
            {"event": e, "policy": p, "layer": "all", "unserved_area": 2.0}
            for e in range(20)
            for p in ("closed", "open")
        ]
    )
    with atomic_directory(out, "emergency evaluate") as tmp:
        comparison.to_csv(tmp / "comparison.csv", index=False)
        events.to_csv(tmp / "events.csv", index=False)
        runs.to_csv(tmp / "runs.csv", index=False)
        (tmp / "run.json").write_text(json.dumps({"case": "toy", "events": 20, "seed": 3}))
    return out


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("ops")
    return {
        "infra-restore": make_restore(root),
        "emergency-replay": make_replay(root),
        "infra-simulate": make_simulate(root),
        "emergency-evaluate": make_evaluation(root),
    }


def ops_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="ops-data">(.*?)</script>', html, re.S)
    assert m, "the page holds no map data"
    return json.loads(m.group(1))


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html).group(1)


# ----------------------------------------------------------------------------- kinds
@pytest.mark.parametrize(
    "kind, title",
    [
        ("infra-restore", "Restoration plan: toy, file damage-in.csv (iterative)"),
        ("infra-simulate", "Restoration Monte Carlo: shelby-indp, M 6"),
        ("emergency-replay", "Event replay: toy, event"),
        ("emergency-evaluate", "Policy evaluation: toy, 20 events"),
    ],
)
def test_each_kind_gets_its_page(folders, kind, title, run_cli):
    d = folders[kind]
    assert read_manifest(d)["kind"] == kind
    code, _, err = run_cli("report", d)
    assert code == 0, err
    page = (d / "report.html").read_text()
    assert _title(page).startswith(title.split(",")[0]) and title in page
    assert f"resiliopt report ({kind})" in page
    assert "<td>None</td>" not in page
    # the page loads nothing from outside
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert read_manifest(d)["files"]["report.html"]  # recorded; the kind kept
    assert read_manifest(d)["kind"] == kind


def test_the_files_do_not_decide_the_kind(folders):
    """The old guess: plan.json meant retrofit, run.json + summary.json a logistics Monte Carlo."""
    assert "Retrofit" not in _title(render(folders["infra-restore"]))
    page = render(folders["infra-simulate"])
    assert _title(page).startswith("Restoration Monte Carlo") and "F_C" not in page


@pytest.mark.parametrize(
    "kind, old, new",
    [
        ("infra-restore", "plan.json", "result.json"),  # looks like an audit now
        ("emergency-replay", "summary.csv", "comparison.csv"),  # looks like a compare
        ("infra-simulate", "records.parquet", "scenarios.parquet"),  # looks like a simulate
    ],
)
def test_a_folder_with_renamed_files_is_refused_not_taken_for_another(
    folders, tmp_path, kind, old, new, run_cli
):
    d = tmp_path / "copy"
    shutil.copytree(folders[kind], d)
    (d / "report.html").unlink(missing_ok=True)
    (d / old).rename(d / new)
    code, _, err = run_cli("report", d)
    assert code == 2 and "Traceback" not in err
    assert str(d) in err and f"kind {kind}" in err and old in err and "missing" in err
    assert not (d / "report.html").exists()


def test_a_folder_without_a_page_is_refused(tmp_path, run_cli):
    out = tmp_path / "served"
    assert main(["infra", "served", str(TOY), "--out", str(out)]) == 0
    code, _, err = run_cli("report", out)
    assert code == 2 and str(out) in err and "kind infra-served" in err and "no page" in err
    assert "`resiliopt infra served`" in err and not (out / "report.html").exists()
    # no manifest: nothing is guessed from the file names
    bare = tmp_path / "bare"
    shutil.copytree(out, bare)
    (bare / MANIFEST).unlink()
    (bare / "plan.json").write_text("{}")
    code, _, err = run_cli("report", bare)
    assert code == 2 and str(bare) in err and "no output manifest" in err


def test_an_old_manifest_that_names_the_command_still_works(folders, tmp_path):
    d = tmp_path / "old"
    shutil.copytree(folders["infra-restore"], d)
    man = json.loads((d / MANIFEST).read_text())
    del man["kind"], man["inputs"]
    (d / MANIFEST).write_text(json.dumps(man))
    assert output_record(d)["kind"] == "infra-restore"
    page = render(d)
    assert _title(page).startswith("Restoration plan")
    # the case is found by name only when bundled: "toy" is not, and the page says why
    assert "No map: the case cannot be read" in page
    man["command"] = "infra cascade"
    (d / MANIFEST).write_text(json.dumps(man))
    with pytest.raises(InputError, match="kind infra-cascade"):
        render(d)


def test_sub_folders_take_their_kind_from_the_parent_output(tmp_path, run_cli):
    out = tmp_path / "cmp"
    code, _, err = run_cli(
        "compare", "beijing", "--variants", "none,bridges", "--scenarios", 2, "--days", 20,
        "--workers", 1, "--out", out, "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    man = read_manifest(out)
    assert man["kind"] == "compare" and man["parts"] == {"bridges": "simulate", "none": "simulate"}
    assert h.run_kind(out / "bridges")[0] == "simulate"
    del man["parts"]  # a manifest from before parts: the variants are still compare's
    (out / MANIFEST).write_text(json.dumps(man))
    assert h.run_kind(out / "bridges")[0] == "simulate"
    page = render(out / "bridges")
    assert "variant bridges" in page
    # the demo's wording: no raw None for a recovery the run does not reach
    row = re.search(r"<td>median days to full recovery</td>\s*<td>(.*?)</td>", page).group(1)
    assert row != "None" and ("within the 20 days simulated" in row or row.replace(".", "").isdigit())
    (out / "notes").mkdir()
    (out / "notes" / "run.json").write_text("{}")
    code, _, err = run_cli("report", out / "notes")
    assert code == 2 and "sub-folder" in err and "`resiliopt compare`" in err


def test_full_recovery_says_what_none_means(tmp_path):
    text = h._full_recovery(None, tmp_path / "none.parquet", "within the 40 days simulated")
    assert text.startswith("not reached within the 40 days simulated in any scenario")
    sc = tmp_path / "sc.parquet"
    pd.DataFrame({"days_to_full": [10.0, None, 30.0, None]}).to_parquet(sc)
    assert h._full_recovery(20.0, sc, "within the 40 days simulated") == (
        "20 (median over the 50% of scenarios that recover fully within the 40 days simulated)"
    )


def test_the_manifest_records_kind_parts_and_inputs(tmp_path):
    out = tmp_path / "x"
    with atomic_directory(out, "infra restore", parts={"sub": "simulate"}, inputs={"case": "toy"}) as tmp:
        assert output_record(tmp)["kind"] == "infra-restore"  # while the command writes
        (tmp / "a.csv").write_text("a\n1\n")
    man = read_manifest(out)
    assert (man["kind"], man["parts"], man["inputs"]) == (
        "infra-restore",
        {"sub": "simulate"},
        {"case": "toy"},
    )
    for bad in ({"kind": 3}, {"parts": {"../up": "simulate"}}, {"inputs": {"case": 1}}):
        (out / MANIFEST).write_text(json.dumps({**man, **bad}))
        with pytest.raises(InputError, match="not one resiliopt wrote"):
            read_manifest(out)


# ----------------------------------------------------------------------------- the pages' content
def _states(data: dict, run: int = 0) -> list[str]:
    return [f["states"] for f in data["runs"][run]["frames"]]


def _index(case_keys: list, k: tuple) -> int:
    return case_keys.index(tuple(map(str, k)))


def _toy_keys() -> list[tuple]:
    from resiliopt.case.infra import load_infra_case

    c = load_infra_case(TOY)
    return [("node", a, b) for a, b in zip(c.nodes["layer"], c.nodes["node"], strict=True)] + [
        ("link", a, b) for a, b in zip(c.links["layer"], c.links["link"], strict=True)
    ]


def test_restore_map_follows_the_damage_and_the_plan(folders):
    d = folders["infra-restore"]
    data = ops_data(render(d))
    keys = _toy_keys()
    repairs = pd.read_csv(d / "repairs.csv")
    when = {(r.kind, r.layer, r.element): int(r.period) for r in repairs.itertuples()}
    nodes = pd.read_parquet(d / "nodes.parquet")
    down = {(r.layer, r.node, int(r.period)) for r in nodes.itertuples() if not r.works}
    frames = _states(data)
    assert len(frames) == 1 + int(pd.read_csv(d / "served.csv")["period"].max())
    for t, st in enumerate(frames):
        for k in keys:
            code = st[_index(keys, k)]
            if k in DAMAGE:  # the damage given on the command line, not the plan's table
                p = when.get(k)  # one-period repairs (the toy's repair_time): serves from p
                assert code == ("f" if t == 0 or p is None or t < p else "r" if t == p else "w"), (t, k)
            elif k[0] == "node" and t > 0 and (k[1], k[2], t) in down:
                assert code == "d", (t, k)
            else:
                assert code == "w", (t, k)
    assert "d" in "".join(frames)  # the toy's C is cut off by T's failure (a cyber dependency)


def test_restore_map_shows_repairs_that_take_several_periods(tmp_path):
    """td-INDP with the case's repair times: A takes 3 periods (the input), so it is under repair
    from its start p to p + 1 and serves from p + 2."""
    spec = yaml.safe_load(TOY.read_text())
    for n in spec["nodes"]:
        if n["node"] == "A":
            n["repair_time"] = 3
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(spec, sort_keys=False))
    dmg = tmp_path / "dmg.csv"
    pd.DataFrame(DAMAGE[:2], columns=KEY).to_csv(dmg, index=False)
    out = tmp_path / "td"
    args = ["infra", "restore", str(case), "--damage-file", str(dmg), "--method", "td", "--periods", "6"]
    assert main([*args, "--out", str(out)]) == 0
    rep = pd.read_csv(out / "repairs.csv").set_index("element")
    p = int(rep.loc["A", "period"])
    frames = _states(ops_data(render(out)))
    i = _index(_toy_keys(), ("node", "power", "A"))
    assert [f[i] for f in frames] == ["f"] * p + ["u", "u", "r"] + ["w"] * (len(frames) - p - 3)
    assert int(rep.loc["A", "works_from"]) == p + 2


def test_replay_map_matches_the_loops_own_counts(folders):
    """Failed + under repair on the map = the loop's ``damaged``; under repair = ``under_way``."""
    d = folders["emergency-replay"]
    data = ops_data(render(d))
    periods = pd.read_csv(d / "periods.csv")
    assert [r["id"] for r in data["runs"]] == ["closed-0", "population-0"]
    for run in data["runs"]:
        policy = run["id"].rsplit("-", 1)[0]
        per = periods[periods["policy"] == policy].sort_values("period")
        assert len(run["frames"]) == len(per)
        for f, row in zip(run["frames"], per.itertuples(), strict=True):
            assert f["states"].count("f") + f["states"].count("r") == row.damaged, (policy, row.period)
            assert f["states"].count("r") == row.under_way
            assert (f["closed"] == ["h10"]) == (row.period < BRIDGE_OPEN)
        assert sum(len(f["crews"]) for f in run["frames"]) > 0


def test_replay_routes_run_from_the_depot_to_the_site(folders):
    from resiliopt.case.infra import load_infra_case
    from resiliopt.emergency.event import load_event
    from resiliopt.reports.ops_map import NetworkMap

    d = folders["emergency-replay"]
    data = ops_data(render(d))
    ev = load_event(d.parent / "event")
    nmap = NetworkMap(load_infra_case(TOY), ev.roads.roads)
    depot = next(n for n in ev.roads.roads.nodes if n.id == "r00")
    routes = [c for r in data["runs"] for f in r["frames"] for c in f["crews"] if c["route"]]
    assert routes
    for c in routes:
        layer = c["what"].split()[2]
        x, y = nmap.xy(layer, depot.x, depot.y)
        assert c["route"][0] == pytest.approx([x, y], abs=0.06)
        assert c["route"][-1] == pytest.approx([c["x"], c["y"]], abs=0.06)


def test_replay_page_has_levels_served_and_gantt_per_run(folders):
    page = render(folders["emergency-replay"])
    for sid in ("map", "levels", "served", "dispatch"):
        assert f'id="{sid}"' in page
    runs = re.findall(r'<div class="ops-run" data-run="([^"]+)"', page)
    assert sorted(set(runs)) == ["closed-0", "population-0"] and len(runs) == 6  # 3 charts per run
    assert "unserved_share = " in page  # the reason of entering the level
    assert page.count('class="pmark"') == 6


def test_evaluation_page_shows_the_policy_table_with_intervals(folders):
    page = render(folders["emergency-evaluate"])
    assert 'id="policies"' in page and "ci_low" in page and "ci_high" in page
    svg = re.search(r'<svg class="chart"[^>]*aria-label="difference to the closed loop".*?</svg>', page, re.S)
    assert svg and svg.group(0).count('class="est"') == 2  # open and population; not closed itself
    assert "population: 0.6 [0.4, 0.8]" in svg.group(0)


def test_first_damage_is_the_loops_starting_damage(folders):
    from resiliopt.emergency.event import load_event
    from resiliopt.emergency.monitor import damaged_of, observed_states
    from resiliopt.reports.ops_frames import first_damage

    for ev in (
        folders["emergency-replay"].parent / "event",
        ROOT / "data/infra/shelby-extended/events/synthetic-m7",
    ):
        obs = load_event(ev).observations
        want = damaged_of(observed_states(obs)[0][1])
        got = first_damage(obs)
        assert sorted(map(tuple, got.to_numpy())) == sorted(map(tuple, want.to_numpy())) and len(got) > 0


def test_a_real_evaluation_gets_its_page(tmp_path, run_cli):
    out = tmp_path / "ev"
    code, _, err = run_cli(
        "emergency", "evaluate", "shelby-extended", "--events", 2, "--source", "scenarios",
        "--policies", "closed,open", "--workers", 1, "--bootstrap", 200, "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert read_manifest(out)["kind"] == "emergency-evaluate"  # the command's default kind
    code, _, err = run_cli("report", out)
    assert code == 0, err
    page = (out / "report.html").read_text()
    assert _title(page) == "Policy evaluation: shelby-extended, 2 events"
    cmp = pd.read_csv(out / "comparison.csv")
    assert {"ci_low", "ci_high"} <= set(cmp.columns) and "<th>ci_low</th>" in page
    svg = re.search(r'aria-label="difference to the closed loop".*?</svg>', page, re.S).group(0)
    assert svg.count('class="est"') == 1  # open against the closed loop


def test_a_replay_with_more_runs_than_drawn_says_so(folders, monkeypatch):
    from resiliopt.reports import ops

    monkeypatch.setattr(ops, "MAX_RUNS", 1)
    page = render(folders["emergency-replay"])
    assert "show 1 of the 2 runs" in page and [r["id"] for r in ops_data(page)["runs"]] == ["closed-0"]
