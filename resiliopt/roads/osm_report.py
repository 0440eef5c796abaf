"""``import.md``: what an OpenStreetMap import read, dropped and assumed (every value stated).

Deterministic: no time stamp, no path of the machine (the input's file name, size and
SHA-256 only), every table sorted, numbers formatted the same way on every run.
"""

from __future__ import annotations

from pathlib import Path

from resiliopt.roads import ground_motion as gm
from resiliopt.roads.osm_buildings import CATEGORIES, SECTOR_OF
from resiliopt.roads.osm_network import DEFAULT_LANES, DEFAULT_SPEED, DRIVABLE, UNINTERRUPTED


def _g(x: float, digits: int = 6) -> str:
    return f"{x:.{digits}g}"


def _table(header: list[str], rows: list) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def write_import_md(path: Path, s: dict, counts: dict, net, bridges, rows, hz, opts, tpl) -> None:
    cap = opts.capacity
    lines = [
        f"# Import of `{s['file']}` (case `{s['name']}`)",
        "",
        f'Written by `resiliopt import osm` (rules: docs/import.md, "OpenStreetMap roads and buildings"). '
        f"Input: `{s['file']}`, {s['size']} bytes, SHA-256 `{s['sha256']}`.",
        "",
        "Map data (c) OpenStreetMap contributors, available under the Open Database License (ODbL 1.0, "
        "https://opendatacommons.org/licenses/odbl/); the tables in this folder are a derived database "
        "and are shared under the same licence.",
        "",
        "## Size",
        "",
        *_table(
            ["road nodes", "links", "road arcs", "entry nodes", "bridges", "buildings", "building groups"],
            [[s["nodes"], s["links"], s["arcs"], s["entry"], s["bridges"], s["buildings"], s["groups"]]],
        ),
        "",
        "## What was read and what was dropped (counts)",
        "",
        *_table(["what", "count"], [[k, v] for k, v in sorted(counts.items())]),
        "",
        "## Roads",
        "",
        "Coordinates: x east, y north in km on an equirectangular projection about "
        f"lon {_g(s['origin'][0], 10)}, lat {_g(s['origin'][1], 10)} (the centre of the file's box).",
        "",
        f"Drivable: highway = {', '.join(DRIVABLE)}; not access / vehicle / motor_vehicle / motorcar = no or "
        "private, not area=yes. Capacity of a direction, resource units (truckloads) per day: "
        "lanes x min(q_max, k_j v / 4) x g x H x s / e:",
        "",
        *_table(
            ["parameter", "value"],
            [
                ["k_j, jam density (Greenshields)", f"{_g(cap.jam_density)} vehicles/km/lane"],
                ["q_max, largest flow of a lane", f"{_g(cap.lane_max)} vehicles/h/lane"],
                ["g, uninterrupted roads (" + ", ".join(UNINTERRUPTED) + ")", "1"],
                ["g, every other road (junctions, signals)", _g(cap.interrupted)],
                ["H, hours per day", _g(cap.hours)],
                ["s, share of capacity open to relief vehicles", _g(cap.relief_share)],
                ["e, passenger-car equivalent of a truck", _g(cap.truck_pce)],
                ["one resource unit", "one truckload"],
            ],
        ),
        "",
        "Defaults by highway class (untagged maxspeed / lanes) and the capacity they give:",
        "",
        *_table(
            ["highway", "speed km/h", "lanes per direction", "units/day per direction"],
            [
                [
                    h,
                    _g(DEFAULT_SPEED[h]),
                    _g(DEFAULT_LANES.get(h, 1.0)),
                    _g(cap.units_per_day(DEFAULT_LANES.get(h, 1.0), DEFAULT_SPEED[h], h)),
                ]
                for h in DRIVABLE
            ],
        ),
        "",
        f"Entry: the virtual source RR feeds {s['entry']} node(s) "
        f"({', '.join(str(n) for n in net.entry[:20])}{' ...' if len(net.entry) > 20 else ''}), "
        "each arc with the largest road capacity, "
        f"{_g(max(net.arcs.values()))} units/day (the road beyond the entry then limits the flow).",
        "",
        "## Bridges",
        "",
        f"Every bridge=* way (not `no`) on a drivable road; grade `lower` of the template for all "
        f"(a = {_g(tpl.bridges.grades['lower'].a)}, b = {_g(tpl.bridges.grades['lower'].b)}, zeta = "
        f"{_g(tpl.bridges.grades['lower'].zeta)}: the weaker of paper 004's two grades; OSM does not say "
        "how a bridge was designed). The length is reported, not used: a link's capacity is a flow per day, "
        "which a bridge's length does not change.",
        "",
    ]
    if net.bridges:
        lines += _table(
            [
                "id",
                "OSM way",
                "name",
                "carrier node",
                "length m",
                "lanes/direction",
                "speed km/h",
                "units/day",
                "grade",
            ],
            [
                [
                    f"B{b.way}",
                    b.way,
                    b.name.replace("|", "/") or "-",
                    b.node,
                    _g(b.length_m, 4),
                    _g(b.lanes),
                    _g(b.speed),
                    _g(b.capacity),
                    "lower",
                ]
                for b in net.bridges
            ],
        )
    else:
        lines.append("No bridge.")
    lines += ["", *_buildings(s, rows, opts), "", *_hazard(hz, opts), "", *_rest(s, opts, tpl)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _buildings(s, rows, opts) -> list[str]:
    by_rule: dict = {}
    for r in rows:
        by_rule[(r.category, r.rule)] = by_rule.get((r.category, r.rule), 0) + 1
    cats = {c: [r for r in rows if r.category == c] for c in CATEGORIES}
    tagged = sum(1 for r in rows if r.levels_tagged)
    counts = {c[0]: c for c in s["categories"]}
    sector = {**SECTOR_OF, "other": opts.other_sector}
    far = max(r.distance_m for r in rows)
    mean = sum(r.distance_m for r in rows) / len(rows)
    return [
        "## Buildings",
        "",
        "Category of each building (the tag that decided it; docs/import.md gives the whole mapping):",
        "",
        *_table(
            ["category", "decided by", "buildings"], [[c, r, n] for (c, r), n in sorted(by_rule.items())]
        ),
        "",
        f"Floor area = footprint x building:levels; {tagged} of {len(rows)} buildings give building:levels, "
        f"the others take {_g(s['levels_default'])} level(s) ("
        + (
            "given"
            if opts.default_levels is not None
            else "the median of those that give one, 1 if none does"
        )
        + f"). A building stands on the nearest road node without a bridge (mean {_g(mean, 4)} m, "
        f"largest {_g(far, 4)} m; dropped beyond {_g(opts.max_building_distance_m)} m). One building "
        f"equivalent = {_g(opts.equivalent_m2)} m^2 of floor area; counts are in thousands of equivalents.",
        "",
        *_table(
            [
                "category",
                "paper sector",
                "buildings",
                "footprint m^2",
                "floor area m^2",
                "count (thousand eq.)",
                "design level",
                "groups (nodes)",
            ],
            [
                [
                    c,
                    sector[c],
                    len(cats[c]),
                    _g(sum(r.footprint_m2 for r in cats[c]), 8),
                    _g(sum(r.floor_m2 for r in cats[c]), 8),
                    _g(counts[c][2]),
                    opts.design_level,
                    counts[c][3],
                ]
                for c in CATEGORIES
                if c in counts
            ],
        ),
        "",
        f"Fragility and retrofit cost of each category: paper 004 Table 1 for its sector at design level "
        f"{opts.design_level} (from the template `{opts.template}`); the sectors: residential -> "
        "residential, commercial and industrial -> business, education -> education, health -> public, "
        f"other -> {opts.other_sector}.",
    ]


def _hazard(hz, opts) -> list[str]:
    if hz["source"] != "ba08":
        what = "given (--pga)" if hz["source"] == "given" else "paper 004's scenario PGA (section 4.3)"
        return [
            "## Earthquake",
            "",
            f"No epicentre given: PGA {_g(hz['pga'])} g everywhere, {what}; "
            "no ground-motion variability (tau = phi = 0).",
        ]
    eq = opts.earthquake
    c = gm.BA08_PGA
    lo, mid, hi = hz["node_pga"]
    return [
        "## Earthquake",
        "",
        "Ground motion by Boore and Atkinson (2008), Earthquake Spectra 24(1) 99-138 (BA08, NGA-West1), "
        "median PGA in g:",
        "",
        "ln PGA = e_mech + e5 (M - Mh) + e6 (M - Mh)^2 [M <= Mh; else e7 (M - Mh)] "
        "+ [c1 + c2 (M - Mref)] ln(R / Rref) + c3 (R - Rref) + F_S(Vs30), R = sqrt(R_JB^2 + h^2)",
        "",
        *_table(["coefficient", "value"], [[k, c[k]] for k in c]),
        "",
        *_table(
            ["input", "value"],
            [
                ["epicentre (lat, lon)", f"{_g(eq.latitude, 8)}, {_g(eq.longitude, 8)}"],
                ["moment magnitude", _g(eq.magnitude)],
                ["mechanism", eq.mechanism],
                [
                    "Vs30",
                    f"{_g(eq.vs30)} m/s"
                    + (" (BA08's reference rock: no site term)" if eq.vs30 == 760 else ""),
                ],
                [
                    "site: floor-area-weighted centroid of the buildings (lon, lat)",
                    f"{_g(hz['site'][0], 8)}, {_g(hz['site'][1], 8)}",
                ],
                ["R_JB: epicentral distance to the site (point source)", f"{_g(hz['distance_km'], 5)} km"],
                [
                    "median PGA at the site: hazard.pga",
                    f"{_g(hz['pga_exact'], 5)} g (written {_g(hz['pga'])} g)",
                ],
                [
                    "median PGA at the road nodes: min / median / max",
                    f"{_g(lo, 4)} / {_g(mid, 4)} / {_g(hi, 4)} g ({_g(hz['node_distance'][0], 4)} to "
                    f"{_g(hz['node_distance'][1], 4)} km): not represented, the case has one scenario PGA",
                ],
                ["hazard.ground_motion tau (between-event)", _g(hz["tau"])],
                ["hazard.ground_motion phi (within-event)", _g(hz["phi"])],
                ["hazard.ground_motion range_km (Jayaram and Baker 2009, PGA)", "40.7"],
            ],
        ),
    ]


def _rest(s, opts, tpl) -> list[str]:
    rec = tpl.case.recovery
    lg = tpl.case.logistics
    return [
        "## Logistics, recovery, community",
        "",
        f"* total_resources TR = {_g(s['total_resources'])} units/day: the expected day-0 demand at the "
        "scenario, sum over categories of demand_per_thousand x count x P(moderate <= damage < collapse), "
        "with the dispersion sqrt(zeta^2 + b^2 (tau^2 + phi^2)) (as beijing's TR is about the median day-0 "
        "demand).",
        f"* demand_per_thousand {_g(lg.demand_per_thousand)} units per 1000 building equivalents per day; "
        f"repair {_g(rec.moderate_days)} days (moderate), {_g(rec.severe_days)} days (severe), collapse "
        f"{'permanent' if rec.collapse_days is None else _g(rec.collapse_days) + ' days'}; bridge repair "
        f"days {', '.join(f'{k} {_g(v)}' for k, v in rec.bridge_repair_days.items()) or 'none'}: all "
        f"from the template `{opts.template}` (paper 004 and HAZUS, data/beijing/README.md).",
        "* community.yaml (DAM, threshold 0.87), b, zeta, theta_cr and the damage thresholds, the bridge "
        "grades, thresholds and capacity loss: the template's.",
        "* variants: `none`; `buildings` (every category one design level up); `bridges` (every bridge to "
        f"grade `{tpl.bridges.upgrade_to}`).",
        "",
        "## Every assumption of this import",
        "",
        *_table(
            ["option", "value"],
            [
                ["template", opts.template],
                ["design level of every building", opts.design_level],
                ["floor area of one building equivalent", f"{_g(opts.equivalent_m2)} m^2"],
                ["levels of a building without building:levels", _g(s["levels_default"])],
                ["sector of category other", opts.other_sector],
                ["largest building-to-node distance", f"{_g(opts.max_building_distance_m)} m"],
                ["entry share when no dead end is on the edge", _g(opts.entry_share)],
                ["bridge grade", "lower"],
                *[[f"capacity: {k}", _g(v)] for k, v in vars(opts.capacity).items()],
            ],
        ),
    ]
