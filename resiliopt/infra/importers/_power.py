r"""A power grid, read from MATPOWER or pandapower, -> one ``power`` layer of an infra case.

Both readers fill a :class:`Grid` (buses, loads, generators, branches with their source
location); :func:`grid_to_case` applies the one mapping (docs/import.md, "Power"):

* bus -> node, demand $b = -\sum P_d$ of its in-service loads (MW); a negative load is an
  injection and makes the bus a supply;
* generator -> a supply node (``node_type: generator``, $b = P_{max}$) joined to its bus by a
  one-way link of capacity $P_{max}$ (so a generator fails on its own);
* branch (line, transformer) -> two-way link, capacity = its rating (rateA, MVA read as MW);
  a zero rating (MATPOWER: unlimited) -> the stated ``zero_rating`` (default: the total
  in-service $P_{max}$, which no flow can exceed);
* out of service (status 0, isolated bus, a branch or generator at an isolated bus, a
  generator with $P_{max} \le 0$) -> dropped and reported.

The branch reactance (per unit on the system base) is kept in the side table
``power_branches.csv`` for a DC power flow (the case format's links table has no such column).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from resiliopt.errors import InputError
from resiliopt.infra.importers._common import (
    Imported,
    Report,
    check_layer_name,
    check_quantity,
    num,
    source_lines,
)

BRANCH_SIDE = [
    "layer",
    "link",
    "from",
    "to",
    "x_pu",
    "r_pu",
    "b_pu",
    "rating_mw",
    "tap_ratio",
    "shift_deg",
    "base_mva",
]
LAYOUTS = ("none", "kamada-kawai")


@dataclass
class Grid:
    base_mva: float
    buses: list[dict] = field(default_factory=list)  # id, x, y, name, in_service, where
    loads: list[dict] = field(default_factory=list)  # bus, p, in_service, where
    gens: list[dict] = field(default_factory=list)  # id, bus, pmax, in_service, where
    branches: list[dict] = field(
        default_factory=list
    )  # id, from, to, x, r, b, rating, ratio, shift, kind,...
    unread: list[tuple[str, str]] = field(default_factory=list)


def layout_xy(bus_ids: list[str], edges: list[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """Kamada-Kawai layout of the branch graph (deterministic: circular start), in [0, 1]^2."""
    # networkx loads in ~0.3 s and is needed only for a source without coordinates
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(bus_ids)
    g.add_edges_from(edges)
    pos = nx.kamada_kawai_layout(g)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    x0, y0 = min(xs), min(ys)
    s = max(max(xs) - x0, max(ys) - y0) or 1.0
    return {b: (num((pos[b][0] - x0) / s, 4), num((pos[b][1] - y0) / s, 4)) for b in bus_ids}


def check_options(layer: str, zero_rating: float | None, layout: str) -> None:
    """The options of a power import, checked before the file is read."""
    check_layer_name(layer)
    check_quantity(zero_rating, "--zero-rating")
    if layout not in LAYOUTS:
        raise InputError(f"layout must be one of {', '.join(LAYOUTS)} (got {layout!r})", location="--layout")


def import_grid(
    path: str | Path,
    read: Callable[[Path, Report], Grid],
    what: str,
    reader: str,
    base_note: str,
    *,
    layer: str,
    zero_rating: float | None,
    layout: str,
    name: str | None,
) -> Imported:
    """Check the options, read the file with ``read`` (a format's reader) and map the grid:
    what every power importer does, with ``what`` (the format), ``reader`` (how it is read) and
    ``base_note`` (after the system base) for import.md."""
    path = Path(path)
    check_options(layer, zero_rating, layout)
    if not path.is_file():
        raise InputError("file not found", path)
    rep = Report(title=f"Power layer {layer!r} imported from {path.name} ({what})")
    rep.source = source_lines(path, reader)
    grid = read(path, rep)
    rep.source.append(f"- system base: {grid.base_mva} MVA{base_note}")
    return grid_to_case(
        grid,
        path,
        rep,
        layer=layer,
        zero_rating=zero_rating,
        layout=layout,
        name=name or path.stem,
        what=what,
    )


def grid_to_case(
    grid: Grid,
    path: Path,
    rep: Report,
    *,
    layer: str,
    zero_rating: float | None,
    layout: str,
    name: str,
    what: str,
    node_repair_cost: float = 1.0,
    link_repair_cost: float = 1.0,
) -> Imported:
    if layout not in LAYOUTS:
        raise InputError(f"layout must be one of {', '.join(LAYOUTS)} (got {layout!r})", location="--layout")
    live = {}
    for b in grid.buses:
        if b["in_service"]:
            live[b["id"]] = b
        else:
            rep.drop(f"bus {b['id']} ({b['where']})", b.get("why", "out of service"))
    load = {bid: 0.0 for bid in live}
    for ld in grid.loads:
        if ld["p"] == 0:
            continue
        if not ld["in_service"]:
            rep.drop(f"load at bus {ld['bus']} ({ld['where']}), {num(ld['p'], 4)} MW", "out of service")
        elif ld["bus"] not in live:
            rep.drop(
                f"load at bus {ld['bus']} ({ld['where']}), {num(ld['p'], 4)} MW", "its bus is out of service"
            )
        else:
            load[ld["bus"]] += ld["p"]
    gens = []
    for g in grid.gens:
        if not g["in_service"]:
            rep.drop(f"generator {g['id']} at bus {g['bus']} ({g['where']})", "out of service")
        elif g["bus"] not in live:
            rep.drop(f"generator {g['id']} at bus {g['bus']} ({g['where']})", "its bus is out of service")
        elif not g["pmax"] > 0:
            rep.drop(
                f"generator {g['id']} at bus {g['bus']} ({g['where']})",
                f"no active power (Pmax {num(g['pmax'], 4)} MW)",
            )
        else:
            gens.append(g)
    branches = []
    for br in grid.branches:
        if not br["in_service"]:
            rep.drop(
                f"{br['kind']} {br['id']} {br['from']}-{br['to']} ({br['where']})",
                br.get("why", "out of service"),
            )
        elif br["from"] not in live or br["to"] not in live:
            rep.drop(
                f"{br['kind']} {br['id']} {br['from']}-{br['to']} ({br['where']})",
                "an end bus is out of service",
            )
        elif br["from"] == br["to"]:
            rep.drop(f"{br['kind']} {br['id']} ({br['where']})", "both ends at the same bus")
        else:
            branches.append(br)
    total_pmax = sum(g["pmax"] for g in gens)
    zr = total_pmax if zero_rating is None else float(zero_rating)
    if not zr > 0:
        raise InputError(f"the zero-rating capacity must be positive (got {zr})", path, "--zero-rating")
    if layout == "kamada-kawai":
        xy = layout_xy(list(live), [(b["from"], b["to"]) for b in branches])
    else:
        xy = {bid: (num(b.get("x"), 6), num(b.get("y"), 6)) for bid, b in live.items()}
    nodes = [
        {
            "layer": layer,
            "node": bid,
            "demand": num(-load[bid], 6),
            "repair_cost": num(node_repair_cost),
            "x": xy[bid][0],
            "y": xy[bid][1],
            "node_type": "bus",
        }
        for bid in live
    ]
    links, side = [], []
    n_zero = 0
    taken_nodes = set(live)
    taken_links = {br["id"] for br in branches}
    for g in gens:
        if g["id"] in taken_nodes or g["id"] in taken_links:
            raise InputError(f"generated generator id {g['id']!r} collides with a bus or branch id", path)
        taken_nodes.add(g["id"])
        bx, by = xy[g["bus"]]
        nodes.append(
            {
                "layer": layer,
                "node": g["id"],
                "demand": num(g["pmax"], 6),
                "repair_cost": num(node_repair_cost),
                "x": bx,
                "y": by,
                "node_type": "generator",
            }
        )
        links.append(
            {
                "layer": layer,
                "link": g["id"],
                "from": g["id"],
                "to": g["bus"],
                "capacity": num(g["pmax"], 6),
                "repair_cost": 0,
                "two_way": False,
                "link_type": "generator connection",
            }
        )
    for br in branches:
        cap = br["rating"]
        if not cap > 0:
            cap = zr
            n_zero += 1
        links.append(
            {
                "layer": layer,
                "link": br["id"],
                "from": br["from"],
                "to": br["to"],
                "capacity": num(cap, 6),
                "repair_cost": num(link_repair_cost),
                "two_way": True,
                "length_km": num(br.get("length_km"), 6),
                "link_type": br["kind"],
            }
        )
        side.append(
            {
                "layer": layer,
                "link": br["id"],
                "from": br["from"],
                "to": br["to"],
                "x_pu": num(br["x"], 8),
                "r_pu": num(br["r"], 8),
                "b_pu": num(br["b"], 8),
                "rating_mw": num(cap, 6),
                "tap_ratio": num(br["ratio"], 6),
                "shift_deg": num(br["shift"], 6),
                "base_mva": num(grid.base_mva),
            }
        )
    for what_, why in grid.unread:
        rep.drop(what_, why)
    n_live_loads = sum(1 for v in load.values() if v != 0)
    rep.read = [
        ("buses", str(len(grid.buses))),
        ("loads (non-zero)", str(sum(1 for ld in grid.loads if ld["p"] != 0))),
        ("generators", str(len(grid.gens))),
        ("branches", str(len(grid.branches))),
        (
            "in service: buses / buses with load / generators / branches",
            f"{len(live)} / {n_live_loads} / {len(gens)} / {len(branches)}",
        ),
        ("total load, total Pmax (MW)", f"{num(sum(load.values()), 4)} / {num(total_pmax, 4)}"),
    ]
    rep.assume("unit", "MW", "demand, supply and capacity (MVA ratings read as MW: power factor 1)")
    rep.assume(
        "generator supply", "Pmax", "each in-service generator, as its own node on a one-way link to its bus"
    )
    rep.assume(
        "zero rating",
        f"{num(zr, 4)} MW" + (" (default: total in-service Pmax)" if zero_rating is None else ""),
        f"capacity of a branch whose rating is 0 or missing ({n_zero} branches)",
    )
    rep.assume("branch direction", "two way", "capacity = rating in each direction")
    rep.assume(
        "losses, voltages, reactive power",
        "not modelled",
        "the case is a capacity-only flow; the reactance is kept in power_branches.csv for a DC power flow",
    )
    rep.assume(
        "repair cost",
        f"{num(node_repair_cost)} per bus or generator, {num(link_repair_cost)} per branch, "
        "0 per generator connection",
        f"not in {what}",
    )
    rep.assume(
        "coordinates",
        {
            "none": "as in the source (empty where it has none)",
            "kamada-kawai": "Kamada-Kawai layout of the branch graph in [0, 1]^2 (SYNTHETIC)",
        }[layout],
        "x, y of buses; a generator at its bus",
    )
    return Imported(
        name=name,
        description=f"Power grid imported from {path.name} ({what}) by resiliopt infra import power.",
        layers=[{"layer": layer, "commodity": "electric power", "unit": "MW"}],
        nodes=nodes,
        links=links,
        report=rep,
        side_tables={"power_branches.csv": (BRANCH_SIDE, side)},
    )
