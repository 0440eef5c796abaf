"""Issue 8: nonsense is refused, not solved; good edge cases still work.

Each rule is checked through the CLI in-process: exit 2, a first line naming the file and the
field, the rule in words, and no traceback. docs/formats.md lists the same rules.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from resiliopt.case import bundled_data_dir


@pytest.fixture
def bj(tmp_path) -> Path:
    dst = tmp_path / "bj"
    shutil.copytree(bundled_data_dir() / "beijing", dst)
    return dst


def edit(path: Path, fn) -> Path:
    d = yaml.safe_load(path.read_text())
    fn(d)
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


def slice_file(tmp_path, data_dir, fn=None, text=None) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(text if text is not None else (data_dir / "slice_small.yaml").read_text())
    return edit(p, fn) if fn else p


def refused(run_cli, *args, needles=()):
    code, out, err = run_cli(*args)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    first = err.splitlines()[0]
    for n in needles:
        assert n in err, err
    return first, err


def both(run_cli, target, needles, variant=None):
    """``validate`` and ``slice`` refuse alike."""
    first, _ = refused(run_cli, "validate", target, needles=needles)
    args = ["slice", target] + (["--variant", variant] if variant else [])
    first2, _ = refused(run_cli, *args, needles=needles)
    return first


# --------------------------------------------------------------------------- slice files
def test_source_on_no_arc(run_cli, tmp_path, data_dir):
    p = slice_file(tmp_path, data_dir, lambda d: d.__setitem__("source", "RX"))
    first = both(run_cli, p, ["s.yaml", "source", "no arc leaves the source 'RX'"])
    assert first.startswith(f"error: {p}: source:")


def test_sink_on_no_arc(run_cli, tmp_path, data_dir):
    p = slice_file(tmp_path, data_dir, lambda d: d.__setitem__("sink", "RZ"))
    both(run_cli, p, ["sink", "no arc touches the sink 'RZ'"])


def test_unknown_slice_field(run_cli, tmp_path, data_dir):
    """A typo ``sourse:`` used to solve to objective 0."""
    p = slice_file(tmp_path, data_dir, lambda d: d.__setitem__("sourse", d.pop("source")))
    both(run_cli, p, ["s.yaml", "sourse", "unknown field"])
    p = slice_file(tmp_path, data_dir, lambda d: d["groups"][1].__setitem__("gian", 0.1))
    both(run_cli, p, ["groups[1].gian", "unknown field"])


def test_same_arc_twice_names_both(run_cli, tmp_path, data_dir):
    def dup(d):
        d["arcs"].append({"from": "n1", "to": "n2", "capacity": 7})

    p = slice_file(tmp_path, data_dir, dup)
    both(run_cli, p, ["arcs[3]", "repeats the arc n1 -> n2 of arcs[1]"])


def test_same_group_twice_names_both(run_cli, tmp_path, data_dir):
    p = slice_file(tmp_path, data_dir, lambda d: d["groups"].append(dict(d["groups"][0])))
    both(run_cli, p, ["groups[3].id", "groups[0] has it too"])


def test_duplicate_yaml_key(run_cli, tmp_path, data_dir):
    text = (
        (data_dir / "slice_small.yaml")
        .read_text()
        .replace("total_resources: 400\n", "total_resources: 400\ntotal_resources: 40\n")
    )
    p = slice_file(tmp_path, data_dir, text=text)
    first = both(run_cli, p, ["line 5", "'total_resources' is given twice", "first on line 4"])
    assert "s.yaml" in first


def test_nested_duplicate_key(run_cli, tmp_path, data_dir):
    text = "kind: slice\ntotal_resources: 3\narcs:\n  - {from: RR, to: a, capacity: 1, capacity: 9}\n"
    p = slice_file(tmp_path, data_dir, text=text)
    both(run_cli, p, ["line 4", "'capacity' is given twice"])


@pytest.mark.parametrize("value", [1e308, 1e20, 2e12, float("inf")])
def test_huge_capacity(run_cli, tmp_path, data_dir, value):
    """1e308 capacities gave "unbounded"."""
    p = slice_file(tmp_path, data_dir, lambda d: d["arcs"][0].__setitem__("capacity", value))
    _, err = refused(run_cli, "slice", p, needles=["arcs[0].capacity"])
    assert "1e+12" in err or "finite" in err


@pytest.mark.parametrize("value", ["400", True, [400]])
def test_numbers_are_numbers(run_cli, tmp_path, data_dir, value):
    p = slice_file(tmp_path, data_dir, lambda d: d.__setitem__("total_resources", value))
    refused(run_cli, "slice", p, needles=["total_resources", "valid number"])


def test_exponent_without_dot_is_a_number(run_cli, tmp_path, data_dir):
    """PyYAML reads ``1e3`` as a string; resiliopt's loader reads it as YAML 1.2 does."""
    text = (data_dir / "slice_small.yaml").read_text().replace("total_resources: 400", "total_resources: 4e2")
    code, out, err = run_cli("slice", slice_file(tmp_path, data_dir, text=text), "--json")
    assert code == 0, err
    assert json.loads(out)["total_resources"] == 400


