r"""The drivable road network of an OpenStreetMap file, simplified to intersections.

Rules (docs/import.md, "OpenStreetMap roads and buildings"):

* **Drivable**: a way whose ``highway`` is one of :data:`DRIVABLE` and that is not closed to
  cars (``access``, ``vehicle``, ``motor_vehicle`` or ``motorcar`` = ``no`` / ``private``,
  or ``area=yes``). ``service`` roads (driveways, parking aisles), tracks, paths and
  everything else are dropped and counted.
* **Direction**: ``oneway=yes|true|1`` (implied on motorways, motorway links and
  roundabouts) allows the way's direction only, ``oneway=-1|reverse`` the opposite one.
* **Lanes per direction**: ``lanes:forward`` / ``lanes:backward`` if given; else ``lanes``
  (a one-way road) or ``lanes / 2`` (a two-way road); untagged: :data:`DEFAULT_LANES`.
* **Speed**: ``maxspeed`` in km/h (``mph`` converted; ``XX:urban`` 50, ``XX:rural`` 80,
  ``XX:motorway`` 120, ``XX:living_street`` 20, ``walk`` 6); else :data:`DEFAULT_SPEED`.
* **Capacity** of a direction, resource units per day (:class:`CapacityRule`):

  .. math::

      c = \ell \cdot \min\!\left(q_{max},\ \frac{k_j v}{4}\right) g \cdot H \cdot
      \frac{s}{e}

  with :math:`\ell` lanes, :math:`v` speed (km/h), the per-lane capacity of Greenshields'
  model :math:`k_j v / 4` (jam density :math:`k_j`, veh/km/lane) capped at :math:`q_{max}`
  veh/h/lane, :math:`g` 1 on motorways and trunk roads (uninterrupted flow) and 0.5 on other
  roads (junctions and signals: about half the time green), :math:`H` = 24 hours a day,
  :math:`s` the share of a road's capacity open to relief vehicles and :math:`e` the
  passenger-car equivalent of one truck; one resource unit is one truckload.
* **Simplification**: a node is kept when its number of incident road segments is not 2
  (intersections and dead ends); a chain of segments between kept nodes becomes one link,
  whose capacity each way is the smallest of its segments' (the bottleneck; 0 where a
  segment forbids that direction) and whose length is their sum. Chains between the same
  two nodes add their capacities (resiliopt gives a link once); chains from a node back to
  itself and rings with no kept node are dropped.
* **Bridges** (``bridge`` anything but ``no``): each bridge way gets a *carrier* node on the
  bridge, which is kept, so that the bridge's damage (resiliopt puts a bridge at a node and
  cuts the links at that node) reduces exactly the links over the bridge: an intersection
  inside the bridge if there is one, else the bridge's middle node, else a bridge end that
  is not an intersection, else a new node at the middle of its first segment
  (``w<way id>``). No building is placed at a carrier.
* **Entry and reach**: relief enters at the dead ends on or beyond the edge of the file's
  box (roads the extract cuts); if there are none, at the 5 % of nodes farthest from the
  centre. Nodes no path from an entry reaches (separate pieces, one-way traps) are dropped
  with their links and bridges.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field

from resiliopt.roads.osm_read import OsmData

DRIVABLE = (
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
    "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential", "living_street", "road",
)  # fmt: skip
UNINTERRUPTED = ("motorway", "motorway_link", "trunk", "trunk_link")
#: km/h where a way has no readable maxspeed
DEFAULT_SPEED = {
    "motorway": 100.0, "motorway_link": 60.0, "trunk": 80.0, "trunk_link": 50.0, "primary": 50.0,
    "primary_link": 40.0, "secondary": 50.0, "secondary_link": 40.0, "tertiary": 40.0,
    "tertiary_link": 30.0, "unclassified": 40.0, "residential": 30.0, "living_street": 20.0, "road": 30.0,
}  # fmt: skip
#: lanes per direction where a way has no readable lanes tag
DEFAULT_LANES = {"motorway": 2.0, "trunk": 2.0}
CLOSED = ("no", "private")
FALSE = ("no", "false", "0")
MPH = 1.609344


@dataclass(frozen=True)
class CapacityRule:
    """Road capacity in resource units per day (module docstring); every value is stated in import.md."""

    jam_density: float = 150.0  # k_j, vehicles per km per lane (about 6.7 m per car)
    lane_max: float = 2000.0  # q_max, vehicles per hour per lane
    interrupted: float = 0.5  # g off motorways and trunk roads
    hours: float = 24.0  # H, hours of operation per day
    relief_share: float = 0.1  # s, share of a road's capacity open to relief vehicles
    truck_pce: float = 2.0  # e, passenger cars per truck (HCM, level terrain: 1.5-2)

    def per_lane_vph(self, speed: float, highway: str) -> float:
        g = 1.0 if highway in UNINTERRUPTED else self.interrupted
        return min(self.lane_max, self.jam_density * speed / 4.0) * g

    def units_per_day(self, lanes: float, speed: float, highway: str) -> float:
        return lanes * self.per_lane_vph(speed, highway) * self.hours * self.relief_share / self.truck_pce


def _number(v: str | None) -> float | None:
    if v is None:
        return None
    try:
        f = float(v.split(";")[0].strip())
    except ValueError:
        return None
    return f if math.isfinite(f) and f > 0 else None


def parse_speed(v: str | None) -> float | None:
    """km/h from a maxspeed value; None if it cannot be read."""
    if v is None:
        return None
    speeds = []
    for part in v.split(";"):
        s = part.strip().lower()
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?", s)
        if m:
            speeds.append(float(m.group(1)) * (MPH if m.group(2) == "mph" else 1.0))
        elif s == "walk":
            speeds.append(6.0)
        elif re.fullmatch(r"[a-z]{2}:(urban|rural|motorway|living_street|zone:?(\d+))", s):
            kind = s.split(":", 1)[1]
            zone = re.search(r"\d+", kind)
            speeds.append(
                float(zone.group())
                if zone
                else {"urban": 50.0, "rural": 80.0, "motorway": 120.0, "living_street": 20.0}[kind]
            )
    good = [x for x in speeds if x > 0]
    return min(good) if good else None


@dataclass
class Segment:
    a: int
    b: int
    fwd: float  # capacity a -> b, units/day (0: not allowed)
    bwd: float
    length_m: float
    way: int
    highway: str


@dataclass
class BridgeInfo:
    way: int
    name: str
    length_m: float
    lanes: float  # per direction (the larger of the two)
    speed: float
    capacity: float  # units/day, the larger direction
    node: int | str | None = None  # carrier


@dataclass
class Network:
    nodes: list  # kept node ids (int OSM ids, str for new bridge nodes), sorted
    xy: dict  # node id -> (x, y), km
    arcs: dict  # (u, v) -> capacity, units/day
    road: dict  # (min, max) pair -> highway class of the longest part
    bridges: list[BridgeInfo]
    entry: list
    carriers: set
    counts: dict = field(default_factory=dict)
    rule_notes: dict = field(default_factory=dict)


def node_key(n) -> tuple:
    return (0, n, "") if isinstance(n, int) else (1, 0, str(n))


def _closed(tags: dict) -> bool:
    if tags.get("area", "").lower() == "yes":
        return True
    return any(tags.get(k, "").lower() in CLOSED for k in ("access", "vehicle", "motor_vehicle", "motorcar"))


def _direction(tags: dict) -> int | None:
    """+1 the way's direction only, -1 the opposite only, 0 both; None: not understood."""
    v = tags.get("oneway", "").lower()
    if v in ("yes", "true", "1"):
        return 1
    if v in ("-1", "reverse"):
        return -1
    if v in ("no", "false", "0"):
        return 0
    if v == "":
        implied = tags["highway"] in ("motorway", "motorway_link") or tags.get("junction") in (
            "roundabout",
            "circular",
        )
        return 1 if implied else 0
    return None


