"""Importers of water (EPANET) and power (MATPOWER, pandapower JSON) networks, the coupling, and
the bundled pair net3-activsg200 (docs/import.md).

The tiny networks under tests/data/import/ are built so that every count and capacity is known
by hand: see the expected values below.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from resiliopt.cli import main
from resiliopt.infra import load_infra_case

D = Path(__file__).parent / "data" / "import"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    c = load_infra_case(folder)
    return c.nodes.set_index("node"), c.links.set_index("link")


# --------------------------------------------------------------------------- water
def test_water_counts_capacities_and_rules(tmp_path, capsys):
    rc, _, err = run(["infra", "import", "water", str(D / "tiny.inp"), "--out", str(tmp_path / "w")], capsys)
    assert rc == 0, err
    nodes, links = tables(tmp_path / "w")
    assert sorted(nodes.index) == ["J1", "J2", "J3", "R", "T1", "pump_PU1"]
    assert sorted(links.index) == ["P1", "P2", "P4", "PU1", "PU1_out"]  # P3 (closed) dropped
    # demand: J1 10 L/s x mean of its pattern (1, 2) = 15; J2 5 (no pattern)
    assert nodes.loc["J1", "demand"] == pytest.approx(-15.0)
    assert nodes.loc["J2", "demand"] == pytest.approx(-5.0)
    assert nodes.loc["R", "demand"] == pytest.approx(20.0)  # reservoir: the total demand
    # tank: pi 5^2 m2 x (5 - 1) m over 24 h, in L/s
    assert nodes.loc["T1", "demand"] == pytest.approx(math.pi * 25 * 4 / 86400 * 1000, abs=1e-4)
    # pipe capacity pi/4 D^2 x 3 m/s, L/s
    for pid, dia in (("P1", 0.2), ("P2", 0.15), ("P4", 0.3)):
        assert links.loc[pid, "capacity"] == pytest.approx(math.pi / 4 * dia**2 * 3.0 * 1000, abs=1e-4)
    # check valve: one way, from its start node
    assert not links.loc["P2", "two_way"] and (links.loc["P2", "from"], links.loc["P2", "to"]) == ("J1", "J2")
    assert links.loc["P1", "two_way"]
    # pump: single-point curve (20 L/s, 30 m) -> h = 40 - 0.025 q^2 -> 40 L/s at zero head
    assert links.loc["PU1", "capacity"] == pytest.approx(40.0, abs=1e-3)
    assert (links.loc["PU1", "to"], links.loc["PU1_out", "from"]) == ("pump_PU1", "pump_PU1")
    assert not links.loc["PU1", "two_way"] and nodes.loc["pump_PU1", "node_type"] == "pump"
    md = (tmp_path / "w" / "import.md").read_text()
    assert "| pipe P3 | closed at the start and no control opens it |" in md
    assert "| maximum velocity v_max | 3 m/s |" in md


def test_water_options_change_the_numbers(tmp_path, capsys):
    args = ["infra", "import", "water", str(D / "tiny.inp"), "--out", str(tmp_path / "w")]
    rc, _, err = run([*args, "--max-velocity", "1.5", "--pattern", "peak", "--reservoir-supply", "7"], capsys)
    assert rc == 0, err
    nodes, links = tables(tmp_path / "w")
    assert nodes.loc["J1", "demand"] == pytest.approx(-20.0)  # peak multiplier 2
    assert nodes.loc["R", "demand"] == pytest.approx(7.0)
    assert links.loc["P1", "capacity"] == pytest.approx(math.pi / 4 * 0.04 * 1.5 * 1000, abs=1e-4)


def test_closed_pipe_a_control_opens(tmp_path, capsys):
    inp = tmp_path / "ctl.inp"
    inp.write_text(
        (D / "tiny.inp").read_text().replace("[END]", "[CONTROLS]\n LINK P3 OPEN AT TIME 2\n\n[END]")
    )
    assert run(["infra", "import", "water", str(inp), "--out", str(tmp_path / "a")], capsys)[0] == 0
    assert "P3" not in tables(tmp_path / "a")[1].index
    assert (
        "| pipe P3 | closed at the start (a control may open it" in (tmp_path / "a" / "import.md").read_text()
    )
    args = ["infra", "import", "water", str(inp), "--out", str(tmp_path / "b"), "--keep-controlled"]
    assert run(args, capsys)[0] == 0
    assert tables(tmp_path / "b")[1].loc["P3", "two_way"]


# --------------------------------------------------------------------------- power
def test_matpower_counts_zero_rating_and_out_of_service(tmp_path, capsys):
    rc, _, err = run(["infra", "import", "power", str(D / "tiny.m"), "--out", str(tmp_path / "p")], capsys)
    assert rc == 0, err
    nodes, links = tables(tmp_path / "p")
    assert sorted(nodes.index) == ["1", "2", "3", "G1"]  # bus 4 isolated, G2 out of service
    assert sorted(links.index) == ["1", "2", "G1"]  # branch 3 out of service, 4 at the isolated bus
    assert nodes.loc["G1", "demand"] == 100 and nodes.loc["2", "demand"] == -50
    assert links.loc["1", "capacity"] == 80
    assert links.loc["2", "capacity"] == 100  # rateA 0 -> total in-service Pmax
    side = pd.read_csv(tmp_path / "p" / "power_branches.csv", dtype={"link": str}).set_index("link")
    assert side.loc["2", "x_pu"] == pytest.approx(0.2)
    md = (tmp_path / "p" / "import.md").read_text()
    for row in (
        "| bus 4 (mpc.bus line 12) | isolated (BUS_TYPE 4) |",
        "| generator G2 at bus 2 (mpc.gen line 19) |",
        "| line 3 1-3 (mpc.branch line 27) | out of service |",
        "| line 4 3-4 (mpc.branch line 28) |",
    ):
        assert row in md
    rc, _, err = run(["infra", "import", "power", str(D / "tiny.m"), "--out", str(tmp_path / "q"),
                      "--zero-rating", "55"], capsys)  # fmt: skip
    assert rc == 0, err
    assert tables(tmp_path / "q")[1].loc["2", "capacity"] == 55
    assert "| zero rating | 55 MW |" in (tmp_path / "q" / "import.md").read_text()


def test_pandapower_json_without_pandapower(tmp_path, capsys):
    rc, _, err = run(
        ["infra", "import", "power", str(D / "tiny_pp.json"), "--out", str(tmp_path / "p")], capsys
    )
    assert rc == 0, err
    nodes, links = tables(tmp_path / "p")
    assert sorted(nodes.index) == ["0", "1", "2", "EG0"]  # bus 3 out of service
    assert nodes.loc["2", "demand"] == pytest.approx(-6.0)  # 12 MW x scaling 0.5
    assert nodes.loc["EG0", "demand"] == pytest.approx(6.0)  # ext_grid without max_p_mw: the load
    assert sorted(links.index) == ["EG0", "L0", "T0"]  # line 1 out of service
    assert links.loc["L0", "capacity"] == pytest.approx(math.sqrt(3) * 110 * 0.5, abs=1e-5)
    assert links.loc["T0", "capacity"] == 40
    side = pd.read_csv(tmp_path / "p" / "power_branches.csv").set_index("link")
    assert side.loc["L0", "x_pu"] == pytest.approx(0.4 * 10 / (110**2 / 100), rel=1e-6)
    assert side.loc["T0", "x_pu"] == pytest.approx(math.sqrt(10**2 - 6**2) / 100 * 100 / 40)
    md = (tmp_path / "p" / "import.md").read_text()
    assert "| line L1 0-1 (line[1]) | out of service |" in md and "table storage (1 rows)" in md
    assert "pandapower" not in __import__("sys").modules


# --------------------------------------------------------------------------- coupling
def _pair(tmp_path, capsys) -> tuple[Path, Path]:
    w, p = tmp_path / "w", tmp_path / "p"
    assert run(["infra", "import", "water", str(D / "tiny.inp"), "--out", str(w)], capsys)[0] == 0
    assert run(["infra", "import", "power", str(D / "tiny.m"), "--out", str(p)], capsys)[0] == 0
    return w, p


def test_couple_linking_table_and_nearest(tmp_path, capsys):
    w, p = _pair(tmp_path, capsys)
    rc, _, err = run(["infra", "import", "couple", str(w), str(p), "--out", str(tmp_path / "c"),
                      "--table", str(D / "links_ok.csv")], capsys)  # fmt: skip
    assert rc == 0, err
    dep = load_infra_case(tmp_path / "c").dependencies
    # the pump named by its EPANET link id PU1 is read as its pump node
    assert list(zip(dep["dependee"], dep["depender"], strict=True)) == [("2", "pump_PU1"), ("3", "J2")]
    # nearest: the tiny grid has no coordinates -> refused, then with a layout
    rc, _, err = run(["infra", "import", "couple", str(w), str(p), "--out", str(tmp_path / "n"),
                      "--nearest", "power:bus,water:pump"], capsys)  # fmt: skip
    assert rc == 2 and "has no coordinates" in err
    p2 = tmp_path / "p2"
    assert run(["infra", "import", "power", str(D / "tiny.m"), "--out", str(p2), "--layout", "kamada-kawai"],
               capsys)[0] == 0  # fmt: skip
    rc, _, err = run(["infra", "import", "couple", str(w), str(p2), "--out", str(tmp_path / "n"),
                      "--nearest", "power:bus,water:pump", "--frame", "box"], capsys)  # fmt: skip
    assert rc == 0, err
    c = load_infra_case(tmp_path / "n")
    assert list(c.dependencies["depender"]) == ["pump_PU1"]
    # the pump (15, 5) in the water box [0, 20] x [0, 10]: check the chosen bus is the nearest
    n = c.nodes[(c.nodes["layer"] == "power") & (c.nodes["node_type"] == "bus")]
    bx = (n["x"] - n["x"].min()) / (n["x"].max() - n["x"].min()) * 20
    by = (n["y"] - n["y"].min()) / (n["y"].max() - n["y"].min()) * 10
    best = n["node"].iloc[int(((bx - 15) ** 2 + (by - 5) ** 2).to_numpy().argmin())]
    assert c.dependencies["dependee"].iloc[0] == best


def test_linking_table_unknown_element_exits_2(tmp_path, capsys):
    w, p = _pair(tmp_path, capsys)
    rc, out, err = run(["infra", "import", "couple", str(w), str(p), "--out", str(tmp_path / "c"),
                        "--table", str(D / "links_unknown.csv")], capsys)  # fmt: skip
    assert rc == 2
    assert "links_unknown.csv" in err and "row 2 (line 3)" in err and "'99'" in err and "Traceback" not in err
    assert not (tmp_path / "c").exists()  # nothing half-written
    bad = tmp_path / "bad_layer.csv"
    bad.write_text("dependee_layer,dependee,depender_layer,depender\ngas,1,water,J1\n")
    rc, _, err = run(["infra", "import", "couple", str(w), str(p), "--out", str(tmp_path / "c"),
                      "--table", str(bad)], capsys)  # fmt: skip
    assert rc == 2 and "bad_layer.csv" in err and "row 1 (line 2)" in err and "'gas'" in err


# --------------------------------------------------------------------------- malformed files
def _mutate(tmp_path: Path, src: str, name: str, edit) -> Path:
    f = tmp_path / name
    f.write_text(edit((D / src).read_text()))
    return f


@pytest.mark.parametrize(
    ("kind", "src", "edit", "expect"),
    [
        ("water", "tiny.inp", lambda t: t.split("[PUMPS]")[0], "no [END] tag"),
        ("water", "tiny.inp", lambda t: t.replace("[PIPES]", "[PIPEZ]"), "line 18"),
        ("water", "tiny.inp", lambda t: t.replace(" P4   J1     T1", " P4   J1     TX"), "'TX'"),
        ("water", "tiny.inp", lambda t: t.replace(" P4   J1     T1     100", " P4   J1"), "line 23"),
        (
            "power",
            "tiny.m",
            lambda t: t.split("mpc.branch")[0] + "mpc.branch = [\n\t1\t2\t0.01",
            "not closed",
        ),
        ("power", "tiny.m", lambda t: t.replace("mpc.bus =", "mpc.buses ="), "no mpc.bus matrix"),
        ("power", "tiny.m", lambda t: t.replace("\t2\t3\t0.01\t0.2", "\t2\t9\t0.01\t0.2"), "bus 9"),
        ("power", "tiny_pp.json", lambda t: t[: len(t) // 2], "not valid JSON"),
        (
            "power",
            "tiny_pp.json",
            lambda t: t.replace("null, 0, 1, 10.0", "null, 7, 1, 10.0", 1),
            "line[0].from_bus",
        ),
    ],
)
def test_malformed_files_exit_2_with_file_and_place(tmp_path, capsys, kind, src, edit, expect):
    suffix = Path(src).suffix
    bad = _mutate(tmp_path, src, "bad" + suffix, edit)
    rc, out, err = run(["infra", "import", kind, str(bad), "--out", str(tmp_path / "o")], capsys)
    assert rc == 2, err
    assert "bad" + suffix in err and expect in err, err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- re-runs
def _files(folder: Path) -> dict[str, bytes]:
    return {
        f.relative_to(folder).as_posix(): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()
    }


def test_rerun_is_byte_identical(tmp_path, capsys):
    for k in (1, 2):
        w, p = tmp_path / f"w{k}", tmp_path / f"p{k}"
        assert run(["infra", "import", "water", str(D / "tiny.inp"), "--out", str(w)], capsys)[0] == 0
        assert run(["infra", "import", "power", str(D / "tiny_pp.json"), "--out", str(p)], capsys)[0] == 0
        assert run(["infra", "import", "couple", str(w), str(p), "--out", str(tmp_path / f"c{k}"),
                    "--nearest", "power:bus,water:pump"], capsys)[0] == 0  # fmt: skip
    for name in ("w", "p", "c"):
        a, b = _files(tmp_path / f"{name}1"), _files(tmp_path / f"{name}2")
        assert a == b and "import.md" in a and "case.yaml" in a


# --------------------------------------------------------------------------- bundled pair
def test_bundled_pair_served_with_both_certificates(capsys):
    rc, out, err = run(["infra", "served", "net3-activsg200", "--objective", "served", "--json",
                        "--damage", "bus49"], capsys)  # fmt: skip
    assert rc == 0, err
    d = json.loads(out)
    assert d["certificate"]["passed"] and d["input_certificate"]["passed"]
    share = {r["layer"]: r["served_share"] for r in d["layers"]}
    # bus 49 down -> pump 335 down (dependency): water loses what the River reaches only through it
    assert share["power"] == pytest.approx(1.0) and share["water"] < 1.0
    c = load_infra_case("net3-activsg200")
    assert len(c.dependencies) == 2 and set(c.dependencies["depender"]) == {"pump_10", "pump_335"}


def test_dc_opf_hand_example():
    spec = importlib.util.spec_from_file_location(
        "physics_check", Path(__file__).parents[1] / "benchmarks" / "physics_check.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    dc, lp = mod.hand_example()
    assert dc == pytest.approx(90.0) and lp == pytest.approx(150.0)  # 2/3 P <= 60 vs 60 + 90
