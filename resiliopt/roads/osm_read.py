"""Reading an OpenStreetMap file (``.osm.pbf``, ``.osm`` XML, also ``.osm.gz`` / ``.osm.bz2``).

The file is read once by osmium (pyosmium, the Python binding of libosmium; ``pip install
resiliopt[import]``) with node locations: every way tagged ``highway=*`` with its nodes and
their longitude / latitude, and every area tagged ``building=*`` (a closed way or a
multipolygon relation, assembled by osmium) with its rings. Nothing else is kept.

A file osmium cannot read (truncated, not OSM, a broken XML tag) is an
:class:`~resiliopt.errors.InputError` naming the file and what osmium says (for XML the line
and column; for PBF the last element read before the error).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from resiliopt.errors import InputError

#: tags of a highway way that the importer reads
WAY_KEYS = (
    "highway", "lanes", "lanes:forward", "lanes:backward", "maxspeed", "oneway", "junction",
    "bridge", "access", "motor_vehicle", "motorcar", "vehicle", "area", "name",
)  # fmt: skip
#: tags of a building that the importer reads
BUILDING_KEYS = (
    "building", "building:levels", "amenity", "shop", "office", "tourism", "healthcare",
    "building:use", "craft", "industrial", "name",
)  # fmt: skip


@dataclass
class Way:
    id: int
    refs: list[int]  # node ids, in order; nodes the file lacks are dropped (counted)
    tags: dict[str, str]


@dataclass
class Building:
    id: str  # "w<way id>" or "r<relation id>"
    tags: dict[str, str]
    outer: list[list[tuple[float, float]]]  # rings of (lon, lat)
    inner: list[list[tuple[float, float]]]


@dataclass
class OsmData:
    path: Path
    sha256: str
    size: int
    bbox: tuple[float, float, float, float] | None  # header box: lon_min, lat_min, lon_max, lat_max
    ways: list[Way] = field(default_factory=list)
    lonlat: dict[int, tuple[float, float]] = field(default_factory=dict)
    buildings: list[Building] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _osmium(path: Path):
    try:
        import osmium  # an optional dependency (the [import] extra), so imported here
    except ModuleNotFoundError:
        msg = "reading OpenStreetMap files needs osmium: pip install 'resiliopt[import]'"
        raise InputError(msg, path) from None
    return osmium


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(buf):
            raise ValueError("varint past the end")
        b = buf[i]
        value |= (b & 0x7F) << shift
        i += 1
        if b < 0x80:
            return value, i
        shift += 7


def pbf_damage(path: Path) -> str | None:
    """Where a PBF file's block structure breaks: ``block k (type) at byte b: ...`` (None if whole).

    A PBF file is a sequence of blocks, each a 4-byte big-endian length, a BlobHeader (protobuf:
    field 1 the type, field 3 the size of the blob that follows) and the blob.
    """
    data = path.read_bytes()
    pos, k = 0, 0
    while pos < len(data):
        k += 1
        if pos + 4 > len(data):
            return f"block {k} at byte {pos}: the file ends inside its length prefix"
        n = int.from_bytes(data[pos : pos + 4], "big")
        head = data[pos + 4 : pos + 4 + n]
        if n > 64 * 1024 or len(head) < n:
            return f"block {k} at byte {pos}: a header of {n} bytes, {len(head)} left in the file"
        kind, size, i = "?", None, 0
        try:
            while i < len(head):
                key, i = _varint(head, i)
                if key & 7 == 2:
                    ln, i = _varint(head, i)
                    if key >> 3 == 1:
                        kind = head[i : i + ln].decode("ascii", "replace")
                    i += ln
                elif key & 7 == 0:
                    v, i = _varint(head, i)
                    if key >> 3 == 3:
                        size = v
                else:
                    raise ValueError(f"wire type {key & 7}")
        except ValueError as exc:
            return f"block {k} at byte {pos}: an unreadable block header ({exc})"
        if size is None:
            return f"block {k} ({kind}) at byte {pos}: its header gives no data size"
        end = pos + 4 + n + size
        if end > len(data):
            short = end - len(data)
            where = f"block {k} ({kind}) at byte {pos}"
            return f"{where}: {size} bytes of data, the file ends {short} bytes short"
        pos = end
    return None


def read_osm(path: str | Path) -> OsmData:
    """Highway ways (with node coordinates) and building areas of an OSM file."""
    path = Path(path)
    osmium = _osmium(path)
    if not path.is_file():
        raise InputError("file not found", file=path)
    data = OsmData(path=path, sha256=_sha256(path), size=path.stat().st_size, bbox=None)
    counts = {"highway ways": 0, "building areas": 0, "way nodes missing from the file": 0}
    last = {"element": None}

    class Handler(osmium.SimpleHandler):
        def way(self, w):
            last["element"] = f"way {w.id}"
            if "highway" not in w.tags:
                return
            counts["highway ways"] += 1
            refs = []
            for n in w.nodes:
                loc = n.location
                if not loc.valid():
                    counts["way nodes missing from the file"] += 1
                    continue
                refs.append(n.ref)
                data.lonlat[n.ref] = (loc.lon, loc.lat)
            tags = {k: w.tags[k] for k in WAY_KEYS if k in w.tags}
            data.ways.append(Way(w.id, refs, tags))

        def area(self, a):
            last["element"] = f"{'way' if a.from_way() else 'relation'} {a.orig_id()}"
            if "building" not in a.tags:
                return
            counts["building areas"] += 1
            outer, inner = [], []
            for ring in a.outer_rings():
                outer.append([(n.lon, n.lat) for n in ring])
                for hole in a.inner_rings(ring):
                    inner.append([(n.lon, n.lat) for n in hole])
            tags = {k: a.tags[k] for k in BUILDING_KEYS if k in a.tags}
            kind = "w" if a.from_way() else "r"
            data.buildings.append(Building(f"{kind}{a.orig_id()}", tags, outer, inner))

    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        try:
            box = reader.header().box()
            if box.valid():
                data.bbox = (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
        finally:
            reader.close()
        keys = osmium.filter.KeyFilter("highway", "building")
        Handler().apply_file(str(path), locations=True, filters=[keys])
    except RuntimeError as exc:  # osmium reports every read error so
        msg = " ".join(str(exc).split())
        where = None
        if "PBF error" in msg:
            where = pbf_damage(path)
        if where is None and "line" not in msg and last["element"] is not None:
            where = f"after {last['element']}"
        raise InputError(f"not a readable OpenStreetMap file ({msg})", path, where) from None
    data.counts = counts
    return data
