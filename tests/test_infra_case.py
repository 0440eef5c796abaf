"""The infra case format: bundled cases load, bad input is refused naming file, row/field and rule."""

from __future__ import annotations

import copy
import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml

from resiliopt.case.infra_schema import json_schemas
from resiliopt.cli import main
from resiliopt.errors import InputError
from resiliopt.infra import load_infra_case

TOY = Path(__file__).parent / "data" / "infra_toy" / "case.yaml"


def toy_raw() -> dict:
    return yaml.safe_load(TOY.read_text())


def write_case(tmp_path: Path, raw: dict) -> Path:
    p = tmp_path / "case.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def csv_case(tmp_path: Path, edit_links=None) -> Path:
    """The toy case with nodes and links as CSV files; ``edit_links(rows)`` may alter the link rows."""
    raw = toy_raw()
    for table in ("nodes", "links"):
        rows = copy.deepcopy(raw[table])
        if table == "links" and edit_links:
            rows = edit_links(rows)
        cols = list(dict.fromkeys(k for r in rows for k in r))
        with (tmp_path / f"{table}.csv").open("w", newline="") as fh:
            w = csv.DictWriter(fh, cols)
            w.writeheader()
            w.writerows(rows)
        raw[table] = f"{table}.csv"
    return write_case(tmp_path, raw)


def test_bundled_cases_load():
    indp = load_infra_case("shelby-indp")
    assert list(indp.layers["layer"]) == ["water", "gas", "power"]
    assert indp.nodes.groupby("layer").size().to_dict() == {"gas": 16, "power": 60, "water": 49}
    # 472 arc entries of the source = 2 directions x 164 links (power arcs listed twice over)
    assert len(indp.links) == 164 and indp.links["two_way"].all()
    assert len(indp.dependencies) == 45 and set(indp.dependencies["depender_layer"]) == {"water"}
    assert len(indp.spaces) == 111 and (indp.element_spaces["kind"] == "link").all()
    assert indp.resources["per_period"].tolist() == [3.0]
    fp = indp.failure_probability
    assert sorted(fp["magnitude"].unique()) == [6, 7, 8, 9]
    assert (fp.groupby("magnitude").size() == 125 + 164).all()
    # each layer balanced in the source
    assert indp.nodes.groupby("layer")["demand"].sum().abs().max() < 1e-9

    ext = load_infra_case("shelby-extended")
    assert list(ext.layers["layer"]) == ["water", "gas", "power", "telecom"]
    assert len(ext.dependencies) == 73
    assert set(ext.dependencies["type"]) == {"physical", "cyber"}
    assert len(ext.damage) == 216
    assert ext.nodes[["x", "y"]].notna().all().all() and ext.nodes["population"].sum() > 0
    d = ext.damage_scenario("set0/sce1")
    assert list(d.columns) == ["kind", "layer", "element"] and len(d) > 0


def test_toy_tables():
    c = load_infra_case(TOY)
    assert c.name == "toy"
    assert c.nodes.set_index(["layer", "node"]).loc[("power", "G"), "tier"] == 1
    assert c.nodes.set_index(["layer", "node"]).loc[("power", "A"), "tier"] == 3  # default
    assert len(c.damage_scenario("none")) == 0
    assert c.damage_scenario("a-down").to_dict("records") == [
        {"kind": "node", "layer": "power", "element": "A"}
    ]
    with pytest.raises(InputError, match="unknown damage scenario"):
        c.damage_scenario("nope")
    assert len(c.elements()) == 14


def test_csv_tables_same_as_inline(tmp_path):
    a = load_infra_case(TOY)
    b = load_infra_case(csv_case(tmp_path))
    assert a.links.equals(b.links)
    assert a.nodes.equals(b.nodes)
    assert b.source_file("links") == tmp_path / "links.csv"


def _err(path) -> InputError:
    with pytest.raises(InputError) as ei:
        load_infra_case(path)
    return ei.value