def test_negative_gain(run_cli, tmp_path, data_dir):
    p = slice_file(tmp_path, data_dir, lambda d: d["groups"][0].__setitem__("gain", -0.1))
    both(run_cli, p, ["groups[0].gain", "greater than or equal to 0"])


def test_every_error_is_listed(run_cli, tmp_path, data_dir):
    def many(d):
        d["arcs"][0]["capacity"] = -1
        d["arcs"][1]["colour"] = "red"
        d["groups"][2]["gain"] = "x"
        d["total_resources"] = float("nan")

    p = slice_file(tmp_path, data_dir, many)
    first, err = refused(run_cli, "validate", p)
    assert "[4 errors in this file]" in first
    for n in ("total_resources", "arcs[0].capacity", "arcs[1].colour", "groups[2].gain"):
        assert n in err


def test_error_list_is_capped(run_cli, tmp_path, data_dir):
    arcs = [{"from": "RR", "to": f"n{i}", "capacity": -1} for i in range(30)]
    p = slice_file(tmp_path, data_dir, lambda d: d.__setitem__("arcs", arcs))
    _, err = refused(run_cli, "validate", p)
    assert "[30 errors in this file]" in err and "... and 10 more" in err
    assert len(err.strip().splitlines()) == 21


# --------------------------------------------------------------------------- the case
def test_empty_entry_list(run_cli, bj):
    edit(bj / "network.yaml", lambda d: d["entry"].__setitem__("nodes", []))
    both(run_cli, bj, ["network.yaml", "entry.nodes", "at least 1"])


def test_same_link_twice_names_both(run_cli, bj):
    def dup(d):
        first = d["links"][4]
        d["links"].append({"id": "again", "from": first["to"], "to": first["from"], "capacity": 5})

    edit(bj / "network.yaml", dup)
    both(run_cli, bj, ["network.yaml", "links[56]", "of links[4]"])


def test_repeated_entry_node(run_cli, bj):
    d = edit(bj / "network.yaml", lambda d: d["entry"]["nodes"].append(d["entry"]["nodes"][0]))
    k = len(yaml.safe_load(d.read_text())["entry"]["nodes"]) - 1
    both(run_cli, bj, [f"entry.nodes[{k}]", "repeats 'R5-01' of entry.nodes[0]"])


def test_two_bridges_on_one_node(run_cli, bj):
    edit(bj / "bridges.yaml", lambda d: d["bridges"][1].__setitem__("node", d["bridges"][0]["node"]))
    both(run_cli, bj, ["bridges.yaml", "bridges[1].node", "already carries bridges[0]"])


@pytest.mark.parametrize(
    "file, fn, needles",
    [
        ("case.yaml", lambda d: d["recovery"].__setitem__("bridge_repair_days", {"sever": 10}), ["sever"]),
        ("case.yaml", lambda d: d["hazard"].__setitem__("pgaa", 0.3), ["hazard.pgaa", "unknown field"]),
        (
            "case.yaml",
            lambda d: d["variants"]["bridges"].__setitem__("upgrade_bridge", []),
            ["upgrade_bridge"],
        ),
        ("network.yaml", lambda d: d["entry"].__setitem__("capacty", 1), ["entry.capacty"]),
        ("bridges.yaml", lambda d: d["grades"]["higher"].__setitem__("zetta", 1), ["grades.higher.zetta"]),
        ("buildings.yaml", lambda d: d["categories"][3].__setitem__("cnt", 1), ["categories[3].cnt"]),
        ("community.yaml", lambda d: d.__setitem__("treshold", 0.8), ["treshold"]),
    ],
)
def test_unknown_field_anywhere(run_cli, bj, file, fn, needles):
    edit(bj / file, fn)
    both(run_cli, bj, [file, *needles])


def test_duplicate_key_in_case(run_cli, bj):
    p = bj / "case.yaml"
    p.write_text(p.read_text().replace("  slice_days: 1\n", "  slice_days: 1\n  slice_days: 2\n"))
    both(run_cli, bj, ["case.yaml", "'slice_days' is given twice"])


