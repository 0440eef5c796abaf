r"""Buildings of an OpenStreetMap file: category, floor area, the road node they stand on.

Rules (docs/import.md, "OpenStreetMap roads and buildings"):

* **Category** (one of :data:`CATEGORIES`): the ``building`` value by :data:`BUILDING_VALUES`;
  a value that names no use there (``yes``, ``public``, ``roof``, ...) is refined by the
  building's own tags, in this order: ``building:use`` (by the same table), ``amenity``
  (:data:`AMENITY`), ``healthcare=*`` (health), ``shop=*`` / ``office=*`` /
  ``tourism`` = hotel, hostel, guest_house, motel (commercial), ``craft=*`` /
  ``industrial=*`` (industrial); otherwise *other*. Points (shops, schools drawn as nodes) and
  land-use areas around a building are not joined to it.
* **Floor area** = footprint area x ``building:levels``. The footprint is the area of the
  outer rings less the inner rings (multipolygon relations assembled by osmium), in m^2 on
  the importer's equirectangular projection. ``building:levels`` is a number > 0 (the first of
  a ``;`` list; at most 200); missing or unreadable: the default (by default the median of
  the file's buildings that give one, 1 if none does).
* **Where**: the road node nearest to the footprint's centroid (straight line), among the
  kept nodes that carry no bridge; a building farther than ``max_distance_m`` from every
  such node is dropped (islands, the far side of water).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from resiliopt.roads.osm_read import Building

CATEGORIES = ("residential", "commercial", "education", "health", "industrial", "other")

_RES = (
    "apartments", "residential", "house", "detached", "semidetached_house", "terrace", "dormitory",
    "bungalow", "cabin", "farm", "houseboat", "static_caravan", "ger",
)  # fmt: skip
_COM = ("commercial", "retail", "office", "kiosk", "supermarket", "hotel", "shop", "mall")
_IND = ("industrial", "warehouse", "factory", "manufacture", "hangar", "storage_tank")
_EDU = ("school", "university", "college", "kindergarten")
_HEA = ("hospital", "clinic", "healthcare")
#: building=* value -> category (every other value: refined by other tags, else other)
BUILDING_VALUES = {
    **{v: "residential" for v in _RES},
    **{v: "commercial" for v in _COM},
    **{v: "industrial" for v in _IND},
    **{v: "education" for v in _EDU},
    **{v: "health" for v in _HEA},
}
#: amenity=* value -> category
AMENITY = {
    **{v: "education" for v in ("school", "university", "college", "kindergarten")},
    **{v: "health" for v in ("hospital", "clinic", "doctors", "dentist", "nursing_home")},
    **{
        v: "commercial"
        for v in ("restaurant", "cafe", "bank", "pub", "bar", "fast_food", "marketplace", "cinema", "theatre")
    },
}
#: OSM category -> paper 004 sector (other: the import's ``other_sector``, default residential)
SECTOR_OF = {
    "residential": "residential",
    "commercial": "business",
    "industrial": "business",
    "education": "education",
    "health": "public",
    "other": "residential",
}
HOTELS = ("hotel", "hostel", "guest_house", "motel")
MAX_LEVELS = 200.0


def categorize(tags: dict[str, str]) -> tuple[str, str]:
    """(category, the tag that decided it)."""
    b = tags.get("building", "").strip().lower()
    if b in BUILDING_VALUES:
        return BUILDING_VALUES[b], f"building={b}"
    use = tags.get("building:use", "").strip().lower()
    if use in BUILDING_VALUES:
        return BUILDING_VALUES[use], f"building:use={use}"
    am = tags.get("amenity", "").strip().lower()
    if am in AMENITY:
        return AMENITY[am], f"amenity={am}"
    if "healthcare" in tags:
        return "health", "healthcare=*"
    if "shop" in tags:
        return "commercial", "shop=*"
    if "office" in tags:
        return "commercial", "office=*"
    if tags.get("tourism", "").strip().lower() in HOTELS:
        return "commercial", f"tourism={tags['tourism'].strip().lower()}"
    if "craft" in tags or "industrial" in tags:
        return "industrial", "craft=* or industrial=*"
    return "other", f"building={b}" if b else "building"


def parse_levels(v: str | None) -> float | None:
    if v is None:
        return None
    try:
        f = float(v.split(";")[0].strip())
    except ValueError:
        return None
    return f if math.isfinite(f) and 0 < f <= MAX_LEVELS else None


def ring_area_centroid(ring: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Unsigned area (same units squared) and centroid of a closed or open ring (shoelace)."""
    pts = np.asarray(ring, dtype=float)
    if len(pts) < 3:
        return 0.0, 0.0, 0.0
    x, y = pts[:, 0], pts[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    a = 0.5 * float(cross.sum())
    if a == 0.0:
        return 0.0, float(x.mean()), float(y.mean())
    cx = float(((x + x1) * cross).sum()) / (6.0 * a)
    cy = float(((y + y1) * cross).sum()) / (6.0 * a)
    return abs(a), cx, cy


@dataclass
class BuildingRow:
    id: str
    category: str
    rule: str
    footprint_m2: float
    levels: float
    levels_tagged: bool
    floor_m2: float
    x: float  # km
    y: float
    node: object = None
    distance_m: float = 0.0


def measure(buildings: list[Building], proj, default_levels: float | None, count) -> tuple[list, float]:
    """Footprint, levels, floor area and centroid of each building; the levels default used."""
    rows: list[BuildingRow] = []
    tagged_levels = []
    for b in sorted(buildings, key=lambda b: (b.id[0], int(b.id[1:]))):
        if b.tags.get("building", "").strip().lower() == "no":
            count("buildings dropped: building=no")
            continue
        area = cx = cy = 0.0
        for ring in b.outer:
            a, x, y = ring_area_centroid([proj(lon, lat) for lon, lat in ring])
            area, cx, cy = area + a, cx + a * x, cy + a * y
        holes = sum(ring_area_centroid([proj(lon, lat) for lon, lat in r])[0] for r in b.inner)
        if area <= 0.0 or area - holes <= 0.0:
            count("buildings dropped: footprint of no area")
            continue
        cx, cy = cx / area, cy / area
        lv = parse_levels(b.tags.get("building:levels"))
        if lv is None and "building:levels" in b.tags:
            count("buildings: building:levels unreadable (not a number in (0, 200]); default used")
        if lv is not None:
            tagged_levels.append(lv)
        cat, rule = categorize(b.tags)
        foot = (area - holes) * 1e6  # km^2 -> m^2
        rows.append(BuildingRow(b.id, cat, rule, foot, lv or 0.0, lv is not None, 0.0, cx, cy))
    if default_levels is None:
        default_levels = float(np.median(tagged_levels)) if tagged_levels else 1.0
    for r in rows:
        if not r.levels_tagged:
            r.levels = default_levels
        r.floor_m2 = r.footprint_m2 * r.levels
    return rows, default_levels


def assign_nodes(rows: list[BuildingRow], nodes: list, xy: dict, max_distance_m: float, count) -> list:
    """Each building to its nearest node (``nodes``: the candidates, in a fixed order)."""
    from scipy.spatial import cKDTree  # scipy.spatial: 0.2 s of start-up, only when importing

    if not rows or not nodes:
        return []
    pts = np.array([xy[n] for n in nodes], dtype=float)
    dist, idx = cKDTree(pts).query(np.array([(r.x, r.y) for r in rows]), k=1)
    kept = []
    for r, d, i in zip(rows, dist, idx, strict=True):
        if 1000.0 * d > max_distance_m:
            count(f"buildings dropped: farther than {max_distance_m:g} m from every road node")
            continue
        r.node, r.distance_m = nodes[int(i)], 1000.0 * float(d)
        kept.append(r)
    return kept