@pytest.mark.parametrize(
    "edit, location, message",
    [
        (lambda r: r["nodes"][0].update(capacity=3), "nodes[0].capacity", "unknown field"),
        (lambda r: r.update(layer=[]), "layer", "unknown field"),
        (lambda r: r["nodes"].append(dict(r["nodes"][1])), "nodes[7].node", "duplicate node 'A'"),
        (lambda r: r["links"].append(dict(r["links"][0])), "links[7].link", "duplicate link 'GA'"),
        (lambda r: r["links"][0].update(capacity=-1), "links[0].capacity", "greater than or equal to 0"),
        (lambda r: r["links"][0].update(to="Z"), "links[0].to", "not a node of layer 'power'"),
        (lambda r: r["links"][0].update(layer="gas"), "links[0].layer", "unknown layer 'gas'"),
        (
            lambda r: r["dependencies"][0].update(dependee="Q"),
            "dependencies[0].dependee",
            "not a node of layer",
        ),
        (lambda r: r["dependencies"][0].update(type="magic"), "dependencies[0].type", "physical"),
        (lambda r: r["dependencies"][0].update(loss=0), "dependencies[0].loss", "greater than 0"),
        (
            lambda r: r["dependencies"].append(dict(r["dependencies"][0])),
            "dependencies[2]",
            "duplicate dependency",
        ),
        (
            lambda r: r["element_spaces"][0].update(space="south"),
            "element_spaces[0].space",
            "not in the spaces",
        ),
        (lambda r: r["damage"][0].update(element="Z"), "damage[0].element", "node 'Z' is not in layer"),
        (
            lambda r: r["damage"][0].update(scenario="zz"),
            "damage[0].scenario",
            "not listed in damage_scenarios",
        ),
        (lambda r: r["links"].pop(0) and r["links"].pop(2), "nodes[0].demand", "supply node 'G'"),
        (lambda r: r["nodes"][0].pop("node"), "nodes[0].node", "Field required"),
        (lambda r: r["nodes"][2].update(tier=4), "nodes[2].tier", "less than or equal to 3"),
    ],
)
def test_bad_inline_input(tmp_path, edit, location, message):
    raw = toy_raw()
    edit(raw)
    err = _err(write_case(tmp_path, raw))
    assert err.file == str(tmp_path / "case.yaml")
    assert err.location == location
    assert message in err.message


def test_bad_csv_cell(tmp_path):
    def bad(rows):
        rows[2]["capacity"] = "lots"
        return rows

    err = _err(csv_case(tmp_path, bad))
    assert err.file == str(tmp_path / "links.csv")
    assert err.location == "row 3 (line 4), column 'capacity'"
    assert "valid number" in err.message and "'lots'" in err.message


def test_bad_csv_column_and_duplicate(tmp_path):
    def typo(rows):
        rows[0]["capacty"] = rows[0].pop("capacity")
        return rows

    err = _err(csv_case(tmp_path, typo))
    assert err.file.endswith("links.csv") and err.location == "line 1 (header), column 'capacty'"
    assert err.message.startswith("unknown field")

    d = tmp_path / "dup"
    d.mkdir()
    err = _err(csv_case(d, lambda rows: rows + [rows[3]]))
    assert err.location == "row 8 (line 9), column 'link'" and "duplicate link 'GC'" in err.message


def test_bad_csv_shape(tmp_path):
    p = csv_case(tmp_path)
    text = (tmp_path / "links.csv").read_text().splitlines()
    (tmp_path / "links.csv").write_text("\n".join([text[0], text[1] + ",9,9,9,9,9", *text[2:]]) + "\n")
    err = _err(p)
    assert err.location == "line 2" and "cells but the header has" in err.message
    (tmp_path / "links.csv").write_text("")
    assert "header row" in _err(p).message
    (tmp_path / "links.csv").unlink()
    err = _err(p)
    assert err.file.endswith("links.csv") and err.message == "table file not found"


def test_bundled_csv_missing(tmp_path):
    src = Path(load_infra_case("shelby-indp").path).parent
    dst = tmp_path / "indp"
    shutil.copytree(src, dst)
    (dst / "nodes.csv").write_text((dst / "nodes.csv").read_text().replace("water,7,", "water,7x,", 1))
    err = _err(dst)
    assert err.file.endswith("dependencies.csv") or err.file.endswith("links.csv")