@pytest.mark.parametrize(
    "plan, needles",
    [
        ({"X9": {8: 1.0}}, ["variants.buildings.building_plan.X9", "unknown category"]),
        ({"B6": {9: 1.0}}, ["building_plan.B6[9]", "no response coefficient"]),
        ({"B6": {12: 1.0}}, ["building_plan.B6", "less than or equal to 9"]),
        ({"B6": {7: 0.7, 8: 0.6}}, ["building_plan.B6", "sum to 1.3"]),
        ({"B6": {7: 1.5}}, ["building_plan.B6[7]", "less than or equal to 1"]),
        ({"B7": {6: 1.0}}, ["building_plan.B7[6]", "not above the design level 7"]),
        ({"B7": {7: 0.5}}, ["building_plan.B7[7]", "not above the design level 7"]),
    ],
)
def test_variant_rules(run_cli, bj, plan, needles):
    """validate checks every variant as slice --variant does."""
    edit(bj / "case.yaml", lambda d: d["variants"]["buildings"].__setitem__("building_plan", plan))
    both(run_cli, bj, ["case.yaml", *needles], variant="buildings")


def test_unknown_bridge_in_variant(run_cli, bj):
    edit(
        bj / "case.yaml", lambda d: d["variants"]["bridges"].__setitem__("upgrade_bridges", ["B-R2-01", "Q"])
    )
    both(run_cli, bj, ["variants.bridges.upgrade_bridges[1]", "unknown bridge 'Q'"])


def test_variant_none_changes_nothing(run_cli, bj):
    edit(bj / "case.yaml", lambda d: d["variants"]["none"].__setitem__("upgrade_bridges", "all"))
    both(run_cli, bj, ["variants.none", "as built"])


@pytest.mark.parametrize(
    "file, fn, needles",
    [
        ("case.yaml", lambda d: d["hazard"].__setitem__("pga", []), ["hazard.pga", "at least 1"]),
        ("case.yaml", lambda d: d["hazard"].__setitem__("pga", 50), ["hazard.pga", "10"]),
        ("buildings.yaml", lambda d: d.__setitem__("node_shares", {}), ["node_shares", "at least 1"]),
        ("buildings.yaml", lambda d: d["categories"][0].__setitem__("count", 1e400), ["count", "finite"]),
        ("buildings.yaml", lambda d: d["categories"][0].__setitem__("count", 10**30), ["count", "1e+12"]),
        (
            "network.yaml",
            lambda d: d["links"][0].__setitem__("capacity", 1e308),
            ["links[0].capacity", "1e+12"],
        ),
        ("case.yaml", lambda d: d["recovery"].__setitem__("slice_days", 10**30), ["slice_days", "366"]),
        ("network.yaml", lambda d: d["nodes"][0].__setitem__("ring", 10**30), ["nodes[0].ring"]),
        (
            "case.yaml",
            lambda d: (
                d["logistics"].__setitem__("total_resources", 1e10),
                d["recovery"].update(slice_days=365),
            ),
            ["recovery.slice_days", "per slice"],
        ),
    ],
)
def test_limits(run_cli, bj, file, fn, needles):
    edit(bj / file, fn)
    both(run_cli, bj, [file, *needles])


def test_missing_referenced_file(run_cli, bj):
    (bj / "bridges.yaml").unlink()
    both(run_cli, bj, ["case.yaml", "bridges", "'bridges.yaml' not found"])


# --------------------------------------------------------------------------- good edge cases
def test_one_bridge(run_cli, bj):
    edit(bj / "bridges.yaml", lambda d: d.__setitem__("bridges", d["bridges"][:1]))
    code, out, err = run_cli("slice", bj, "--json", "--variant", "bridges")
    assert code == 0, err
    assert json.loads(out)["certificate"]["passed"]


def test_zero_resources(run_cli, bj, tmp_path, data_dir):
    edit(bj / "case.yaml", lambda d: d["logistics"].__setitem__("total_resources", 0))
    for target in (bj, slice_file(tmp_path, data_dir, lambda d: d.__setitem__("total_resources", 0))):
        code, out, err = run_cli("slice", target, "--json")
        assert code == 0, err
        d = json.loads(out)
        assert d["objective"] == 0 and d["delivered"] == 0 and d["certificate"]["passed"]


def test_default_sink_on_no_arc_is_fine(run_cli, data_dir):
    code, _, err = run_cli("validate", data_dir / "slice_small.yaml")  # sink: RS, on no arc
    assert code == 0, err


