r"""Water from an EPANET ``.inp`` file (read by WNTR) -> one ``water`` layer of an infra case.

Mapping (docs/import.md, "Water (EPANET)"; every value is written to ``import.md``):

* junction -> node; demand $b_i = -\bar d_i$ with $\bar d_i$ the junction's demand under the
  pattern rule (``mean``: base demand x the mean multiplier of its pattern over the horizon;
  ``base``: base demand; ``peak``: the largest multiplier), times the file's demand multiplier,
  in L/s. A negative demand (an inflow) becomes a supply.
* reservoir -> supply node; EPANET reservoirs are unlimited, so the supply is a stated
  parameter (default: the layer's total demand, so one reservoir could feed everything).
* tank -> supply node over a horizon $H$: (volume at the initial level - volume at the
  minimum level) / $H$, in L/s.
* pipe -> link, capacity $u = \tfrac{\pi}{4} D^2 v_{max}$ (L/s); a check valve makes it one
  way (start -> end); a pipe closed at the start is dropped (reported, with a word if a
  control of the file may open it; ``keep_controlled=True`` keeps those).
* pump (dropped if closed at the start and no control opens it) -> a pump node
  ``pump_<id>`` (``node_type: pump``: a coupling makes it depend on power) between two
  one-way links ``<id>`` (suction -> pump node) and ``<id>_out`` (pump node -> discharge);
  capacity = the flow at zero head of its head curve, $(A/B)^{1/C}$ for $h = A - B q^C$; a
  constant-power pump takes the largest capacity of the pipes at its ends.
* valve -> link with the pipe rule; PRV, PSV and FCV one way, the others two way.

Read but not used: elevations, heads, roughness, minor losses, controls (other than for the
closed-element rule), quality. Malformed files are refused before WNTR reads them
(:func:`precheck`): an unknown section tag, a record with too few fields, a link end that is
no node, a file without ``[END]`` (truncated), each named with its line.
"""

from __future__ import annotations

import math
from pathlib import Path

from resiliopt.errors import InputError
from resiliopt.infra.importers._common import (
    Imported,
    Report,
    check_layer_name,
    check_quantity,
    num,
    source_lines,
    unique_id,
)

SECTIONS = {
    "TITLE", "JUNCTIONS", "RESERVOIRS", "TANKS", "PIPES", "PUMPS", "VALVES", "TAGS", "DEMANDS",
    "STATUS", "CURVES", "PATTERNS", "ENERGY", "CONTROLS", "RULES", "EMITTERS", "QUALITY",
    "SOURCES", "REACTIONS", "MIXING", "TIMES", "REPORT", "OPTIONS", "COORDINATES", "VERTICES",
    "LABELS", "BACKDROP", "END", "LEAKAGE",
}  # fmt: skip
NODE_SECTIONS = {"JUNCTIONS": 2, "RESERVOIRS": 2, "TANKS": 7}  # minimum fields of a record
LINK_SECTIONS = {"PIPES": 6, "PUMPS": 4, "VALVES": 6}
ONE_WAY_VALVES = {"PRV", "PSV", "FCV"}
PATTERN_RULES = ("mean", "base", "peak")
#: bounds of the options (docs/import.md): a velocity far beyond any water main (1-3 m/s are
#: usual) and a horizon of a year, whose pattern steps are still few enough to average
MAX_VELOCITY_MAX = 100.0  # m/s
HORIZON_HOURS_MAX = 8760.0


