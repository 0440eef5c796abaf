"""``resiliopt retrofit`` in-process: JSON output, plots, bad input with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import typer

from resiliopt import retrofit as rb
from resiliopt.cli import main
from resiliopt.cli._options import sweep_spec
from resiliopt.errors import InputError
from resiliopt.reports.retrofit_plots import write_retrofit


def _json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)  # exactly one JSON object on stdout


@pytest.mark.parametrize("method", ["greedy", "exact", "grid"])
def test_json_plan(capsys, method):
    obj = _json(capsys, ["retrofit", "beijing", "--budget", "20", "--method", method, "--json"])
    assert {"plan", "fc_before", "fc_after", "cost"} <= set(obj)
    assert obj["cost"] <= 20 + 1e-6
    assert obj["fc_after"] > obj["fc_before"]
    assert sum(r["cost"] for r in obj["plan"]) == pytest.approx(obj["cost"])
    for r in obj["plan"]:
        assert {"category", "from_level", "to_level", "fraction", "cost", "fc_gain"} <= set(r)
    assert len(obj["z_start"]) == 12
    if method == "exact":  # the proven optimum, its bound and gap
        assert obj["status"] == "optimal" and obj["objective"] == "fc_after"
        assert obj["optimum"] == obj["fc_after"] and abs(obj["gap"]) <= 1e-8
        assert obj["bound"] >= obj["fc_after"] - 1e-8
    elif method == "grid":
        assert obj["grid_optimum"] is True and obj["method"] == "grid optimum (step 0.1)"
    else:
        assert obj["bound"] is None and obj["gap"] is None


def test_human_output_states_the_proof(capsys):
    assert main(["retrofit", "beijing", "--budget", "10", "--method", "exact"]) == 0
    out = capsys.readouterr().out
    assert "proven global optimum" in out and "upper bound" in out and "gap" in out
    assert main(["retrofit", "beijing", "--budget", "10", "--method", "grid", "--step", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "Grid optimum" in out and "not the continuous optimum" in out


def test_target_and_exclude(capsys):
    obj = _json(
        capsys,
        ["retrofit", "beijing", "--budget", "100", "--target-fc", "0.75", "--exclude", "E6,E7", "--json"],
    )
    assert obj["fc_after"] == pytest.approx(0.75, abs=1e-9)
    assert not {r["category"] for r in obj["plan"]} & {"E6", "E7"}


def test_human_output(capsys):
    assert main(["retrofit", "beijing", "--budget", "10"]) == 0
    out = capsys.readouterr().out
    assert "F_C right after the earthquake" in out and "Z of every candidate" in out


def test_sweep_writes_plots(capsys, tmp_path):
    out = tmp_path / "sw"
    obj = _json(
        capsys, ["retrofit", "beijing", "--sweep", "0:20:10", "--step", "0.5", "--out", str(out), "--json"]
    )
    rows = obj["sweep"]
    assert [r["budget"] for r in rows] == [0, 10, 20]
    assert all(r["gap_grid"] >= -1e-7 for r in rows)
    assert all(r["exact_minus_greedy"] >= -1e-12 and abs(r["gap_exact"]) <= 1e-8 for r in rows)
    assert all(r["fc_exact"] >= r["fc_grid"] - 1e-12 for r in rows)
    for f in ["sweep.csv", "sweep.png", "sweep.svg"]:
        assert (out / f).stat().st_size > 0


def test_bridges_json(capsys):
    obj = _json(
        capsys,
        [
            "retrofit",
            "beijing",
            "--bridges",
            "--budget",
            "0.4",
            "--scenarios",
            "4",
            "--eval-scenarios",
            "4",
            "--json",
        ],
    )
    assert obj["cost"] <= 0.4 + 1e-9
    plans = {r["plan"]: r for r in obj["evaluation"]}
    assert set(plans) == {"none", "selective", "all"}
    assert plans["all"]["weighted_mean"] >= plans["none"]["weighted_mean"] - 1e-12


@pytest.mark.parametrize(
    "argv",
    [
        ["--budget", "-5"],
        ["--budget", "10", "--target-fc", "1.2"],
        ["--budget", "10", "--target-fc", "-0.1"],
        ["--budget", "10", "--only", "Q7"],
        ["--budget", "10", "--exclude", "R6,Z9"],
        ["--sweep", "0:10"],
        ["--sweep", "10:0:5"],
        ["--budget", "10", "--method", "magic"],
        ["--budget", "10", "--step", "0.3"],
        ["--budget", "10", "--method", "exact", "--step", "0.1"],
        ["--budget", "10", "--method", "grid", "--step", "0.3"],
        ["--budget", "10", "--method", "grid", "--step", "0.01"],
        ["--bridges", "--budget", "-1"],
        ["--bridges", "--budget", "1", "--scenarios", "0"],
        [],
    ],
)
def test_bad_input_exit_2(capsys, argv):
    assert main(["retrofit", "beijing", *argv]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert "error" in cap.err.lower()


def test_one_sweep_parser_with_one_limit():
    """The --sweep option type and the library read a sweep alike: at most SWEEP_MAX budgets,
    counted as the budgets are made (0:9999.99999999999:1 would be 10,001)."""
    assert rb.SWEEP_MAX == 10_000 and len(rb.parse_sweep("0:9999:1")) == rb.SWEEP_MAX
    assert sweep_spec("0:9999:1") == "0:9999:1"
    for spec in ["0:9999.99999999999:1", "0:10000:1", "0:1e308:1e-300", "0:1e400:1", "a:b:c", "5:1:1", "0:9"]:
        with pytest.raises(InputError):
            rb.parse_sweep(spec)
        with pytest.raises(typer.BadParameter):
            sweep_spec(spec)


def test_too_long_sweep_is_a_usage_error_before_the_case_is_read(capsys, tmp_path):
    assert main(["retrofit", str(tmp_path / "no case"), "--sweep", "0:9999.99999999999:1"]) == 2
    err = capsys.readouterr().err
    assert "'--sweep'" in err and "more than 10000 budgets" in err and "no case" not in err


def test_run_retrofit_is_what_the_command_prints_and_writes(capsys, tmp_path):
    """One library call gives the command's JSON; the library writer gives its files."""
    obj = _json(capsys, ["retrofit", "beijing", "--budget", "20", "--target-fc", "0.7", "--json"])
    res = rb.run_retrofit("beijing", 20.0, target_fc=0.7)
    assert res.kind == "plan" and res.plan.fc_after == pytest.approx(0.7, abs=1e-9)
    out = write_retrofit(res, tmp_path / "r")
    assert json.loads((out / "plan.json").read_text()) == obj
    steps = pd.read_csv(out / "plan.csv")
    assert steps["cost"].sum() == pytest.approx(obj["cost"]) and len(steps) == len(obj["plan"])
    assert len(pd.read_csv(out / "z_start.csv")) == len(obj["z_start"]) == 12


def test_exact_and_grid_in_a_fresh_process():
    """Pyomo is imported only when a model is built: a new process (nothing imported before)
    still finds SCIP and HiGHS and proves the optimum."""
    for method in ("exact", "grid"):
        argv = ["retrofit", "beijing", "--budget", "10", "--method", method, "--step", "0.5", "--json"]
        if method == "exact":
            argv.remove("--step"), argv.remove("0.5")
        p = subprocess.run([sys.executable, "-m", "resiliopt.cli", *argv], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        obj = json.loads(p.stdout)
        assert obj["status"] == ("optimal" if method == "exact" else "grid optimal"), obj["status"]
        assert obj["cost"] <= 10 + 1e-9 and obj["fc_after"] > obj["fc_before"]