@pytest.mark.parametrize(
    "criteria, matrix, weights",
    [
        (["A"], [[0.5]], [1.0]),
        # default a = (n-1)/2: w_i = (r_i + n/2 - 1) / (n(n-1)), r = (1.2, 0.8)
        (["A", "B"], [[0.5, 0.7], [0.3, 0.5]], [0.6, 0.4]),
    ],
)
def test_small_fahp_matrices(run_cli, tmp_path, criteria, matrix, weights):
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump({"criteria": criteria, "matrix": matrix}))
    code, out, err = run_cli("fahp", p, "--json")
    assert code == 0, err
    w = json.loads(out)["weights"]
    assert sum(w.values()) == pytest.approx(1.0)
    assert list(w.values()) == pytest.approx(weights)
    code, out, err = run_cli("validate", p)
    assert code == 0 and "valid matrix" in out


# --------------------------------------------------------------------------- validate / schema
@pytest.mark.parametrize(
    "name, kind",
    [
        ("cups/indicators.yaml", "tree"),
        ("cups/sz.yaml", "site"),
        ("cups/illustrative_a.yaml", "site"),
        ("cups/matrix_people.yaml", "matrix"),
        ("cups/matrix_experts.yaml", "matrix"),
        ("beijing/network.yaml", "network"),
        ("infra/shelby-indp", "infra_case"),
    ],
)
def test_validate_every_bundled_kind(run_cli, name, kind):
    code, out, err = run_cli("validate", bundled_data_dir() / name)
    assert code == 0, err
    assert f"valid {kind}" in out


def test_validate_fahp_files_refuse(run_cli, tmp_path):
    code, _, err = run_cli("validate", bundled_data_dir() / "cups" / "matrix_bad.yaml")
    assert code == 2 and "not complementary" in err and "matrix[row 'Staff', col 'Policeman']" in err
    site = yaml.safe_load((bundled_data_dir() / "cups" / "sz.yaml").read_text())
    site["scores"][28] = 150
    p = tmp_path / "site.yaml"
    p.write_text(yaml.safe_dump(site, sort_keys=False))
    code, _, err = run_cli("validate", p)
    assert code == 2 and "site.yaml" in err and "scores[28]" in err
    site["scorse"] = site.pop("scores")
    p.write_text(yaml.safe_dump(site, sort_keys=False))
    code, _, err = run_cli("validate", p)
    assert code == 2 and "scorse" in err and "unknown field" in err


def test_wrong_kind_of_file_is_named(run_cli, tmp_path):
    cups = bundled_data_dir() / "cups"
    _, err = refused(run_cli, "fahp", cups / "sz.yaml")
    assert "this is a site file; `resiliopt fahp` needs a matrix file" in err
    _, err = refused(run_cli, "assess", cups / "sz.yaml", cups / "indicators.yaml")
    assert "sz.yaml: kind: this is a site file" in err
    p = tmp_path / "k.yaml"
    p.write_text("kind: [slice]\n")
    refused(run_cli, "validate", p, needles=["k.yaml: kind: unknown or missing kind"])


def test_schema_covers_every_kind(run_cli):
    code, out, _ = run_cli("schema")
    assert code == 0
    docs = json.loads(out)
    logistics = {"case", "network", "bridges", "buildings", "community", "slice"}
    assert set(docs) == logistics | {"matrix", "tree", "site", "infra_case", "override"}
    for doc in docs.values():  # every object in every schema forbids unknown fields
        for sub in [doc, *doc.get("$defs", {}).values()]:
            if sub.get("type") == "object" and "properties" in sub:
                assert sub.get("additionalProperties") is False, sub.get("title")


def test_read_yaml(tmp_path):
    """One loader for every file: C parser, duplicate keys refused, merge keys kept, 1e5 a number."""
    import yaml as pyyaml

    from resiliopt._yaml import StrictLoader, read_yaml
    from resiliopt.errors import InputError

    if hasattr(pyyaml, "CSafeLoader"):
        assert issubclass(StrictLoader, pyyaml.CSafeLoader)
    p = tmp_path / "a.yaml"
    p.write_text("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\nn: [1e5, 2.5E-3, -1e+2, 7, '1e5']\n")
    assert read_yaml(p) == {
        "base": {"x": 1, "y": 2},
        "m": {"x": 1, "y": 3},
        "n": [1e5, 2.5e-3, -100.0, 7, "1e5"],
    }
    p.write_text("a:\n  - {k: 1}\n  - k: 2\n    j: 0\n    k: 3\n")
    with pytest.raises(InputError, match=r"line 5, column 5: .*'k' is given twice .*first on line 3"):
        read_yaml(p)