def test_cli_validate(capsys, tmp_path):
    assert main(["infra", "validate", "shelby-indp", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] and [r["nodes"] for r in out["layers"]] == [49, 16, 60]
    raw = toy_raw()
    raw["links"][0]["capacity"] = -1
    assert main(["infra", "validate", str(write_case(tmp_path, raw))]) == 2
    err = capsys.readouterr().err
    assert "links[0].capacity" in err and "Traceback" not in err


def test_json_schema_export(tmp_path):
    docs = json_schemas()
    assert "infra_case" in docs and "from" in docs["infra_links"]["properties"]
    assert main(["infra", "schema", "--out", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "infra_nodes.schema.json").is_file()


# --------------------------------------------------------------------------- numbers are numbers
@pytest.mark.parametrize(
    "edit, location, message",
    [
        (lambda r: r["resources"][0].update(per_period="3"), "resources[0].per_period", "valid number"),
        (lambda r: r["nodes"][2].update(demand="-4"), "nodes[2].demand", "valid number (got '-4')"),
        (lambda r: r["links"][1].update(capacity=True), "links[1].capacity", "valid number (got True)"),
        (lambda r: r["links"][1].update(flow_cost="1"), "links[1].flow_cost", "valid number"),
        (lambda r: r["nodes"][0].update(tier=1.0), "nodes[0].tier", "valid integer (got 1.0)"),
        (lambda r: r["links"][0].update(two_way=1), "links[0].two_way", "valid boolean (got 1)"),
        (lambda r: r["dependencies"][0].update(loss="1"), "dependencies[0].loss", "valid number"),
        (lambda r: r["nodes"][2].update(demand=-2e12), "nodes[2].demand", "-2e+12 is beyond the limit"),
        (lambda r: r["links"][3].update(capacity=1e308), "links[3].capacity", "1e+308 is beyond the limit"),
        (lambda r: r["links"][3].update(repair_cost=1.5e12), "links[3].repair_cost", "beyond the limit"),
        (lambda r: r["nodes"][3].update(unmet_penalty=1e13), "nodes[3].unmet_penalty", "beyond the limit"),
        (lambda r: r["nodes"][0].update(demand=float("nan")), "nodes[0].demand", "finite number"),
        (lambda r: r["links"][0].update(capacity=float("inf")), "links[0].capacity", "finite number"),
        (lambda r: r["resources"][0].update(per_period=1e13), "resources[0].per_period", "beyond the limit"),
        (lambda r: r["nodes"][1].update(x=1e9), "nodes[1].x", "coordinate 1e+09 is beyond 1e+08"),
        (lambda r: r["nodes"][1].update(y=-1e308), "nodes[1].y", "coordinate -1e+308"),
        (
            lambda r: r.update(damage_scenarios=["a-down", "st-cut", "none", "st-cut"]),
            "damage_scenarios[3]",
            "'st-cut' is listed twice: damage_scenarios[1] has it too",
        ),
        (
            lambda r: r["damage"].append(dict(r["damage"][0])),
            "damage[2]",
            "duplicate row (scenario, kind, layer, element): damage[0] has it too",
        ),
        (
            lambda r: r["nodes"].append(dict(r["nodes"][1])),
            "nodes[7].node",
            "duplicate node 'A' in layer 'power': nodes[1] has it too",
        ),
        (
            lambda r: r["resources"].append(dict(r["resources"][0])),
            "resources[1].resource",
            "duplicate resource 'crew': resources[0] has it too",
        ),
    ],
)
def test_strict_numbers_limits_and_duplicates(tmp_path, edit, location, message):
    raw = toy_raw()
    edit(raw)
    err = _err(write_case(tmp_path, raw))
    assert err.file == str(tmp_path / "case.yaml")
    assert err.location == location
    assert message in err.message, err.message


def test_quoted_number_in_yaml_text_is_refused(tmp_path):
    """`per_period: '3'` written by hand (not via a dumper) is a string, refused."""
    text = TOY.read_text().replace("per_period: 2", "per_period: '3'")
    assert "per_period: '3'" in text
    p = tmp_path / "case.yaml"
    p.write_text(text)
    err = _err(p)
    assert err.location == "resources[0].per_period" and "(got '3')" in err.message


def test_a_sane_coordinate_and_the_limit_itself_pass(tmp_path):
    raw = toy_raw()
    raw["nodes"][0].update(x=-9.0e7, y=4.2e6)  # metres of a projected system
    raw["links"][0].update(capacity=1e12)
    c = load_infra_case(write_case(tmp_path, raw))
    assert c.nodes.loc[0, "x"] == -9.0e7 and c.links.loc[0, "capacity"] == 1e12


@pytest.mark.parametrize(
    "cell, message",
    [
        ("1e13", "1e+13 is beyond the limit of 1e+12"),
        ("nan", "finite number (got 'nan')"),
        ("inf", "finite number (got 'inf')"),
        ("-1", "greater than or equal to 0 (got '-1')"),
        ("1e400", "finite number (got '1e400')"),
    ],
)
def test_csv_numbers_name_file_row_line_column_and_value(tmp_path, cell, message):
    def bad(rows):
        rows[4]["capacity"] = cell
        return rows

    err = _err(csv_case(tmp_path, bad))
    assert err.file == str(tmp_path / "links.csv")
    assert err.location == "row 5 (line 6), column 'capacity'"
    assert message in err.message, err.message


def test_several_problems_first_line_and_an_indented_list(tmp_path):
    def bad(rows):
        rows[0]["capacity"] = "lots"
        rows[2]["flow_cost"] = "1e30"
        return rows

    p = csv_case(tmp_path, bad)
    raw = yaml.safe_load(p.read_text())
    raw["dependencies"][0]["loss"] = 2  # a record error in case.yaml too
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    err = _err(p)
    lines = str(err).splitlines()
    assert err.file.endswith("links.csv") and err.location == "row 1 (line 2), column 'capacity'"
    assert lines[0].endswith("[3 errors]") and "got 'lots'" in lines[0]
    assert lines[1].startswith("  row 3 (line 4), column 'flow_cost': 1e+30 is beyond the limit of 1e+12")
    assert lines[1].endswith("(got '1e30')")
    assert lines[2].startswith("  case.yaml dependencies[0].loss: Input should be less than or equal to 1")
    assert "; " not in lines[0].split(": ", 3)[-1].split(" [")[0]

    # rules across rows: all of them, in one message
    raw = toy_raw()
    raw["links"][0]["to"] = "Z"
    raw["nodes"].append(dict(raw["nodes"][1]))
    raw["dependencies"][1]["depender"] = "Q"
    (tmp_path / "inline").mkdir()
    err = _err(write_case(tmp_path / "inline", raw))
    lines = str(err).splitlines()
    assert "[3 errors in this file]" in lines[0] and err.location == "nodes[7].node"
    assert lines[1] == "  links[0].to: link end 'Z' is not a node of layer 'power'"
    assert lines[2] == "  dependencies[1].depender: depender 'Q' is not a node of layer 'power'"


def test_cli_validate_refuses_a_string_number(tmp_path, capsys):
    raw = toy_raw()
    raw["resources"][0]["per_period"] = "3"
    assert main(["infra", "validate", str(write_case(tmp_path, raw))]) == 2
    err = capsys.readouterr().err
    assert "case.yaml: resources[0].per_period: Input should be a valid number (got '3')" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- unservable demand
def test_validate_warns_about_demand_no_supply_reaches(tmp_path, capsys):
    raw = toy_raw()
    raw["nodes"].append({"layer": "water", "node": "V", "demand": -2.5})  # on no link
    raw["layers"].append({"layer": "gas", "commodity": "gas", "unit": "kcf"})
    raw["nodes"].append({"layer": "gas", "node": "g1", "demand": -1.0})  # a layer without supply
    raw["nodes"].append({"layer": "gas", "node": "g2", "demand": 0.0})
    raw["links"].append({"layer": "gas", "link": "g12", "from": "g1", "to": "g2", "capacity": 1})
    p = write_case(tmp_path, raw)
    assert main(["infra", "validate", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(u["layer"], u["demand"], u["nodes"]) for u in out["unservable"]] == [
        ("water", 2.5, ["V"]),
        ("gas", 1.0, ["g1"]),
    ]
    assert out["unservable"][0]["share"] == pytest.approx(2.5 / 9.5)
    assert len(out["warnings"]) == 2 and "the layer has no supply" in out["warnings"][1]
    assert "'water'" in out["warnings"][0] and ": V" in out["warnings"][0]
    # the bundled cases serve everything when intact
    assert load_infra_case("shelby-extended").summary()["warnings"] == []