def precheck(path: Path) -> None:
    """Refuse what WNTR would misread or report without a line: InputError(file, line)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise InputError(f"not a text (UTF-8) file: byte {exc.start} cannot be decoded", path) from None
    section = None
    nodes: set[str] = set()
    links: list[tuple[int, str, str, str, str]] = []
    seen_end = False
    lines = text.splitlines()
    for n, raw in enumerate(lines, start=1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            tag = line[1:].split("]", 1)[0].strip().upper()
            if not line.rstrip().endswith("]") or tag not in SECTIONS:
                raise InputError(
                    f"unknown section tag {line!r} (EPANET sections: [JUNCTIONS], [PIPES], ...)",
                    path,
                    f"line {n}",
                )
            section = tag
            seen_end = seen_end or tag == "END"
            continue
        if section is None:
            raise InputError(f"data before the first section tag: {line[:40]!r}", path, f"line {n}")
        f = line.split()
        need = NODE_SECTIONS.get(section) or LINK_SECTIONS.get(section)
        if need and len(f) < need:
            raise InputError(
                f"[{section}] record {f[0]!r} has {len(f)} fields, at least {need} needed (truncated line?)",
                path,
                f"line {n}",
            )
        if section in NODE_SECTIONS:
            nodes.add(f[0])
        elif section in LINK_SECTIONS:
            links.append((n, section, f[0], f[1], f[2]))
    if not seen_end:
        raise InputError(
            "no [END] tag: the file is truncated or not an EPANET input file",
            path,
            f"line {len(lines)} (last line)",
        )
    for n, section, lid, a, b in links:
        for end in (a, b):
            if end not in nodes:
                raise InputError(
                    f"[{section}] {lid!r}: end node {end!r} is not a junction, reservoir or tank",
                    path,
                    f"line {n}",
                )


def _read_wntr(path: Path):
    # wntr (and its networkx, scipy, matplotlib) take about a second to import: only here
    import wntr

    try:
        return wntr.network.WaterNetworkModel(str(path))
    except Exception as exc:  # WNTR's own errors: ENSyntaxError carries the line
        msg = " ".join(str(exc).split())
        loc = None
        if "at line" in msg:
            loc = "line " + msg.rsplit("at line", 1)[1].strip().split(":")[0].split()[0]
        raise InputError(f"WNTR could not read the file: {type(exc).__name__}: {msg}", path, loc) from None


def _opened_by_control(wn) -> set[str]:
    """Links that some control or rule of the file sets open (or to a setting)."""
    opened = set()
    for _, c in wn.controls():
        acts = list(c.actions())
        for get in ("_else_actions",):
            acts += list(getattr(c, get, []) or [])
        for a in acts:
            target, attr = a.target()
            value = getattr(a, "_value", None)
            if attr == "status" and int(value) == 1 or attr in ("setting", "base_speed"):
                opened.add(str(target.name))
    return opened


def _multiplier(d, wn, rule: str, horizon_s: float) -> float:
    """Demand of one demand entry under the pattern rule (m3/s)."""
    if rule == "base":
        return float(d.base_value)
    step = float(wn.options.time.pattern_timestep or 3600)
    times = [k * step for k in range(max(1, math.ceil(horizon_s / step)))]
    vals = [float(d.at(t)) for t in times]
    return sum(vals) / len(vals) if rule == "mean" else max(vals)


def import_epanet(
    path: str | Path,
    *,
    layer: str = "water",
    max_velocity: float = 3.0,
    pattern: str = "mean",
    horizon_hours: float = 24.0,
    reservoir_supply: float | None = None,
    repair_cost_per_km: float = 1.0,
    node_repair_cost: float = 1.0,
    keep_controlled: bool = False,
    name: str | None = None,
) -> Imported:
    """Read an EPANET file into an :class:`Imported` water layer (see the module docstring)."""
    path = Path(path)
    if pattern not in PATTERN_RULES:
        raise InputError(
            f"pattern rule must be one of {', '.join(PATTERN_RULES)} (got {pattern!r})", location="--pattern"
        )
    check_layer_name(layer)
    check_quantity(max_velocity, "--max-velocity", hi=MAX_VELOCITY_MAX)
    check_quantity(horizon_hours, "--horizon-hours", hi=HORIZON_HOURS_MAX)
    check_quantity(reservoir_supply, "--reservoir-supply")
    if not path.is_file():
        raise InputError("file not found", path)
    precheck(path)
    wn = _read_wntr(path)
    rep = Report(title=f"Water layer {layer!r} imported from {path.name} (EPANET)")
    rep.source = source_lines(path, "WNTR (wntr.network.WaterNetworkModel), units converted to SI by WNTR")
    horizon_s = horizon_hours * 3600.0
    dmult = float(wn.options.hydraulic.demand_multiplier or 1.0)
    to_ls = 1000.0  # m3/s -> L/s

    nodes: list[dict] = []
    taken: set[str] = set()

    def xy(node) -> tuple:
        c = node.coordinates
        return (num(c[0], 4), num(c[1], 4)) if c is not None else (None, None)

    total_demand = 0.0
    for jid, j in wn.junctions():
        d = sum(_multiplier(e, wn, pattern, horizon_s) for e in j.demand_timeseries_list) * dmult * to_ls
        x, y = xy(j)
        nodes.append(
            {
                "layer": layer,
                "node": jid,
                "demand": num(-d, 4),
                "repair_cost": num(node_repair_cost),
                "x": x,
                "y": y,
                "node_type": "junction",
            }
        )
        taken.add(jid)
        total_demand += max(d, 0.0)
        if d < 0:
            rep.notes.append(f"junction {jid}: negative demand {num(d, 4)} L/s read as a supply")
    res_supply = total_demand if reservoir_supply is None else float(reservoir_supply)
    for rid, r in wn.reservoirs():
        x, y = xy(r)
        nodes.append(
            {
                "layer": layer,
                "node": rid,
                "demand": num(res_supply, 4),
                "repair_cost": num(node_repair_cost),
                "x": x,
                "y": y,
                "node_type": "reservoir",
            }
        )
        taken.add(rid)
    for tid, t in wn.tanks():
        vol = float(t.get_volume(t.init_level)) - float(t.get_volume(t.min_level))
        supply = max(vol, 0.0) / horizon_s * to_ls
        x, y = xy(t)
        nodes.append(
            {
                "layer": layer,
                "node": tid,
                "demand": num(supply, 4),
                "repair_cost": num(node_repair_cost),
                "x": x,
                "y": y,
                "node_type": "tank",
            }
        )
        taken.add(tid)
        rep.notes.append(
            f"tank {tid}: usable volume {num(vol, 3)} m3 (initial {num(t.init_level, 4)} m "
            f"- minimum {num(t.min_level, 4)} m level) -> supply {num(supply, 4)} L/s"
        )

    opened = _opened_by_control(wn)
    links: list[dict] = []
    link_ids = set(wn.link_name_list)

    def closed(link, what: str) -> bool:
        """Pipes and valves closed at the start are dropped (a control that may open one later is
        named; ``keep_controlled`` keeps those); a closed pump is kept if a control opens it."""
        if str(link.initial_status).lower() != "closed":
            return False
        if link.name in opened and (what == "pump" or keep_controlled):
            rep.notes.append(f"{what} {link.name}: closed at the start, opened by a control: kept")
            return False
        why = "closed at the start" + (
            " (a control may open it during a simulation: --keep-controlled keeps it)"
            if link.name in opened
            else " and no control opens it"
        )
        rep.drop(f"{what} {link.name}", why)
        return True

    def dia_cap(diameter: float) -> float:
        return math.pi / 4.0 * diameter**2 * max_velocity * to_ls

    n_check = 0
    for pid, p in wn.pipes():
        if closed(p, "pipe"):
            continue
        n_check += bool(p.check_valve)
        links.append(
            {
                "layer": layer,
                "link": pid,
                "from": p.start_node_name,
                "to": p.end_node_name,
                "capacity": num(dia_cap(p.diameter), 4),
                "repair_cost": num(p.length / 1000.0 * repair_cost_per_km, 6),
                "two_way": not p.check_valve,
                "length_km": num(p.length / 1000.0, 6),
                "link_type": "pipe (check valve)" if p.check_valve else "pipe",
            }
        )
    for vid, v in wn.valves():
        if closed(v, "valve"):
            continue
        one_way = v.valve_type in ONE_WAY_VALVES
        links.append(
            {
                "layer": layer,
                "link": vid,
                "from": v.start_node_name,
                "to": v.end_node_name,
                "capacity": num(dia_cap(v.diameter), 4),
                "repair_cost": 0,
                "two_way": not one_way,
                "link_type": f"valve {v.valve_type}",
            }
        )
    pipe_cap = {}
    for lk in links:
        for end in (lk["from"], lk["to"]):
            pipe_cap[end] = max(pipe_cap.get(end, 0.0), lk["capacity"])
    n_pumps = 0
    for pid, p in wn.pumps():
        if closed(p, "pump"):
            continue
        if p.pump_type == "HEAD":
            a, b, c = p.get_head_curve_coefficients()
            cap = (
                (a / b) ** (1.0 / c) * to_ls
                if b > 0
                else max(pipe_cap.get(p.start_node_name, 0), pipe_cap.get(p.end_node_name, 0))
            )
            rep.notes.append(
                f"pump {pid}: head curve h = {num(a, 4)} - {num(b, 4)} q^{num(c, 4)} -> "
                f"capacity (flow at zero head) {num(cap, 4)} L/s"
            )
        else:
            cap = max(pipe_cap.get(p.start_node_name, 0), pipe_cap.get(p.end_node_name, 0))
            rep.notes.append(
                f"pump {pid}: constant power, capacity = largest pipe at its ends {num(cap, 4)} L/s"
            )
        pn = unique_id(f"pump_{pid}", taken, "pump node", path)
        out_id = f"{pid}_out"
        if out_id in link_ids:
            raise InputError(f"generated link id {out_id!r} collides with a link of the source", path)
        a_xy, b_xy = xy(wn.get_node(p.start_node_name)), xy(wn.get_node(p.end_node_name))
        mid = (
            (num((a_xy[0] + b_xy[0]) / 2, 4), num((a_xy[1] + b_xy[1]) / 2, 4))
            if None not in (*a_xy, *b_xy)
            else (None, None)
        )
        nodes.append(
            {
                "layer": layer,
                "node": pn,
                "demand": 0,
                "repair_cost": num(node_repair_cost),
                "x": mid[0],
                "y": mid[1],
                "node_type": "pump",
            }
        )
        links.append(
            {
                "layer": layer,
                "link": pid,
                "from": p.start_node_name,
                "to": pn,
                "capacity": num(cap, 4),
                "repair_cost": 0,
                "two_way": False,
                "link_type": "pump",
            }
        )
        links.append(
            {
                "layer": layer,
                "link": out_id,
                "from": pn,
                "to": p.end_node_name,
                "capacity": num(cap, 4),
                "repair_cost": 0,
                "two_way": False,
                "link_type": "pump discharge",
            }
        )
        n_pumps += 1

    counts = wn.describe(level=1)
    rep.read = [
        ("junctions", str(counts["Nodes"]["Junctions"])),
        ("reservoirs", str(counts["Nodes"]["Reservoirs"])),
        ("tanks", str(counts["Nodes"]["Tanks"])),
        ("pipes", str(counts["Links"]["Pipes"])),
        ("  of which check valves (kept, one way)", str(n_check)),
        ("pumps", str(counts["Links"]["Pumps"])),
        ("valves", str(counts["Links"]["Valves"])),
        ("controls and rules (not modelled)", str(len(wn.control_name_list))),
    ]
    rep.assume("unit", "L/s", "every demand, supply and capacity of the layer (WNTR's m3/s x 1000)")
    rep.assume(
        "pattern rule",
        pattern,
        "junction demand = base demand x pattern multiplier "
        + {
            "mean": "averaged over the horizon",
            "base": "of 1 (patterns ignored)",
            "peak": "at its largest over the horizon",
        }[pattern]
        + f" x demand multiplier {num(dmult)}",
    )
    rep.assume("horizon", f"{num(horizon_hours)} h", "patterns are averaged and tank volumes spread over it")
    rep.assume(
        "maximum velocity v_max", f"{num(max_velocity)} m/s", "pipe and valve capacity = pi/4 D^2 v_max"
    )
    rep.assume(
        "reservoir supply",
        f"{num(res_supply, 4)} L/s",
        "each reservoir; EPANET reservoirs are unlimited"
        + (" (default: the layer's total demand)" if reservoir_supply is None else ""),
    )
    rep.assume("tank supply", "(V(initial level) - V(minimum level)) / horizon", "per tank, see Notes")
    rep.assume(
        "pump capacity", "flow at zero head of the head curve", "constant-power pumps: largest adjacent pipe"
    )
    rep.assume(
        "pump form",
        "node pump_<id> between links <id> and <id>_out, both one way",
        "so that a power dependency (a node's) can switch the pump off",
    )
    rep.assume(
        "repair cost",
        f"{num(repair_cost_per_km)} per km of pipe; {num(node_repair_cost)} per node; "
        "0 per pump or valve link",
        "not in EPANET",
    )
    rep.assume(
        "flow cost, penalties, repair time, resource use", "format defaults (0, 0 / 1, 1, 1)", "not in EPANET"
    )
    rep.notes.append(
        "hydraulics (heads, pressures, headloss) are not carried: the case is a capacity-only "
        "network flow (docs/import.md, 'Checked against physics')"
    )
    return Imported(
        name=name or path.stem,
        description=f"Water network imported from {path.name} (EPANET) by resiliopt infra import water.",
        layers=[{"layer": layer, "commodity": "water", "unit": "L/s"}],
        nodes=nodes,
        links=links,
        report=rep,
    )
