"""The CLI core after the layering (issue 16): registration, shared helpers, the library
functions the thin commands call, and results bit-identical to the code before the split."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from resiliopt import schemas
from resiliopt.errors import InputError

CLI = Path(__file__).parents[1] / "resiliopt" / "cli"


# --------------------------------------------------------------------------- registration
def test_every_command_is_registered_in_help_order():
    """The command modules are imported explicitly, in the order of `resiliopt --help`."""
    import typer

    from resiliopt.cli import app

    group = typer.main.get_command(app)
    assert list(group.list_commands(None)) == [
        *("slice", "audit", "validate", "schema", "demo", "fahp", "assess", "fahp-sensitivity"),
        *("simulate", "compare", "retrofit", "report", "infra", "emergency", "import"),
    ]
    assert list(group.commands["infra"].list_commands(None)) == [
        *("validate", "schema", "served", "cascade", "criticality", "restore", "simulate", "import"),
    ]


@pytest.mark.parametrize("module", ["logistics", "fahp", "simulate", "report"])
def test_command_modules_import_no_other_command_module(module):
    """A command module imports the library and the CLI's shared parts only (app, _output,
    _options), never another command module."""
    tree = ast.parse((CLI / f"{module}.py").read_text())
    shared = {"app", "_options", "_output", "err_console"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("resiliopt.cli"):
            sub = node.module.removeprefix("resiliopt.cli").lstrip(".")
            names = {sub} if sub else {a.name for a in node.names}
            assert names <= shared, f"cli/{module}.py imports {node.module}: {names - shared}"


def test_cli_start_loads_no_solver_stack():
    """`resiliopt --help` stays fast: importing the CLI loads neither the solvers, the
    simulation, the validation dispatch nor the report renderer (each imported on use)."""
    import subprocess
    import sys

    code = (
        "import sys, resiliopt.cli; "
        "print(sorted(m for m in ('highspy', 'pyomo', 'matplotlib', 'jinja2', 'resiliopt.logistics', "
        "'resiliopt.simulation.montecarlo', 'resiliopt.validation') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- shared output helpers
def test_fmt_cells():
    from resiliopt.cli._output import fmt

    assert fmt(None) == fmt(pd.NA) == fmt(float("nan")) == fmt(np.float64("inf")) == ""
    assert fmt(1 / 3) == "0.3333" and fmt(np.float32(1.5), 2) == "1.50"
    assert fmt(np.int64(4)) == "4" and fmt(7) == "7" and fmt("a:b:c") == "a:b:c"


def test_records_and_json_writers(tmp_path):
    from resiliopt.cli._output import records, write_json, write_tables

    df = pd.DataFrame({"x": [1 / 3, np.nan], "n": [1, 2], "s": ["a", None]})
    assert records(df) == [{"x": 0.3333333333, "n": 1, "s": "a"}, {"x": None, "n": 2, "s": None}]
    full = records(df, digits=None)
    assert full[0]["x"] == 1 / 3 and full[1]["x"] is None
    assert records(df.iloc[:0]) == []
    write_json(tmp_path / "a.json", {"v": float("nan"), "w": np.float64(2.5)})
    assert json.loads((tmp_path / "a.json").read_text()) == {"v": None, "w": 2.5}
    assert write_tables(tmp_path, {"t": df, "u": df}, "parquet") == ["t.parquet", "u.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), df)
    write_tables(tmp_path, {"t": df})
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == "x,n,s"


def test_df_table_aligns_numbers_right():
    from rich.console import Console

    from resiliopt.cli._output import df_table

    t = df_table(pd.DataFrame({"name": ["a"], "v": [0.5]}), "title", digits=2)
    assert [c.justify for c in t.columns] == ["left", "right"]
    console = Console(width=40, record=True)
    console.print(t)
    assert "0.50" in console.export_text()


def test_progress_disabled_yields_none_and_enabled_counts():
    from resiliopt.cli._output import plain_console, progress

    with progress(False) as cb:
        assert cb is None
    console = plain_console(record=True, width=80, force_terminal=False)
    with progress(True, console) as cb:
        cb("scenarios", 0, 4)
        cb("scenarios", 4, 4)
    assert "4/4" in console.export_text()


# --------------------------------------------------------------------------- schemas package
def test_schemas_package_reexports_every_public_name():
    """`from resiliopt import schemas as s; s.Case` keeps working for every model of the package."""
    seen = 0
    for name in ("common", "network", "fragility", "community", "constraints", "case", "slice"):
        mod = importlib.import_module(f"resiliopt.schemas.{name}")
        for attr, obj in vars(mod).items():
            if attr.startswith("_") or getattr(obj, "__module__", mod.__name__) != mod.__name__:
                continue
            if inspect.isclass(obj):
                assert getattr(schemas, attr) is obj, attr
                assert attr in schemas.__all__
                seen += 1
    assert seen >= 25
    assert schemas.SCHEMAS["case"] is schemas.Case and schemas.LIMIT == 1e12
    assert set(schemas.SCHEMAS) == {"case", "network", "bridges", "buildings", "community", "slice"}


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("beijing", "case"),
        ("data/beijing/network.yaml", "network"),
        ("data/beijing/bridges.yaml", "bridges"),
        ("data/beijing/overrides/fig6-closest.yaml", "override"),
        ("tests/data/slice_small.yaml", "slice"),
        ("sz", "site"),
        ("indicators", "tree"),
        ("cups/matrix_people.yaml", "matrix"),
        ("shelby-indp", "infra_case"),
    ],
)
def test_validate_input_finds_the_kind(path, kind, monkeypatch):
    from resiliopt.validation import validate_input

    monkeypatch.chdir(Path(__file__).parents[1])
    assert validate_input(path) == kind


def test_validate_input_refuses_a_bad_matrix_at_its_cell():
    from resiliopt.validation import validate_input

    with pytest.raises(InputError) as e:
        validate_input("cups/matrix_bad.yaml")
    assert e.value.file.endswith("matrix_bad.yaml")
    assert e.value.location == "matrix[row 'Staff', col 'Policeman']"


def test_validate_input_refuses_an_unknown_kind(tmp_path):
    from resiliopt.validation import validate_input

    f = tmp_path / "x.yaml"
    f.write_text("kind: nonsense\n")
    with pytest.raises(InputError, match="unknown or missing kind 'nonsense'") as e:
        validate_input(f)
    assert e.value.location == "kind"


def test_json_schemas_and_export(tmp_path):
    from resiliopt.validation import export_schemas, input_schemas, json_schemas

    kinds = set(input_schemas())
    assert kinds == {*schemas.SCHEMAS, "matrix", "tree", "site", "infra_case", "override"}
    docs = json_schemas()
    assert set(docs) == kinds and list(docs) == sorted(kinds)
    assert "logistics" in docs["case"]["properties"]
    with pytest.raises(InputError, match="unknown kind 'nope'"):
        json_schemas("nope")
    out = tmp_path / "schemas"
    assert export_schemas("slice", out) == {"slice": docs["slice"]}
    assert json.loads((out / "slice.schema.json").read_text()) == docs["slice"]


# --------------------------------------------------------------------------- simulation split
def test_chunks_cover_the_scenarios_in_fixed_blocks():
    from resiliopt.simulation.runfiles import CHUNK, chunks

    assert chunks(45) == [(0, CHUNK), (CHUNK, 2 * CHUNK), (2 * CHUNK, 45)]
    assert chunks(1) == [(0, 1)]


def test_montecarlo_keeps_its_names():
    from resiliopt.simulation import montecarlo

    for name in montecarlo.__all__:
        assert getattr(montecarlo, name) is not None, name


def test_demo_audits_and_simulates(tmp_path):
    """run_demo: the audited first slice is the one written (its CSV holds every bit), both
    certificates pass, and the run is recorded. (That the tables equal an earlier revision's
    is checked by scripts/compare_runs.py against that revision, not by pinned numbers.)"""
    from resiliopt.reports.runs import run_demo

    seen = []
    demo = run_demo("beijing", tmp_path / "demo", scenarios=2, days=30, workers=1, audited=seen.append)
    res = demo.slice
    assert seen == [res] and demo.report is None
    assert res.passed and res.status == "optimal"
    flows = pd.read_csv(tmp_path / "demo" / "audit" / "flows.csv")
    np.testing.assert_array_equal(flows["flow"].to_numpy(), res.flows["flow"].to_numpy())
    assert math.isclose(demo.simulation.summary["fc0_p50"], 0.59, abs_tol=0.05)
    manifest = json.loads((tmp_path / "demo" / ".resiliopt-output.json").read_text())
    assert manifest["command"] == "demo" and manifest["complete"]
