"""Every kind of bad input: one clear message naming file and field, exit code 2, no traceback."""

import shutil
from pathlib import Path

import pytest
import yaml

from resiliopt.case import bundled_data_dir


@pytest.fixture
def case_copy(tmp_path) -> Path:
    dst = tmp_path / "bj"
    shutil.copytree(bundled_data_dir() / "beijing", dst)
    return dst


def edit(path: Path, fn):
    d = yaml.safe_load(path.read_text())
    fn(d)
    path.write_text(yaml.safe_dump(d, sort_keys=False))


def check_error(run_cli, target, *needles):
    code, out, err = run_cli("validate", target)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err
    return err


def test_bundled_case_is_valid(run_cli):
    code, out, _ = run_cli("validate", "beijing")
    assert code == 0 and "valid case" in out


def test_beijing_matches_the_paper_counts():
    from resiliopt.case import load_case

    c = load_case("beijing")
    assert len(c.network.nodes) == 37 and len(c.network.links) == 56
    grades = [b.grade for b in c.bridges.bridges]
    assert grades.count("higher") == 13 and grades.count("lower") == 23
    assert sum(cat.count for cat in c.buildings.categories) == 150
    assert c.community.threshold == 0.87


@pytest.mark.parametrize(
    "mutate, needles",
    [
        (
            lambda d: d["links"][12].__setitem__("capacity", -5),
            ["network.yaml", "links[12].capacity", "greater than or equal to 0"],
        ),
        (lambda d: d["links"][12].__setitem__("capacity", float("nan")), ["links[12].capacity", "finite"]),
        (
            lambda d: d["links"][12].__setitem__("capacity", "lots"),
            ["links[12].capacity", "valid number", "'lots'"],
        ),
        (
            lambda d: d["links"][3].__setitem__("to", "NOWHERE"),
            ["links[3].to: refers to missing node 'NOWHERE'"],
        ),
        (lambda d: d["nodes"][5].__setitem__("id", d["nodes"][4]["id"]), ["duplicate node id"]),
        (lambda d: d["links"][0].__setitem__("colour", "red"), ["links[0].colour", "unknown field"]),
    ],
)
def test_network_errors(run_cli, case_copy, mutate, needles):
    edit(case_copy / "network.yaml", mutate)
    check_error(run_cli, case_copy / "network.yaml", *needles)
    check_error(run_cli, case_copy, *needles)  # and through the whole case


def test_dam_not_4x4(run_cli, case_copy):
    edit(case_copy / "community.yaml", lambda d: d["dam"].pop())
    check_error(run_cli, case_copy, "community.yaml", "dam", "4x4")


def test_dam_not_symmetric(run_cli, case_copy):
    edit(case_copy / "community.yaml", lambda d: d["dam"][0].__setitem__(1, 0.5))
    check_error(run_cli, case_copy, "community.yaml", "not symmetric", "[0][1]")


def test_share_outside_unit_interval(run_cli, case_copy):
    edit(case_copy / "buildings.yaml", lambda d: d["node_shares"].__setitem__("R2-01", 1.5))
    check_error(run_cli, case_copy, "buildings.yaml", "node_shares.R2-01", "less than or equal to 1")


def test_bridge_on_missing_node(run_cli, case_copy):
    edit(case_copy / "bridges.yaml", lambda d: d["bridges"][7].__setitem__("node", "X"))
    check_error(run_cli, case_copy, "bridges.yaml", "bridges[7].node", "'X'")


def test_yaml_syntax_error(run_cli, tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("kind: slice\narcs: [\n")
    check_error(run_cli, p, "bad.yaml", "invalid YAML", "line")


def test_missing_file(run_cli, tmp_path):
    code, _, err = run_cli("slice", tmp_path / "nope.yaml")
    assert code == 2 and "nope.yaml" in err


@pytest.mark.parametrize(
    "mutate, needles",
    [
        (lambda d: d["arcs"][1].__setitem__("capacity", -1), ["arcs[1].capacity"]),
        (lambda d: d["groups"][0].__setitem__("node", "zz"), ["groups[0].node: 'zz' is not on any arc"]),
        (lambda d: d.__setitem__("total_resources", "x"), ["total_resources", "valid number"]),
        (lambda d: d["arcs"].append(dict(d["arcs"][0])), ["arcs[3]: repeats the arc RR -> n1 of arcs[0]"]),
        (lambda d: d.pop("arcs"), ["arcs", "Field required"]),
    ],
)
def test_slice_file_errors(run_cli, data_dir, tmp_path, mutate, needles):
    p = tmp_path / "s.yaml"
    p.write_text((data_dir / "slice_small.yaml").read_text())
    edit(p, mutate)
    code, out, err = run_cli("slice", p)
    assert code == 2 and out == ""
    for n in needles:
        assert n in err, err


def test_unknown_case_name(run_cli):
    code, _, err = run_cli("slice", "atlantis")
    assert code == 2 and "bundled: beijing" in err


def test_schema_export(run_cli, tmp_path):
    import json

    code, out, _ = run_cli("schema", "network")
    assert code == 0
    doc = json.loads(out)
    assert "links" in doc["properties"]
    code, _, _ = run_cli("schema", "--out", tmp_path / "schemas")
    assert code == 0
    assert {p.name for p in (tmp_path / "schemas").iterdir()} >= {"case.schema.json", "slice.schema.json"}
    code, _, err = run_cli("schema", "nonsense")
    assert code == 2 and "nonsense" in err
