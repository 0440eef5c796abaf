r"""A road network from GraphML (the format OSMnx saves) turned into a resiliopt case.

``nx.read_graphml`` reads the file; nodes carry ``x`` / ``y`` (OSMnx: longitude / latitude,
or projected metres), edges carry ``lanes`` or ``capacity`` and may carry ``bridge``.
Everything else a case needs (fragility, building categories, F_C, hazard, logistics,
recovery) comes from a *template* case (default: the bundled ``beijing``).

Rules (docs/roads.md):

* **Capacity** of an edge, units per day each way: its ``capacity`` attribute if given;
  otherwise ``lanes x per_lane`` (default ``per_lane`` = 10 units per lane per day). ``lanes``
  may be a number, or a list as OSMnx writes merged edges (``"['2', '3']"``): the smallest
  is taken (the bottleneck). No ``lanes``: 1 lane.
* **Direction.** A directed graph (OSMnx: a ``MultiDiGraph`` with one edge per driving
  direction) gives one-way links; an undirected graph gives two-way links. Parallel edges
  between the same ordered pair (two-way: the same unordered pair) are one road corridor:
  their capacities are added. Self-loops are dropped.
* **Bridges.** An edge whose ``bridge`` attribute is true (``yes``, ``true``, ``1``,
  ``viaduct``, ... anything but empty / ``no`` / ``false`` / ``0``) puts a bridge at its end
  node ``v`` (resiliopt's bridges sit at interchange nodes; the flow to ``v`` crosses it), of
  the template's most fragile grade, the one with the largest ``a`` (``bridge_grade`` to
  choose another). A node gets one bridge however many bridge edges end there.
* **Entry.** Resources enter at the ``entry_share`` (default 5 %, at least 1) of nodes
  farthest from the centroid of ``x`` / ``y``, each through an arc of ``entry_capacity``
  (default: the largest road capacity times 4).
* **Buildings.** Every category of the template is spread over the nodes: the node attribute
  ``buildings`` (or ``population``) gives the weights, else every ``share_every``-th node
  (default all) gets an equal share.

Node and edge ids are the GraphML ids as strings. The network's nodes and links are written
as CSV tables beside ``network.yaml`` (``nodes.csv``, ``links.csv``; docs/formats.md), always:
a city's network parses from CSV in a fraction of the time YAML takes.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from resiliopt._tables import write_csv
from resiliopt.case import load_case
from resiliopt.errors import InputError

if TYPE_CHECKING:
    import networkx as nx

FALSE = {"", "no", "false", "0", "none", "nan"}


def _lanes(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, int | float):
        return float(v) if math.isfinite(v) and v > 0 else None
    s = str(v).strip()
    try:
        parsed = ast.literal_eval(s) if s.startswith("[") else s
    except (ValueError, SyntaxError):
        parsed = s
    items = parsed if isinstance(parsed, list) else [parsed]
    vals = []
    for x in items:
        try:
            f = float(str(x).split(";")[0])
        except ValueError:
            continue
        if math.isfinite(f) and f > 0:
            vals.append(f)
    return min(vals) if vals else None


def _is_bridge(v) -> bool:
    return v is not None and str(v).strip().lower() not in FALSE


def read_roads(path: str | Path) -> nx.Graph:
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path)
    try:
        import networkx as nx  # networkx: 0.3 s of start-up, only to read a GraphML file

        return nx.read_graphml(path)
    except Exception as exc:  # networkx raises several kinds (XML, key, value errors)
        raise InputError(f"not a readable GraphML file: {exc}", file=path) from None


def case_from_graph(
    g: nx.Graph,
    out: str | Path,
    name: str = "roads",
    template: str | Path = "beijing",
    per_lane: float = 10.0,
    entry_share: float = 0.05,
    entry_capacity: float | None = None,
    share_every: int = 1,
    bridge_grade: str | None = None,
    source: str | Path | None = None,
) -> Path:
    """Write a case directory for road graph ``g``; returns the path of its ``case.yaml``."""
    where = source or "graph"
    tpl = load_case(template)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    nodes = [str(n) for n in g.nodes]
    if len(nodes) < 2:
        raise InputError("the road graph needs at least 2 nodes", where)
    attrs = {str(n): d for n, d in g.nodes(data=True)}
    xy = np.array([[float(attrs[n].get("x", 0.0)), float(attrs[n].get("y", 0.0))] for n in nodes])
    directed = g.is_directed()
    corridors: dict[tuple[str, str], float] = {}
    bridge_nodes: list[str] = []
    seen_bridge = set()
    for k, (u, v, d) in enumerate(g.edges(data=True)):
        u, v = str(u), str(v)
        if u == v:
            continue
        cap = d.get("capacity")
        if cap is not None:
            try:
                cap = float(cap)
            except ValueError:
                raise InputError(f"edge {k} ({u}, {v}): capacity {cap!r} is not a number", where) from None
            if not math.isfinite(cap) or cap < 0:
                raise InputError(f"edge {k} ({u}, {v}): capacity {cap} must be finite and >= 0", where)
        else:
            cap = (_lanes(d.get("lanes")) or 1.0) * per_lane
        key = (u, v) if directed or u < v else (v, u)
        corridors[key] = corridors.get(key, 0.0) + cap
        if _is_bridge(d.get("bridge")) and v not in seen_bridge:
            seen_bridge.add(v)
            bridge_nodes.append(v)
    if not corridors:
        raise InputError("the road graph has no edges", where)
    links = [
        {"id": f"L{k}", "from": u, "to": v, "capacity": round(c, 6), "two_way": not directed}
        for k, ((u, v), c) in enumerate(corridors.items())
    ]
    dist = np.hypot(*(xy - xy.mean(axis=0)).T)
    n_entry = max(1, int(round(entry_share * len(nodes))))
    entry_nodes = [nodes[i] for i in np.argsort(-dist, kind="stable")[:n_entry]]
    if entry_capacity is None:
        entry_capacity = 4.0 * max(c for c in corridors.values())
    network = {
        "kind": "network",
        "nodes": "nodes.csv",  # CSV tables: a city's network parses in a fraction of YAML's time
        "links": "links.csv",
        "entry": {"id": "RR", "nodes": entry_nodes, "capacity": float(entry_capacity)},
        "sink": "RS",
    }
    if "RR" in attrs or "RS" in attrs:
        raise InputError("node ids RR and RS are reserved for the virtual source and sink", where)

    weights = np.array(
        [float(attrs[n].get("buildings", attrs[n].get("population", 0.0)) or 0.0) for n in nodes]
    )
    if not (weights > 0).any():
        weights = np.zeros(len(nodes))
        weights[:: max(1, share_every)] = 1.0
    shares = weights / weights.sum()
    bt = tpl.buildings.model_dump(mode="json")
    bt["node_shares"] = {n: float(s) for n, s in zip(nodes, shares, strict=True) if s > 0}
    brt = tpl.bridges.model_dump(mode="json")
    grade = bridge_grade or max(tpl.bridges.grades, key=lambda k: tpl.bridges.grades[k].a)
    brt["bridges"] = [{"id": f"B{k}", "node": n, "grade": grade} for k, n in enumerate(bridge_nodes)]
    ct = tpl.case.model_dump(mode="json", by_alias=True, exclude_none=False)
    ct.update(
        {
            "name": name,
            "description": f"imported from {source or 'a road graph'} (resiliopt.roads.graphml)",
            "network": "network.yaml",
            "bridges": "bridges.yaml",
            "buildings": "buildings.yaml",
            "community": "community.yaml",
            "variants": {"none": {"description": "as built"}},
        }
    )
    com = tpl.community.model_dump(mode="json")
    rows = ((n, float(x), float(y)) for n, (x, y) in zip(nodes, xy, strict=True))
    write_csv(out / "nodes.csv", ["id", "x", "y"], rows)
    write_csv(out / "links.csv", ["id", "from", "to", "capacity", "two_way"], links)
    for fname, doc in (
        ("network.yaml", network),
        ("bridges.yaml", brt),
        ("buildings.yaml", bt),
        ("community.yaml", com),
        ("case.yaml", ct),
    ):
        with (out / fname).open("w", encoding="utf-8") as fh:
            yaml.dump(doc, fh, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)
    return out / "case.yaml"


def case_from_graphml(path: str | Path, out: str | Path, **kw) -> Path:
    """Read a GraphML road network and write a case for it (see the module's rules)."""
    kw.setdefault("name", Path(path).stem)
    return case_from_graph(read_roads(path), out, source=str(path), **kw)
