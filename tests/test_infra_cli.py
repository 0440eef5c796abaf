"""`resiliopt infra served|cascade|criticality`: strict JSON, tidy tables, plots, bad options."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from resiliopt.cli import main

TOY = str(Path(__file__).parent / "data" / "infra_toy" / "case.yaml")


def run_json(capfd, argv) -> dict:
    assert main(argv) == 0
    out = capfd.readouterr().out  # file-descriptor level: a solver banner would show here
    return json.loads(out)


def test_served_json(capfd):
    d = run_json(capfd, ["infra", "served", TOY, "--damage", "st-cut", "--json"])
    assert d["objective"] == pytest.approx(522.0)
    assert d["certificate"]["passed"] and d["input_certificate"]["passed"]
    assert [r["layer"] for r in d["layers"]] == ["power", "water"]


def test_served_magnitude_draw_is_seeded(capfd):
    a = run_json(capfd, ["infra", "served", "shelby-indp", "--magnitude", "8", "--seed", "4", "--json"])
    b = run_json(capfd, ["infra", "served", "shelby-indp", "--magnitude", "8", "--seed", "4", "--json"])
    assert a == b and a["failed"] > 0 and a["input_certificate"]["passed"]


def test_cascade_out_csv(capfd, tmp_path):
    out = tmp_path / "c"
    d = run_json(
        capfd,
        ["infra", "cascade", TOY, "--fail", "node:power:A", "--json", "--out", str(out), "--format", "csv"],
    )
    assert d["finally_failed"] == 7 and d["rounds"] == 1
    rounds = pd.read_csv(out / "rounds.csv")
    assert set(rounds.columns) >= {"round", "kind", "layer", "element", "functionality", "cause"}
    assert (out / "iim.csv").is_file() and (out / "dependency_graph.png").is_file()


def test_criticality_out(capfd, tmp_path):
    out = tmp_path / "k"
    d = run_json(capfd, ["infra", "criticality", TOY, "--k", "2", "--json", "--out", str(out)])
    assert d["n_minus_k"]["loss"] == pytest.approx(2.0) and d["elements"] == 14
    r = pd.read_parquet(out / "n_minus_1.parquet")
    assert r["rank"].iloc[0] == 1 and r["element"].iloc[0] == "A"
    assert (out / "criticality_map.svg").is_file() and (out / "spof.parquet").is_file()


def test_text_output(capfd):
    assert main(["infra", "criticality", TOY, "--k", "1"]) == 0
    out = capfd.readouterr().out
    assert "N-1 served demand lost" in out and "worst N-1" in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--fail", "node:power:Z"], "node 'Z' is not in layer 'power'"),
        (["--fail", "power-A"], "--fail[0]"),
        (["--damage", "nope"], "unknown damage scenario"),
        (["--magnitude", "6"], "no failure_probability"),
        (["--format", "xlsx"], "--format"),
        (["--objective", "fun"], "objective"),
    ],
)
def test_bad_options(capfd, argv, needle):
    assert main(["infra", "served", TOY, *argv]) == 2
    err = capfd.readouterr().err
    assert needle in err and "Traceback" not in err


def test_bad_damage_file(capfd, tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("kind,layer,element\nnode,power,A\nlnk,power,GA\n")
    assert main(["infra", "cascade", TOY, "--damage-file", str(p)]) == 2
    err = capfd.readouterr().err
    assert "f.csv" in err and "row 2" in err and "kind" in err
    p.write_text("kind,layer,elemnt\nnode,power,A\n")
    assert main(["infra", "cascade", TOY, "--damage-file", str(p)]) == 2
    assert "unknown field" in capfd.readouterr().err
