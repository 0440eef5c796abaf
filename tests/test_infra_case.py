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
