"""A network's nodes and links as CSV tables: the same case as inline YAML, and every error
named by the CSV file, row (line) and column."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from resiliopt.case import bundled_data_dir, load_case
from resiliopt.errors import InputError

BEIJING = bundled_data_dir() / "beijing"


@pytest.fixture
def case(tmp_path, csv_case) -> Path:
    return csv_case(tmp_path / "bj")


def _edit(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], (old, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def test_csv_tables_load_to_the_same_case(case, run_cli):
    a, b = load_case(BEIJING), load_case(case)
    assert a.network == b.network  # every node and link, field by field (defaults included)
    assert b.table_files == {"nodes.csv": case / "nodes.csv", "links.csv": case / "links.csv"}
    sa, sb = (json.loads(run_cli("slice", p, "--json", "--day", 4)[1]) for p in (BEIJING, case))
    assert sb["status"] == "optimal" and sb["objective"] == sa["objective"]
    for p in (case, case / "network.yaml"):
        code, out, err = run_cli("validate", p)
        assert code == 0, err


def test_csv_and_inline_may_mix(case):
    net = yaml.safe_load((case / "network.yaml").read_text())
    net["nodes"] = yaml.safe_load((BEIJING / "network.yaml").read_text())["nodes"]
    (case / "network.yaml").write_text(yaml.safe_dump(net))
    assert load_case(case).network == load_case(BEIJING).network


# (file, edit (line, old, new) or a function of the case dir, the location, the rule)
def _bom(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as Excel's 'CSV UTF-8' saves it


REPEAT = "repeats the arc R2-01 -> R2-02 of row 1 "
ERRORS = [
    ("links.csv", (1, "capacity", "capacty"), "line 1 (header), column 'capacty'", "unknown field"),
    ("links.csv", (1, "road", "capacity"), "line 1", "duplicate column 'capacity'"),
    ("links.csv", (3, ",10,", ",,"), "row 2 (line 3), column 'capacity'", "Field required"),
    ("links.csv", (3, ",10,", ",ten,"), "row 2 (line 3), column 'capacity'", "valid number"),
    ("links.csv", (3, ",10,", ",1e13,"), "row 2 (line 3), column 'capacity'", "beyond the limit"),
    ("links.csv", (3, ",10,", ",-1,"), "row 2 (line 3), column 'capacity'", "greater than or equal to 0"),
    ("links.csv", (3, ",10,", ",nan,"), "row 2 (line 3), column 'capacity'", "finite number"),
    ("links.csv", (3, "ring2,", "ring2,maybe"), "row 2 (line 3), column 'two_way'", "valid boolean"),
    ("nodes.csv", (3, ",2,", ",2.5,"), "row 2 (line 3), column 'ring'", "valid integer"),
    ("links.csv", (3, "ring2,", "ring2,,x"), "line 3", "7 cells but the header has 6 columns"),
    ("links.csv", (3, "ring2-02", ""), "row 2 (line 3), column 'id'", "Field required"),
    ("links.csv", (4, "ring2-03,R2-03,R2-04,10,ring2,", ""), "line 4", "empty line"),
    ("links.csv", (3, ",ring2,", ',"ring\n2",'), "line 3", "line break inside a cell"),
    ("network.yaml", lambda d: (d / "links.csv").unlink(), "links", "links.csv' not found"),
    ("links.csv", lambda d: (d / "links.csv").write_bytes(b"id,from\n\xff\xfe,x\n"), None, "UTF-8"),
    ("links.csv", lambda d: _bom(d / "links.csv"), "line 1 (header)", "byte-order mark"),
    # the network's rules across rows
    ("links.csv", (3, "R2-03", "NOWHERE"), "row 2 (line 3), column 'to'", "missing node 'NOWHERE'"),
    ("links.csv", (3, "ring2-02", "ring2-01"), "row 2 (line 3), column 'id'", "row 1 (line 2) has it too"),
    ("links.csv", (3, "R2-03", "R2-02"), "row 2 (line 3)", "self-loop"),
    ("links.csv", (3, "R2-02,R2-03", "R2-01,R2-02"), "row 2 (line 3)", REPEAT),
    ("nodes.csv", (3, "R2-02,", "R2-01,"), "row 2 (line 3), column 'id'", "duplicate node id 'R2-01'"),
]


@pytest.mark.parametrize("name, edit, where, rule", ERRORS)
def test_csv_errors_name_file_line_and_column(case, run_cli, name, edit, where, rule):
    if callable(edit):
        edit(case)
    else:
        _edit(case / name, *edit)
    with pytest.raises(InputError) as e:
        load_case(case)
    assert Path(e.value.file) == case / name and e.value.location == where, str(e.value)
    assert rule is None or rule in str(e.value), str(e.value)
    for cmd in (["validate", case], ["validate", case / "network.yaml"], ["slice", case]):
        code, _, err = run_cli(*cmd)
        first = err.strip().splitlines()[0]
        assert code == 2 and "Traceback" not in err, err
        assert f"{case / name}: {where + ': ' if where else ''}" in first, first


def test_errors_in_two_files_name_each(case):
    _edit(case / "nodes.csv", 3, "R2-02,", "R2-01,")  # a duplicate node: links to R2-02 now dangle
    with pytest.raises(InputError) as e:
        load_case(case)
    msg = str(e.value)
    assert e.value.file == str(case / "nodes.csv") and "errors]" in msg.splitlines()[0]
    assert "  links.csv row 1 (line 2), column 'to': refers to missing node 'R2-02'" in msg


def test_override_over_csv_tables(case, tmp_path):
    ov = tmp_path / "o.yaml"
    ov.write_text(
        yaml.safe_dump(
            {"kind": "override", "base": str(case), "network": {"links": {"ring2-01": {"capacity": 3.5}}}}
        )
    )
    cd, base = load_case(ov), load_case(case)
    links = {x.id: x for x in cd.network.links}
    assert links["ring2-01"].capacity == 3.5
    assert {k: v for k, v in links.items() if k != "ring2-01"} == {
        x.id: x for x in base.network.links if x.id != "ring2-01"
    }
    assert cd.network.nodes == base.network.nodes
    from resiliopt.simulation.montecarlo import input_files

    files = input_files(cd)
    assert files["base/links.csv"] == case / "links.csv" and files["base/nodes.csv"] == case / "nodes.csv"
    # a layer may name a CSV table of its own (relative to the layer); an unknown id is refused
    shutil.copy(case / "nodes.csv", tmp_path / "mine.csv")
    ov.write_text(yaml.safe_dump({"kind": "override", "base": str(case), "network": {"nodes": "mine.csv"}}))
    assert load_case(ov).network == base.network
    bad = {"kind": "override", "base": str(case), "network": {"links": {"nope": {"capacity": 1}}}}
    ov.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError, match="no item with id 'nope'"):
        load_case(ov)


def test_resume_refuses_an_edited_csv_table(case, tmp_path, run_cli):
    out = tmp_path / "o"
    args = ["simulate", case, "--scenarios", 2, "--days", 3, "--out", out, "--no-progress", "--no-plots"]
    code, _, err = run_cli(*args, "--workers", 1)
    assert code == 0, err
    inputs = json.loads((out / "run.json").read_text())["inputs"]
    assert {"nodes.csv", "links.csv"} <= set(inputs)
    _edit(case / "links.csv", 3, ",10,", ",11,")
    code, _, err = run_cli(*args, "--workers", 1)
    assert code == 2 and "links.csv" in err and "changed" in err, err


def test_schema_documents_csv_tables(run_cli):
    code, out, _ = run_cli("schema", "network")
    props = json.loads(out)["properties"]
    for key in ("nodes", "links"):
        assert {"type": "string"}.items() <= props[key]["anyOf"][1].items()
        assert "CSV" in props[key]["anyOf"][1]["description"]
