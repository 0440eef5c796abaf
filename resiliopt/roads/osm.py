r"""An OpenStreetMap file (``.osm.pbf``, ``.osm`` XML) turned into a logistics case.

:func:`case_from_osm` reads the file (:mod:`~resiliopt.roads.osm_read`, osmium), builds the
drivable network simplified to intersections with capacities and bridges
(:mod:`~resiliopt.roads.osm_network`), measures and places the buildings
(:mod:`~resiliopt.roads.osm_buildings`), sets a scenario earthquake
(:mod:`~resiliopt.roads.ground_motion`) and writes a case in the existing format
(``case.yaml``, ``network.yaml`` with ``nodes.csv`` / ``links.csv``, ``bridges.yaml``,
``buildings.yaml``, ``community.yaml``) and ``import.md`` (:mod:`~resiliopt.roads.osm_report`).
:func:`import_roads` also takes the GraphML that OSMnx writes (:mod:`~resiliopt.roads.graphml`).

What comes from the paper (through the template case, by default the bundled ``beijing``):
the fragility of every sector at every design level (Table 1), b, zeta, theta_cr and the
damage thresholds, the bridge grades, thresholds and capacity loss (Table 2), the repair
times and bridge repair, 5 units per 1000 buildings per day, the DAM and the threshold 0.87.

The six OSM categories and the paper's four sectors (:data:`SECTOR_OF`): residential ->
residential; commercial and industrial -> business; education -> education; health ->
public; other -> ``other_sector`` (default residential). A building category here is one
OSM category at one design level (default 6, the weakest of Table 1: OSM says nothing
about seismic design), with the Table 1 coefficient ``a`` and retrofit cost of its sector
at that level. A category's groups are its floor area at each road node: it carries its own
``node_shares`` (schema: docs/formats.md). Sizes are counted in *building equivalents* of
``equivalent_m2`` m^2 of floor area (default 1000), in thousands as the paper counts
buildings, so that the paper's "5 units per 1000 buildings per day" applies.

Hazard. With an epicentre and a magnitude: ``hazard.pga`` is the median PGA of Boore and
Atkinson (2008) at the *site*, the floor-area-weighted centroid of the buildings, at the
epicentral distance (taken as the Joyner-Boore distance: a point source), and
``hazard.ground_motion`` carries BA08's between- and within-event standard deviations
(tau, phi) with the Jayaram-Baker range 40.7 km (``variability=False``: tau = phi = 0).
The case format has one scenario PGA, so the median's change across the city is not
represented; import.md gives its range over the road nodes. Without an epicentre: the
paper's 0.25 g (or ``pga``).

Total resources TR: the expected day-0 demand at the scenario (as beijing's TR is "about
the median day-0 demand"):

.. math::

    TR = \sum_c 5\,N_c\,\left[P(\theta_c \ge \theta_{moderate}) -
    P(\theta_c \ge \theta_{collapse})\right], \quad
    \ln\theta_c \sim N(\ln a_c + b \ln PGA,\ \zeta^2 + b^2(\tau^2 + \phi^2))

(collapse is a permanent loss and demands nothing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from resiliopt import hazard
from resiliopt._atomic import atomic_directory, check_output_dir
from resiliopt._tables import write_csv
from resiliopt.case import load_case
from resiliopt.errors import InputError
from resiliopt.roads import ground_motion as gm
from resiliopt.roads.graphml import case_from_graphml
from resiliopt.roads.osm_buildings import CATEGORIES, SECTOR_OF, assign_nodes, measure
from resiliopt.roads.osm_network import DRIVABLE, CapacityRule, Projection, build_network, node_key
from resiliopt.roads.osm_read import read_osm
from resiliopt.roads.osm_report import write_import_md

PAPER_PGA = 0.25  # paper 004, 4.3
RANGE_KM = 40.7  # Jayaram and Baker (2009), PGA, site conditions not clustered
BRIDGE_GRADE = "lower"
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Earthquake:
    """A scenario earthquake: epicentre (degrees), moment magnitude, site class."""

    latitude: float
    longitude: float
    magnitude: float
    vs30: float = 760.0  # m/s; 760: BA08's reference rock (NEHRP B/C boundary), no site term
    mechanism: str = "unspecified"
    variability: bool = False  # True: BA08's tau and phi become the case's ground-motion terms

    def check(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise InputError(
                f"epicentre {self.latitude}, {self.longitude} is not a latitude, longitude",
                location="epicentre",
            )
        if not 4.0 <= self.magnitude <= 8.5:
            raise InputError(
                f"magnitude {self.magnitude} is outside BA08's range 4 to 8.5 (moment magnitude)",
                location="magnitude",
            )
        if not 180.0 <= self.vs30 <= 1300.0:
            raise InputError(f"vs30 {self.vs30} m/s is outside BA08's range 180 to 1300 m/s", location="vs30")
        if self.mechanism not in gm.MECHANISMS:
            raise InputError(
                f"mechanism {self.mechanism!r} is not one of {', '.join(gm.MECHANISMS)}", location="mechanism"
            )


@dataclass(frozen=True)
class ImportOptions:
    """Every assumption of the import with its default (each is written to import.md)."""

    name: str | None = None
    earthquake: Earthquake | None = None
    pga: float | None = None  # without an earthquake: this PGA (default the paper's 0.25 g)
    template: str = "beijing"
    design_level: int = 6
    equivalent_m2: float = 1000.0
    default_levels: float | None = None  # None: the median of the file's tagged buildings
    other_sector: str = "residential"
    max_building_distance_m: float = 500.0
    entry_share: float = 0.05
    capacity: CapacityRule = field(default_factory=CapacityRule)


def _round(x: float, digits: int = 6) -> float:
    return float(round(float(x), digits))


def _dump(path: Path, doc: dict, header: str) -> None:
    text = yaml.dump(doc, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + text, encoding="utf-8")


def _template(opts: ImportOptions):
    tpl = load_case(opts.template)
    bl = tpl.buildings
    cost = {(c.sector, c.design_level): c.retrofit_cost for c in bl.categories}
    sectors = sorted({SECTOR_OF[c] if c != "other" else opts.other_sector for c in CATEGORIES})
    for sec in sectors:
        if opts.design_level not in bl.level_a.get(sec, {}) or (sec, opts.design_level) not in cost:
            raise InputError(
                f"the template has no coefficient a or retrofit cost for {sec} at design level "
                f"{opts.design_level}",
                tpl.path,
                f"level_a.{sec}",
            )
    if BRIDGE_GRADE not in tpl.bridges.grades:
        raise InputError(f"the template has no bridge grade {BRIDGE_GRADE!r}", tpl.path, "grades")
    return tpl, cost


def _hazard(opts: ImportOptions, site_lonlat, node_lonlat) -> dict:
    eq = opts.earthquake
    if eq is None:
        pga = PAPER_PGA if opts.pga is None else float(opts.pga)
        if not 0 < pga <= 10:
            raise InputError(f"PGA {pga} g is outside (0, 10] g", location="--pga")
        return {"pga": pga, "tau": 0.0, "phi": 0.0, "source": "given" if opts.pga is not None else "paper"}
    eq.check()
    r = gm.distance_km(eq.latitude, eq.longitude, site_lonlat[1], site_lonlat[0])
    pga = gm.ba08_pga(eq.magnitude, r, eq.vs30, eq.mechanism)
    dists = [gm.distance_km(eq.latitude, eq.longitude, lat, lon) for lon, lat in node_lonlat]
    at_nodes = sorted(gm.ba08_pga(eq.magnitude, d, eq.vs30, eq.mechanism) for d in dists)
    tau, phi = gm.ba08_sigmas(eq.mechanism) if eq.variability else (0.0, 0.0)
    if not 1e-4 <= pga <= 10:
        raise InputError(
            f"the scenario's median PGA {pga:.3g} g at the city is outside [0.0001, 10] g "
            f"(epicentre {r:.1f} km away)",
            location="--epicentre",
        )
    return {
        "pga": _round(pga, 4),
        "pga_exact": pga,
        "distance_km": r,
        "tau": tau,
        "phi": phi,
        "node_pga": (at_nodes[0], at_nodes[len(at_nodes) // 2], at_nodes[-1]),
        "node_distance": (min(dists), max(dists)),
        "source": "ba08",
    }


def _expected_demand(
    categories: list[dict], bl, pga: float, sigma_ln_pga: float, per_thousand: float
) -> float:
    tot = math.sqrt(bl.zeta**2 + (bl.b * sigma_ln_pga) ** 2)
    th = bl.thresholds
    d = 0.0
    for c in categories:
        p = hazard.exceedance(c["a"], pga, bl.b, tot, th.moderate) - hazard.exceedance(
            c["a"], pga, bl.b, tot, th.collapse
        )
        d += per_thousand * c["count"] * float(p)
    return d


def case_from_osm(path: str | Path, out: str | Path, opts: ImportOptions | None = None) -> dict:
    """Read an OSM file and write a case into ``out``; returns what was done (for import.md and
    the command line). Raises :class:`InputError` (nothing written) on bad input."""
    opts = opts or ImportOptions()
    if opts.other_sector not in ("residential", "business", "education", "public"):
        raise InputError(
            f"other_sector {opts.other_sector!r} is not a sector of the paper", location="--other-sector"
        )
    if not opts.equivalent_m2 > 0:
        raise InputError("the floor area of a building equivalent must be > 0", location="--equivalent-m2")
    if opts.earthquake is not None:
        opts.earthquake.check()
    path = Path(path)
    tpl, cost = _template(opts)
    data = read_osm(path)
    if not any(w.tags["highway"] in DRIVABLE for w in data.ways):
        raise InputError(
            f"no drivable road: none of its {len(data.ways)} highway ways has highway = one of "
            f"{', '.join(DRIVABLE)}",
            path,
            "highway",
        )
    lonlat = [data.lonlat[k] for k in sorted(data.lonlat)]
    if data.bbox is not None:
        lon0, lat0 = (data.bbox[0] + data.bbox[2]) / 2.0, (data.bbox[1] + data.bbox[3]) / 2.0
    else:
        lon0 = (min(p[0] for p in lonlat) + max(p[0] for p in lonlat)) / 2.0
        lat0 = (min(p[1] for p in lonlat) + max(p[1] for p in lonlat)) / 2.0
    proj = Projection(lon0, lat0)
    net = build_network(data, proj, opts.capacity, opts.entry_share)
    counts = {**data.counts, **net.counts}
    if len(net.nodes) < 2 or not net.arcs:
        raise InputError(
            "no drivable network is left after the rules (docs/import.md): "
            + "; ".join(f"{k}: {v}" for k, v in sorted(net.counts.items())),
            path,
            "highway",
        )

    def count(k: str, n: int = 1) -> None:
        counts[k] = counts.get(k, 0) + n

    rows, levels_default = measure(data.buildings, proj, opts.default_levels, count)
    candidates = [n for n in net.nodes if n not in net.carriers]
    rows = assign_nodes(rows, candidates, net.xy, opts.max_building_distance_m, count)
    if not rows:
        raise InputError("no building: no building=* area with a footprint near the roads", path, "building")

    sector_of = {**SECTOR_OF, "other": opts.other_sector}
    bl = tpl.buildings
    per_cat: dict[str, dict] = {c: {} for c in CATEGORIES}
    at_node: dict = {}
    for r in rows:
        per_cat[r.category][r.node] = per_cat[r.category].get(r.node, 0.0) + r.floor_m2
        at_node[r.node] = at_node.get(r.node, 0.0) + r.floor_m2
    categories = []
    level = opts.design_level
    for c in CATEGORIES:
        floor = per_cat[c]
        total = sum(floor.values())
        if total <= 0:
            continue
        sec = sector_of[c]
        shares = {str(n): _round(floor[n] / total, 12) for n in sorted(floor, key=node_key)}
        categories.append(
            {
                "id": c,
                "sector": sec,
                "count": _round(total / opts.equivalent_m2 / 1000.0, 9),
                "a": bl.level_a[sec][level],
                "design_level": level,
                "retrofit_cost": cost[(sec, level)],
                "node_shares": {n: s for n, s in shares.items() if s > 0},
            }
        )
    total_floor = sum(at_node.values())
    node_shares = {str(n): _round(at_node[n] / total_floor, 12) for n in sorted(at_node, key=node_key)}

    sx = sum(r.x * r.floor_m2 for r in rows) / total_floor
    sy = sum(r.y * r.floor_m2 for r in rows) / total_floor
    site = proj.inverse(sx, sy)
    hz = _hazard(opts, site, [proj.inverse(*net.xy[n]) for n in net.nodes])
    hz["site"] = site
    lg = tpl.case.logistics
    tr = _expected_demand(categories, bl, hz["pga"], math.hypot(hz["tau"], hz["phi"]), lg.demand_per_thousand)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = opts.name or path.name.split(".")[0].lower()
    links = _write_network(out, net)
    bridges = _write_bridges(out, net, tpl)
    groups = sum(len(c["node_shares"]) for c in categories)
    header = (
        f"# Generated by `resiliopt import osm` from {path.name} (OpenStreetMap data (c) OpenStreetMap "
        "contributors, ODbL 1.0).\n# Every rule and assumption, with its value: import.md beside this file.\n"
    )
    b_doc = {
        "kind": "buildings",
        "b": bl.b,
        "zeta": bl.zeta,
        "theta_cr": bl.theta_cr,
        "thresholds": bl.thresholds.model_dump(mode="json"),
        "categories": categories,
        "level_a": {k: {int(lv): a for lv, a in v.items()} for k, v in bl.level_a.items()},
        "node_shares": node_shares,
    }
    _dump(out / "buildings.yaml", b_doc, header)
    _dump(out / "community.yaml", tpl.community.model_dump(mode="json"), header)
    variants = {"none": {"description": "as built"}}
    up = level + 1
    if all(up in bl.level_a.get(c["sector"], {}) for c in categories):
        variants["buildings"] = {
            "description": f"every category from design level {level} to {up} (Table 1's a at level {up})",
            "building_plan": {c["id"]: {up: 1.0} for c in categories},
        }
    variants["bridges"] = {
        "description": f"every bridge to grade {tpl.bridges.upgrade_to}",
        "upgrade_bridges": "all",
    }
    case_doc = {
        "kind": "case",
        "name": name,
        "description": f"{path.name}: OpenStreetMap roads and buildings ({len(net.nodes)} road nodes, "
        f"{len(rows)} buildings, {len(bridges)} bridges), imported by resiliopt import osm",
        "network": "network.yaml",
        "bridges": "bridges.yaml",
        "buildings": "buildings.yaml",
        "community": "community.yaml",
        "hazard": {
            "pga": hz["pga"],
            "ground_motion": {"tau": hz["tau"], "phi": hz["phi"], "range_km": RANGE_KM},
        },
        "logistics": {"total_resources": _round(tr, 6), "demand_per_thousand": lg.demand_per_thousand},
        "recovery": tpl.case.recovery.model_dump(mode="json"),
        "variants": variants,
    }
    _dump(out / "case.yaml", case_doc, header)
    summary = {
        "name": name,
        "file": path.name,
        "sha256": data.sha256,
        "size": data.size,
        "nodes": len(net.nodes),
        "links": links,
        "arcs": len(net.arcs),
        "entry": len(net.entry),
        "bridges": len(bridges),
        "buildings": len(rows),
        "groups": groups,
        "categories": [(c["id"], c["sector"], c["count"], len(c["node_shares"])) for c in categories],
        "total_resources": _round(tr, 6),
        "pga": hz["pga"],
        "levels_default": levels_default,
        "origin": (lon0, lat0),
        "site": hz["site"],
    }
    write_import_md(out / "import.md", summary, counts, net, bridges, rows, hz, opts, tpl)
    return summary


def _write_network(out: Path, net) -> int:
    """nodes.csv, links.csv and network.yaml; returns the number of links."""
    write_csv(
        out / "nodes.csv",
        ["id", "x", "y"],
        ((str(n), _round(net.xy[n][0]), _round(net.xy[n][1])) for n in net.nodes),
    )
    pairs = sorted({tuple(sorted(a, key=node_key)) for a in net.arcs}, key=lambda p: tuple(map(node_key, p)))
    rows = []
    for u, v in pairs:
        cf, cb = net.arcs.get((u, v), 0.0), net.arcs.get((v, u), 0.0)
        cf, cb = _round(cf), _round(cb)
        road = net.road.get((u, v), "")
        if cf > 0 and cf == cb:
            rows.append((u, v, cf, road, True))
            continue
        rows += [(a, b, c, road, False) for a, b, c in ((u, v, cf), (v, u, cb)) if c > 0]
    write_csv(
        out / "links.csv",
        ["id", "from", "to", "capacity", "road", "two_way"],
        ((f"L{k + 1}", str(a), str(b), c, road, tw) for k, (a, b, c, road, tw) in enumerate(rows)),
    )
    top = max(net.arcs.values())
    doc = {
        "kind": "network",
        "nodes": "nodes.csv",
        "links": "links.csv",
        "entry": {"id": "RR", "nodes": [str(n) for n in net.entry], "capacity": _round(top)},
        "sink": "RS",
    }
    _dump(
        out / "network.yaml",
        doc,
        "# Road network: nodes.csv (x, y km) and links.csv (units/day); see import.md.\n",
    )
    return len(rows)


def _write_bridges(out: Path, net, tpl) -> list[dict]:
    br = tpl.bridges
    bridges = [{"id": f"B{b.way}", "node": str(b.node), "grade": BRIDGE_GRADE} for b in net.bridges]
    doc = {
        "kind": "bridges",
        "grades": {k: g.model_dump(mode="json") for k, g in br.grades.items()},
        "upgrade_to": br.upgrade_to,
        "upgrade_cost": br.upgrade_cost,
        "thresholds": br.thresholds.model_dump(mode="json"),
        "capacity_loss": br.capacity_loss.model_dump(mode="json"),
        "bridges": bridges,
    }
    _dump(
        out / "bridges.yaml",
        doc,
        "# Bridges from bridge=* ways (grades: paper 004 via the template); see import.md.\n",
    )
    return bridges


def import_roads(path: str | Path, out: str | Path, opts: ImportOptions | None = None) -> dict:
    """An OSM file (``.osm.pbf``, ``.osm``, ...) or OSMnx GraphML (``.graphml``) -> a case in ``out``."""
    path = Path(path)
    if path.suffix.lower() == ".graphml":
        opts = opts or ImportOptions()
        kw = {"template": opts.template}
        if opts.name:
            kw["name"] = opts.name
        case_yaml = case_from_graphml(path, out, **kw)
        return {"name": opts.name or path.stem, "file": path.name, "graphml": True, "case": str(case_yaml)}
    return case_from_osm(path, out, opts)


def import_case(
    path: str | Path, out: str | Path, opts: ImportOptions | None = None, force: bool = False
) -> dict:
    """:func:`import_roads` into ``out`` as one unit: the folder is checked first (resiliopt's
    own output only is replaced, with ``force``), written whole or not at all (the manifest
    names the command ``import osm``)."""
    out = Path(out)
    check_output_dir(out, "import osm", force)
    with atomic_directory(out, "import osm", force) as tmp:
        return import_roads(path, tmp, opts)
