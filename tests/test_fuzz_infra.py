"""Fuzz suite for the infrastructure case tables (issue 17): a clean refusal or a proven answer.

Every example takes the toy infra case (inline YAML, or with its nodes, links, dependencies,
damage, spaces, element_spaces and a failure_probability table as CSV tables), applies ONE
mutation at a random place (for YAML the mutations of tests/test_fuzz_inputs.py: drop,
duplicate, retype, rename, a duplicate key, an out-of-range or non-finite number, a broken
reference; for CSV: a cell, a renamed or repeated column, a repeated or dropped row, an extra
cell, a blank line), runs ``resiliopt infra served CASE --json`` in-process, and asserts one of:

* exit 2, no traceback, a first line ``error: FILE: FIELD-OR-ROW: rule`` naming an input file of
  the case, and ``resiliopt infra validate`` refuses it too;
* exit 0 with status ``optimal`` and both certificates passing, under no damage and under every
  damage scenario the case still lists, and ``validate`` accepts it.

The examples are drawn with a fixed seed (``derandomize``); ``RESILIOPT_FUZZ_EXAMPLES=2000
RESILIOPT_FUZZ_RANDOM=1`` runs a longer random search.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import event, given
from hypothesis import strategies as st
from test_fuzz_inputs import _typo, assert_refused, dump, fuzz_settings, mutation

from resiliopt.infra import load_infra_case

TOY = Path(__file__).parent / "data" / "infra_toy" / "case.yaml"
TOY_DOC = yaml.safe_load(TOY.read_text(encoding="utf-8"))
CSV_TABLES = ["nodes", "links", "dependencies", "damage", "spaces", "element_spaces", "failure_probability"]
FILES = {"case.yaml", *(f"{t}.csv" for t in CSV_TABLES)}


def assert_served_certified(result: dict) -> None:
    """An exit-0 ``infra served --json``: optimal and both certificates pass."""
    assert result["status"] == "optimal" and result["certified"] is True, result.get("input_certificate")
    assert result["certificate"]["passed"] and result["input_certificate"]["passed"]
    for lay in result["layers"]:
        assert -1e-6 <= lay["served"] <= lay["demand"] * (1 + 1e-9) + 1e-6, lay


def check(run_cli, path: Path, op: str, needle: str | None) -> None:
    code, out, err = run_cli("infra", "served", path, "--json")
    event(f"{op}: exit {code}")
    vcode, _, verr = run_cli("infra", "validate", path, "--json")
    if code == 0:
        assert_served_certified(json.loads(out))
        assert vcode == 0, verr  # what served accepts, validate accepts
        for name in load_infra_case(path).damage_scenarios:
            code, out, err = run_cli("infra", "served", path, "--damage", name, "--json")
            assert code == 0, err
            assert_served_certified(json.loads(out))
    else:
        assert_refused(code, out, err, FILES, needle)
        assert vcode == 2, ("served refused what validate accepts", err)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzzinfra")


@fuzz_settings(80)
@given(data=st.data())
def test_fuzz_infra_yaml(run_cli, fuzz_dir, data):
    doc, op, needle = data.draw(mutation(TOY_DOC), label="mutation")
    p = fuzz_dir / "case.yaml"
    p.write_text(dump(doc), encoding="utf-8")
    check(run_cli, p, op, needle)


def _csv_case(dst: Path) -> Path:
    """The toy case with its nodes, links, dependencies and damage as CSV tables."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir()
    raw = yaml.safe_load(TOY.read_text(encoding="utf-8"))
    raw["failure_probability"] = [  # the toy has none: one row per element and magnitude
        {"magnitude": m, "kind": kind, "layer": r["layer"], "element": r[kind], "p": 0.05 * m}
        for m in (6, 7)
        for kind in ("node", "link")
        for r in raw[f"{kind}s"]
    ]
    for table in CSV_TABLES:
        rows = raw[table]
        cols = list(dict.fromkeys(k for r in rows for k in r))
        with (dst / f"{table}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, cols, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        raw[table] = f"{table}.csv"
    (dst / "case.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return dst / "case.yaml"


CELLS = [
    "",
    "lots",
    "-1",
    "1e30",
    "1e12",
    "nan",
    "inf",
    "2.5",
    "0",
    "true",
    "NOWHERE",
    "A",
    "G",
    "1e-9",
    "-5",
]
CSV_OPS = [
    "cell",
    "cell",
    "cell",
    "cell",
    "rename",
    "dupcolumn",
    "duprow",
    "droprow",
    "extracell",
    "blankline",
]


@fuzz_settings(80)
@given(data=st.data())
def test_fuzz_infra_csv_tables(run_cli, fuzz_dir, data):
    p = _csv_case(fuzz_dir / "csvcase")
    table = data.draw(st.sampled_from(CSV_TABLES), label="table")
    f = p.parent / f"{table}.csv"
    rows = [line.split(",") for line in f.read_text(encoding="utf-8").splitlines()]
    op = data.draw(st.sampled_from(CSV_OPS), label="op")
    k = data.draw(st.integers(1, len(rows) - 1), label="row")
    j = data.draw(st.integers(0, len(rows[0]) - 1), label="column")
    needle = None
    if op == "cell":
        rows[k][j] = data.draw(st.sampled_from([*CELLS, rows[k][j] + " x", rows[k][j].upper()]), label="cell")
    elif op == "rename":
        rows[0][j] = needle = _typo(rows[0][j], data.draw(st.integers(0, 2)))
    elif op == "dupcolumn":
        rows[0][j] = rows[0][(j + 1) % len(rows[0])]
        needle = "duplicate column"
    elif op == "duprow":
        rows.insert(k, list(rows[k]))
    elif op == "droprow":
        del rows[k]
    elif op == "extracell":
        rows[k].append("x")
        needle = "cells but the header has"
    else:
        rows.insert(k, [])
        needle = "empty line"
    f.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    check(run_cli, p, f"{table} {op}", needle)
