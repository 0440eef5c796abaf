"""Fuzz suite: mutate the bundled inputs and require a clean refusal or a proven answer.

Every example takes one input file (a file of the bundled Beijing case, a slice file of
tests/data, or a fuzzy AHP file of data/cups), applies ONE mutation at a random place (drop,
duplicate, retype, rename a field, duplicate a YAML key, an out-of-range or non-finite number,
a broken reference), runs the command that reads it in-process, and asserts one of:

* exit 2, no traceback, and a first line ``error: FILE: FIELD: rule`` naming an input file
  and a field (a renamed field is named in the message);
* exit 0, and the answer passes its checks (:func:`assert_certified` for slices: both
  certificates and the networkx cross-check; :func:`assert_fahp_ok` for FAHP).

The examples are drawn with a fixed seed (``derandomize``) so CI is reproducible; set
``RESILIOPT_FUZZ_EXAMPLES=2000 RESILIOPT_FUZZ_RANDOM=1`` for a longer random run.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from resiliopt.case import bundled_data_dir

DATA = bundled_data_dir()
TESTS = Path(__file__).parent / "data"
SCALE = int(os.environ.get("RESILIOPT_FUZZ_EXAMPLES", "0"))


def fuzz_settings(n: int):
    return settings(
        max_examples=SCALE or n,
        deadline=None,
        derandomize=not os.environ.get("RESILIOPT_FUZZ_RANDOM"),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# --------------------------------------------------------------------------- checks
FIRST_LINE = re.compile(r"^error: (?P<file>\S+?\.(?:ya?ml|csv)): (?P<loc>.+?): (?P<rule>.+)$")


def assert_refused(code: int, out: str, err: str, files: set[str], needle: str | None = None) -> None:
    """Exit 2 with one message: ``error: FILE: FIELD: rule``, FILE one of ``files``."""
    assert code == 2, (code, out[-2000:], err)
    assert "Traceback" not in err and "Traceback" not in out
    first = err.strip().splitlines()[0]
    m = FIRST_LINE.match(first)
    assert m, f"the first line does not name file and field: {first!r}"
    assert Path(m["file"]).name in files, first
    assert m["loc"].strip() and m["rule"].strip(), first
    if needle is not None:
        assert needle in err, (needle, err)


def assert_certified(result: dict) -> None:
    """An exit-0 slice answer is proven: both certificates in ``slice --json`` pass.

    The matrix-level ``certificate`` and the ``input_certificate`` (checked against the input
    tables only), the overall ``passed``, and the networkx cross-check within its tolerance.
    The one place to extend when a slice gets more checks.
    """
    assert result["status"] == "optimal", result["status"]
    assert result.get("passed", True), result.get("problems")
    certs = {k: v for k, v in result.items() if k.endswith("certificate") and isinstance(v, dict)}
    assert {"certificate", "input_certificate"} <= set(certs), sorted(result)
    for name, cert in certs.items():
        assert cert["passed"], (name, cert)
    tr = result["total_resources"]
    assert -1e-6 * (1 + tr) <= result["unused"] <= tr * (1 + 1e-9) + 1e-6
    nx_obj = result.get("networkx_objective")
    if nx_obj is not None:
        tol = result.get("networkx_tolerance") or 1e-6 * (1 + abs(nx_obj))
        assert abs(result["objective"] - nx_obj) <= tol, (result["objective"], nx_obj, tol)


def assert_fahp_ok(result: dict) -> None:
    """An exit-0 FAHP answer: finite weights in [0, 1] that sum to 1."""
    w = list(result["weights"].values())
    assert all(math.isfinite(x) and -1e-12 <= x <= 1 + 1e-12 for x in w), w
    assert math.isclose(sum(w), 1.0, abs_tol=1e-9), w


# --------------------------------------------------------------------------- mutations
class DupMap:
    """A mapping that repeats one key when dumped (YAML text the loader must refuse)."""

    def __init__(self, pairs):
        self.pairs = pairs


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    pass


def _repr_dupmap(dumper, data):
    return yaml.MappingNode(
        "tag:yaml.org,2002:map", [(dumper.represent_data(k), dumper.represent_data(v)) for k, v in data.pairs]
    )


_Dumper.add_representer(DupMap, _repr_dupmap)


def dump(doc) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def all_paths(doc, prefix=()):
    """Every path to a value below the root (dict keys and list indices)."""
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.append((*prefix, k))
            out.extend(all_paths(v, (*prefix, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.append((*prefix, i))
            out.extend(all_paths(v, (*prefix, i)))
    return out


def get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


RETYPES = ["lots", True, None, [], {}, [1, 2], {"x": 1}, "", 3]
BAD_NUMBERS = [-1, -1e-3, 0, 1e30, 1e308, 10**30, 2.5, 1e12 * 1.01, -(10**20), 0.999999, 1.0000001]
NON_FINITE = [float("nan"), float("inf"), float("-inf")]
OPS = ["drop", "duplicate", "retype", "rename", "dupkey", "number", "nonfinite", "reference", "zero"]


def _typo(key: str, r: int) -> str:
    if len(key) > 3 and r % 3 == 0:
        return key[:-2] + key[-1] + key[-2]  # swap the last two letters
    if len(key) > 2 and r % 3 == 1:
        return key[:-1]  # drop the last letter
    return key + "x"


@st.composite
def mutation(draw, doc):
    """(mutated document, op, needle): needle is a text the refusal must contain, or None."""
    doc = copy.deepcopy(doc)
    paths = all_paths(doc)
    op = draw(st.sampled_from(OPS))
    if op in ("number", "nonfinite", "zero"):
        cand = [
            p for p in paths if isinstance(get(doc, p), int | float) and not isinstance(get(doc, p), bool)
        ]
    elif op == "reference":
        cand = [p for p in paths if isinstance(get(doc, p), str)]
    elif op in ("rename", "dupkey"):
        cand = [p for p in paths if isinstance(p[-1], str)]
    else:
        cand = paths
    if not cand:
        cand, op = paths, "retype"
    path = draw(st.sampled_from(cand))
    parent, key = get(doc, path[:-1]), path[-1]
    needle = None
    if op == "drop":
        del parent[key]
    elif op == "duplicate":
        if isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            op = "dupkey"
    if op == "dupkey":
        if isinstance(parent, dict):
            pairs = list(parent.items())
            pairs.append((key, parent[key]))
            if len(path) == 1:
                doc = DupMap(pairs)
            else:
                get(doc, path[:-2])[path[-2]] = DupMap(pairs)
            needle = "given twice"
        else:
            parent[key] = draw(st.sampled_from(RETYPES))
    elif op == "retype":
        parent[key] = draw(st.sampled_from(RETYPES))
    elif op == "rename":
        if isinstance(parent, dict):
            new = _typo(key, draw(st.integers(0, 2)))
            if new not in parent:
                parent[new] = parent.pop(key)
                needle = new if key != "kind" else None  # no kind: the file's kind is asked for
    elif op == "number":
        parent[key] = draw(st.sampled_from(BAD_NUMBERS))
    elif op == "nonfinite":
        parent[key] = draw(st.sampled_from(NON_FINITE))
    elif op == "zero":
        parent[key] = 0
    elif op == "reference":
        parent[key] = draw(st.sampled_from(["NOWHERE", "RR", "RS", parent[key] + " ", parent[key].upper()]))
    return doc, op, needle


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the case
CASE_FILES = ["case.yaml", "network.yaml", "bridges.yaml", "buildings.yaml", "community.yaml"]
CASE_DOCS = {f: _load(DATA / "beijing" / f) for f in CASE_FILES}


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzzcase")


@fuzz_settings(120)
@given(data=st.data())
def test_fuzz_case(run_cli, case_dir, data):
    name = data.draw(st.sampled_from(CASE_FILES), label="file")
    doc, op, needle = data.draw(mutation(CASE_DOCS[name]), label="mutation")
    d = case_dir / "bj"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(DATA / "beijing", d)
    (d / name).write_text(dump(doc), encoding="utf-8")
    day = data.draw(st.sampled_from([0, 0, 4]), label="day")
    variant = data.draw(st.sampled_from([None, "buildings", "bridges"]), label="variant")
    args = ["slice", d, "--json", "--day", day] + (["--variant", variant] if variant else [])
    code, out, err = run_cli(*args)
    event(f"{op}: exit {code}")
    if code == 0:
        assert_certified(json.loads(out))
        vcode, _, verr = run_cli("validate", d)
        assert vcode == 0, verr  # what slice accepts, validate accepts
    else:
        assert_refused(code, out, err, set(CASE_FILES), needle)
        vcode, _, verr = run_cli("validate", d)
        # validate refuses it too, unless the mutation removed the variant asked for
        assert vcode == 2 or "unknown variant" in err, ("slice refused what validate accepts", err)


# --------------------------------------------------------------------------- CSV tables
CELLS = ["", "lots", "-1", "1e30", "nan", "inf", "2.5", "0", "true", "NOWHERE", "RR", "R2-01", "ring2-01"]
CSV_OPS = ["cell", "cell", "cell", "rename", "dupcolumn", "duprow", "droprow", "extracell", "blankline"]


@fuzz_settings(60)
@given(data=st.data())
def test_fuzz_network_csv_tables(run_cli, case_dir, csv_case, data):
    """The Beijing case with its nodes and links as CSV tables, one cell or line mutated."""
    d = case_dir / "bjcsv"
    if d.exists():
        shutil.rmtree(d)
    csv_case(d)
    name = data.draw(st.sampled_from(["nodes.csv", "links.csv"]), label="file")
    rows = [line.split(",") for line in (d / name).read_text(encoding="utf-8").splitlines()]
    op = data.draw(st.sampled_from(CSV_OPS), label="op")
    k = data.draw(st.integers(1, len(rows) - 1), label="row")
    j = data.draw(st.integers(0, len(rows[0]) - 1), label="column")
    needle = None
    if op == "cell":
        rows[k][j] = data.draw(st.sampled_from([*CELLS, rows[k][j] + " ", rows[k][j].upper()]), label="cell")
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
    (d / name).write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    code, out, err = run_cli("slice", d, "--json", "--day", data.draw(st.sampled_from([0, 4]), label="day"))
    event(f"{op}: exit {code}")
    if code == 0:
        assert_certified(json.loads(out))
    else:
        assert_refused(code, out, err, {*CASE_FILES, "nodes.csv", "links.csv"}, needle)
    vcode, _, verr = run_cli("validate", d)
    assert vcode == code, verr


# --------------------------------------------------------------------------- slice files
SLICE_FILES = sorted(TESTS.glob("slice_*.yaml"))


@fuzz_settings(150)
@given(data=st.data())
def test_fuzz_slice_file(run_cli, tmp_path_factory, data):
    src = data.draw(st.sampled_from(SLICE_FILES), label="file")
    doc, op, needle = data.draw(mutation(_load(src)), label="mutation")
    p = tmp_path_factory.getbasetemp() / "fuzz_slice.yaml"
    p.write_text(dump(doc), encoding="utf-8")
    code, out, err = run_cli("slice", p, "--json")
    event(f"{op}: exit {code}")
    if code == 0:
        assert_certified(json.loads(out))
    else:
        assert_refused(code, out, err, {p.name}, needle)
    vcode, _, _ = run_cli("validate", p)
    assert vcode == code  # validate applies the same rules


# --------------------------------------------------------------------------- fuzzy AHP
MATRIX_FILES = [DATA / "cups" / "matrix_people.yaml", DATA / "cups" / "matrix_experts.yaml"]
TREE = DATA / "cups" / "indicators.yaml"
SITE = DATA / "cups" / "sz.yaml"


@fuzz_settings(80)
@given(data=st.data())
def test_fuzz_fahp_matrix(run_cli, tmp_path_factory, data):
    src = data.draw(st.sampled_from(MATRIX_FILES), label="file")
    doc, op, needle = data.draw(mutation(_load(src)), label="mutation")
    p = tmp_path_factory.getbasetemp() / "fuzz_matrix.yaml"
    p.write_text(dump(doc), encoding="utf-8")
    code, out, err = run_cli("fahp", p, "--json")
    event(f"{op}: exit {code}")
    if code == 0:
        assert_fahp_ok(json.loads(out))
    else:
        assert_refused(code, out, err, {p.name}, needle)
    vcode, _, _ = run_cli("validate", p)
    assert vcode == code


@fuzz_settings(40)
@given(data=st.data())
def test_fuzz_fahp_site_and_tree(run_cli, tmp_path_factory, data):
    which = data.draw(st.sampled_from(["site", "tree"]), label="which")
    src = SITE if which == "site" else TREE
    doc, op, needle = data.draw(mutation(_load(src)), label="mutation")
    base = tmp_path_factory.getbasetemp()
    p = base / f"fuzz_{which}.yaml"
    p.write_text(dump(doc), encoding="utf-8")
    tree, site = (TREE, p) if which == "site" else (p, SITE)
    code, out, err = run_cli("assess", tree, site, "--json")
    event(f"{which} {op}: exit {code}")
    if code == 0:
        res = json.loads(out)
        assert res["scope_value"] is not None and abs(res["scope_value"]) <= 100 + 1e-9
    else:
        assert_refused(code, out, err, {p.name}, needle)
    vcode, _, _ = run_cli("validate", p, *(["--tree", tree] if which == "site" else []))
    if which == "site" or code == 0:
        assert vcode == code  # (a tree can be valid on its own and still not fit the site)