def way_lanes(tags: dict, oneway: int) -> tuple[float, float, bool]:
    """Lanes (forward, backward) and whether a tag gave them."""
    default = DEFAULT_LANES.get(tags["highway"], 1.0)
    total = _number(tags.get("lanes"))
    fwd, bwd = _number(tags.get("lanes:forward")), _number(tags.get("lanes:backward"))
    tagged = total is not None or fwd is not None or bwd is not None
    if oneway != 0:
        one = total if total is not None else (fwd or bwd or default)
        return ((one, 0.0) if oneway == 1 else (0.0, one)) + (tagged,)
    half = total / 2.0 if total is not None else None
    return (fwd or half or default), (bwd or half or default), tagged


class Projection:
    """Equirectangular projection about (lon0, lat0): x east, y north, km."""

    R = 6371.0088

    def __init__(self, lon0: float, lat0: float):
        self.lon0, self.lat0 = lon0, lat0
        self.kx = self.R * math.cos(math.radians(lat0)) * math.pi / 180.0
        self.ky = self.R * math.pi / 180.0

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        """(lon, lat) of the point (x, y) km."""
        return self.lon0 + x / self.kx, self.lat0 + y / self.ky


def build_network(data: OsmData, proj: Projection, rule: CapacityRule, entry_share: float = 0.05) -> Network:
    counts: dict[str, int] = {}

    def count(k: str, n: int = 1) -> None:
        counts[k] = counts.get(k, 0) + n

    segs: list[Segment] = []
    bridges: dict[int, BridgeInfo] = {}
    bridge_refs: dict[int, list[int]] = {}
    xy = {n: proj(*ll) for n, ll in data.lonlat.items()}
    for w in sorted(data.ways, key=lambda w: w.id):
        hw = w.tags["highway"]
        if hw not in DRIVABLE:
            count(f"ways dropped: highway={hw} (not drivable)")
            continue
        if _closed(w.tags):
            count("ways dropped: closed to cars (access, vehicle, motor_vehicle, motorcar no/private; area)")
            continue
        oneway = _direction(w.tags)
        if oneway is None:
            count(f"ways dropped: oneway={w.tags['oneway']} (not understood)")
            continue
        refs = [r for i, r in enumerate(w.refs) if i == 0 or r != w.refs[i - 1]]
        if len(refs) < 2:
            count("ways dropped: fewer than 2 nodes in the file")
            continue
        count("drivable ways")
        speed = parse_speed(w.tags.get("maxspeed"))
        if speed is None:
            count("drivable ways: speed from the highway class (no readable maxspeed)")
            speed = DEFAULT_SPEED[hw]
        fl, bl, tagged = way_lanes(w.tags, oneway)
        if not tagged:
            count("drivable ways: lanes from the highway class (no readable lanes)")
        fwd = rule.units_per_day(fl, speed, hw) if fl > 0 else 0.0
        bwd = rule.units_per_day(bl, speed, hw) if bl > 0 else 0.0
        length = 0.0
        for a, b in zip(refs, refs[1:], strict=False):
            (xa, ya), (xb, yb) = xy[a], xy[b]
            d = 1000.0 * math.hypot(xb - xa, yb - ya)
            length += d
            segs.append(Segment(a, b, fwd, bwd, d, w.id, hw))
        if w.tags.get("bridge", "no").lower() not in FALSE:
            name = w.tags.get("name", "")
            bridges[w.id] = BridgeInfo(w.id, name, length, max(fl, bl), speed, max(fwd, bwd))
            bridge_refs[w.id] = refs
    if not segs:
        return Network([], xy, {}, {}, [], [], set(), counts)

    adj: dict = {}
    for k, s in enumerate(segs):
        adj.setdefault(s.a, []).append(k)
        adj.setdefault(s.b, []).append(k)
    kept = {n for n, ks in adj.items() if len(ks) != 2}
    carriers = _place_bridges(bridges, bridge_refs, segs, adj, kept, xy, count)
    kept |= carriers
    arcs, road, lengths = _chains(segs, adj, kept, count)
    nodes = sorted({n for a in arcs for n in a}, key=node_key)
    entry = _entry(nodes, arcs, xy, proj, data, entry_share, count)
    reach = _reachable(entry, arcs)
    dropped = [n for n in nodes if n not in reach]
    if dropped:
        count("nodes dropped: not reachable from an entry (separate pieces, one-way traps)", len(dropped))
    arcs = {a: c for a, c in arcs.items() if a[0] in reach and a[1] in reach}
    nodes = [n for n in nodes if n in reach]
    kept_bridges = []
    for b in sorted(bridges.values(), key=lambda b: b.way):
        if b.node is None:
            count("bridges dropped: no node left for them (on a dropped piece)")
        elif b.node not in reach:
            count("bridges dropped: on a piece no entry reaches")
        else:
            kept_bridges.append(b)
    road = {p: r for p, r in road.items() if p[0] in reach and p[1] in reach}
    return Network(nodes, xy, arcs, road, kept_bridges, entry, carriers & reach, counts)


