"""Override layers: a base case plus a small file; used wherever a case is."""

import shutil

import pandas as pd
import pytest
import yaml

from resiliopt.case import load_case
from resiliopt.errors import InputError
from resiliopt.simulation.montecarlo import simulate

BASE = load_case("beijing").path.parent


def _write(path, doc):
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_override_merges_values_and_items_by_id(tmp_path):
    ov = _write(
        tmp_path / "o.yaml",
        {
            "kind": "override",
            "base": str(BASE),
            "case": {"hazard": {"category_correlation": 0.5}, "logistics": {"total_resources": 120}},
            "network": {"links": {"ring2-01": {"capacity": 3.5}}},
        },
    )
    cd, base = load_case(ov), load_case("beijing")
    assert cd.case.hazard.category_correlation == 0.5 and cd.case.logistics.total_resources == 120
    assert cd.case.logistics.demand_per_thousand == base.case.logistics.demand_per_thousand
    links = {x.id: x.capacity for x in cd.network.links}
    base_links = {x.id: x.capacity for x in base.network.links}
    assert links.pop("ring2-01") == 3.5
    base_links.pop("ring2-01")
    assert links == base_links
    assert cd.name == "beijing+o" and cd.path == ov.resolve()
    # layers stack
    ov2 = _write(
        tmp_path / "o2.yaml",
        {"kind": "override", "base": "o.yaml", "name": "two", "case": {"hazard": {"pga": 0.3}}},
    )
    cd2 = load_case(ov2)
    assert cd2.case.hazard.pga == 0.3 and cd2.case.hazard.category_correlation == 0.5 and cd2.name == "two"


def test_simulation_of_an_override_equals_the_edited_copy(tmp_path):
    change = {"hazard": {"category_correlation": 1.0}, "logistics": {"capacity_factor": 0.3}}
    ov = _write(tmp_path / "o.yaml", {"kind": "override", "base": str(BASE / "case.yaml"), "case": change})
    copy = tmp_path / "copy"
    shutil.copytree(BASE, copy)
    doc = yaml.safe_load((copy / "case.yaml").read_text())
    doc["hazard"]["category_correlation"] = 1.0
    doc["logistics"]["capacity_factor"] = 0.3
    doc["name"] = "beijing+o"
    _write(copy / "case.yaml", doc)
    a = simulate(ov, 6, 2, 30, tmp_path / "a", workers=1, plots=False)
    b = simulate(copy, 6, 2, 30, tmp_path / "b", workers=1, plots=False)
    pd.testing.assert_frame_equal(a.slices, b.slices, check_exact=True)
    c = simulate("beijing", 6, 2, 30, tmp_path / "c", workers=1, plots=False)
    assert not a.slices["supply_rate"].equals(c.slices["supply_rate"])


@pytest.mark.parametrize(
    "doc, where, what",
    [
        (
            {"network": {"links": {"no-such-link": {"capacity": 1}}}},
            "network.links.no-such-link",
            "no item with id",
        ),
        ({"case": {"hazard": {"pgaa": 0.3}}}, "hazard.pgaa", "unknown field"),
        ({"network": {"links": {"ring2-01": {"capacity": -1}}}}, "links[", "greater than or equal"),
        ({"cases": {}}, "cases", "unknown field"),
    ],
)
def test_bad_overrides_name_the_file_and_field(tmp_path, run_cli, doc, where, what):
    ov = _write(tmp_path / "bad.yaml", {"kind": "override", "base": str(BASE), **doc})
    with pytest.raises(InputError) as e:
        load_case(ov)
    msg = str(e.value)
    assert "bad.yaml" in msg and where in msg and what in msg, msg
    code, _, err = run_cli("validate", ov)
    assert code == 2 and "Traceback" not in err


def test_override_cycle_is_refused(tmp_path):
    _write(tmp_path / "a.yaml", {"kind": "override", "base": "b.yaml"})
    _write(tmp_path / "b.yaml", {"kind": "override", "base": "a.yaml"})
    with pytest.raises(InputError, match="cycle"):
        load_case(tmp_path / "a.yaml")


def test_bundled_fig6_override_validates(run_cli):
    code, out, _ = run_cli("validate", BASE / "overrides" / "fig6-closest.yaml")
    assert code == 0 and "override" in out.split("valid")[-1]
    cd = load_case(BASE / "overrides" / "fig6-closest.yaml")
    assert cd.case.logistics.capacity_factor == 0.3 and cd.case.hazard.category_correlation == 1.0