def _place_bridges(bridges, bridge_refs, segs, adj, kept, xy, count) -> set:
    used: set = set()
    for wid in sorted(bridges):
        refs = bridge_refs[wid]
        interior = refs[1:-1]
        options = [n for n in interior if n in kept]
        if interior:
            options.append(interior[len(interior) // 2])
        options += [n for n in (refs[0], refs[-1]) if n not in kept]
        node = next((n for n in options if n not in used), None)
        if node is None:  # a new node at the middle of the bridge's first segment
            k = next(
                i for i in adj[refs[0]] if segs[i].way == wid and {segs[i].a, segs[i].b} == set(refs[:2])
            )
            s = segs[k]
            node = f"w{wid}"
            (xa, ya), (xb, yb) = xy[s.a], xy[s.b]
            xy[node] = ((xa + xb) / 2.0, (ya + yb) / 2.0)
            half = s.length_m / 2.0
            segs[k] = Segment(s.a, node, s.fwd, s.bwd, half, s.way, s.highway)
            segs.append(Segment(node, s.b, s.fwd, s.bwd, half, s.way, s.highway))
            adj[s.b] = [len(segs) - 1 if i == k else i for i in adj[s.b]]
            adj[node] = [k, len(segs) - 1]
            count("bridges given a new node at their middle (both ends are intersections)")
        used.add(node)
        bridges[wid].node = node
    return used


def _chains(segs, adj, kept, count):
    """Walk every chain of segments between kept nodes: arc capacities, road class, length."""
    arcs: dict = {}
    road: dict = {}
    best: dict = {}
    seen = [False] * len(segs)
    for start in sorted(kept, key=node_key):
        for k0 in sorted(adj.get(start, ())):
            if seen[k0]:
                continue
            prev, k = start, k0
            fwd = bwd = math.inf
            length = 0.0
            by_class: dict[str, float] = {}
            while True:
                seen[k] = True
                s = segs[k]
                f, b, nxt = (s.fwd, s.bwd, s.b) if s.a == prev else (s.bwd, s.fwd, s.a)
                fwd, bwd = min(fwd, f), min(bwd, b)
                length += s.length_m
                by_class[s.highway] = by_class.get(s.highway, 0.0) + s.length_m
                if nxt in kept:
                    break
                k = next(i for i in adj[nxt] if i != k)
                prev = nxt
                if seen[k]:
                    break
            end = nxt
            if end == start:
                count("chains dropped: a loop back to its own node")
                continue
            count("chains between kept nodes (before the reach rule)")
            for (u, v), c in (((start, end), fwd), ((end, start), bwd)):
                if c > 0:
                    if (u, v) in arcs:
                        count("parallel chains merged (capacities added)")
                    arcs[(u, v)] = arcs.get((u, v), 0.0) + c
            pair = tuple(sorted((start, end), key=node_key))
            cls = max(sorted(by_class), key=lambda c: by_class[c])
            if length > best.get(pair, -1.0):
                best[pair] = length
                road[pair] = cls
    rings = sum(1 for x in seen if not x)
    if rings:
        count("segments dropped: rings with no intersection", rings)
    return arcs, road, best


def _entry(nodes, arcs, xy, proj, data, share, count) -> list:
    degree: dict = {}
    for u, v in arcs:
        pair = (u, v)
        for n in pair:
            degree.setdefault(n, set()).add(v if n == u else u)
    if data.bbox is not None:
        x0, y0 = proj(data.bbox[0], data.bbox[1])
        x1, y1 = proj(data.bbox[2], data.bbox[3])
        where = "the file's header box"
    else:
        pts = [xy[n] for n in nodes]
        x0, y0 = min(p[0] for p in pts), min(p[1] for p in pts)
        x1, y1 = max(p[0] for p in pts), max(p[1] for p in pts)
        where = "the box of the road nodes"
    tol = 0.05  # km: on the edge or beyond it
    entry = [
        n
        for n in nodes
        if len(degree.get(n, ())) == 1
        and not (x0 + tol < xy[n][0] < x1 - tol and y0 + tol < xy[n][1] < y1 - tol)
    ]
    if entry:
        count(f"entry nodes: dead ends within 50 m of the edge of {where} or beyond it", len(entry))
        return entry
    cx = sum(xy[n][0] for n in nodes) / len(nodes)
    cy = sum(xy[n][1] for n in nodes) / len(nodes)
    k = max(1, int(round(share * len(nodes))))
    far = sorted(nodes, key=lambda n: (-math.hypot(xy[n][0] - cx, xy[n][1] - cy), node_key(n)))[:k]
    count(f"entry nodes: no dead end on the edge; the {share:.0%} farthest from the centre", len(far))
    return sorted(far, key=node_key)


def _reachable(entry, arcs) -> set:
    out: dict = {}
    for (u, v), c in arcs.items():
        if c > 0:
            out.setdefault(u, []).append(v)
    seen = set(entry)
    todo = deque(entry)
    while todo:
        u = todo.popleft()
        for v in out.get(u, ()):
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return seen
