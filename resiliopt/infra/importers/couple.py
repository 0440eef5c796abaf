r"""Dependencies between imported layers: a linking table, or nearest coordinates.

:func:`couple_cases` merges infra cases (each folder a valid case, e.g. one written by
``infra import water`` and one by ``infra import power``) into one case and adds dependency
rows (docs/import.md, "Dependencies"):

* **linking table** (CSV): columns ``dependee_layer, dependee, depender_layer, depender`` and
  optionally ``type`` (physical) and ``loss`` (1). An element must be a node of its layer; a
  water pump may be named by its EPANET link id (the importer's pump link), which is read as
  its pump node ``pump_<id>``. Anything else -> InputError naming the file, the row (line)
  and the element.
* **nearest coordinates**: every depender node (of a layer, optionally of one ``node_type``)
  depends on the nearest dependee node (of a layer and type) if it lies within ``radius``
  (Euclidean, in the depender layer's coordinates); ties go to the first in table order.
  ``frame="box"`` first maps the dependee layer's coordinates affinely, axis by axis, onto the
  bounding box of the depender layer's nodes (for two networks drawn in different frames);
  ``frame="same"`` uses them as they are.

Side tables (``*_branches.csv``) of the inputs are copied; their ``import.md`` reports are
appended to the coupled one.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from resiliopt._tables import read_csv
from resiliopt.case.infra import load_infra_case
from resiliopt.case.infra_schema import DEPENDENCY_TYPES, Dependency
from resiliopt.errors import InputError
from resiliopt.infra.importers._common import (
    DEP_COLUMNS,
    LINK_COLUMNS,
    NODE_COLUMNS,
    Imported,
    Report,
    num,
    source_lines,
)

FRAMES = ("same", "box")


@dataclass(frozen=True)
class Nearest:
    """Each ``depender`` node (layer[:node_type]) depends on the nearest ``dependee`` node."""

    dependee_layer: str
    depender_layer: str
    dependee_type: str | None = None
    depender_type: str | None = None
    radius: float = math.inf
    frame: str = "same"
    type: str = "physical"

    @classmethod
    def parse(
        cls, spec: str, radius: float = math.inf, frame: str = "same", type: str = "physical"
    ) -> Nearest:
        """``"power:bus,water:pump"``: DEPENDEE_LAYER[:TYPE],DEPENDER_LAYER[:TYPE]."""
        parts = [p.strip() for p in spec.split(",")]
        if len(parts) != 2 or not all(parts):
            raise InputError(
                f"expected DEPENDEE_LAYER[:TYPE],DEPENDER_LAYER[:TYPE] (got {spec!r})", location="--nearest"
            )
        (el, _, et), (rl, _, rt) = (p.partition(":") for p in parts)
        if el == rl and (not et or not rt or et == rt):  # a node would be its own nearest dependee
            raise InputError(
                f"{spec!r} couples nodes of layer {el!r} to themselves: within one layer give two "
                "different node types (e.g. power:bus,power:generator)",
                location="--nearest",
            )
        if frame not in FRAMES:
            raise InputError(f"frame must be one of {', '.join(FRAMES)} (got {frame!r})", location="--frame")
        if type not in DEPENDENCY_TYPES:
            raise InputError(
                f"type must be one of {', '.join(DEPENDENCY_TYPES)} (got {type!r})", location="--type"
            )
        return cls(el, rl, et or None, rt or None, radius, frame, type)


def _rows(df, columns: list[str]) -> list[dict]:
    out = []
    for rec in df.to_dict("records"):
        row = {}
        for c in columns:
            v = rec.get(c)
            row[c] = num(v) if isinstance(v, float) else v
        out.append(row)
    return out


def _read_table(path: Path, nodes: dict[tuple[str, str], dict], pump_links: dict, rep: Report) -> list[dict]:
    recs = read_csv(path, Dependency)
    deps = []
    for k, rec in enumerate(recs):
        where = f"row {k + 1} (line {k + 2})"
        for lcol, ncol in (("dependee_layer", "dependee"), ("depender_layer", "depender")):
            if lcol not in rec or ncol not in rec:
                missing = lcol if lcol not in rec else ncol
                raise InputError(f"missing {missing!r}", path, f"{where}, column {missing!r}")
            key = (rec[lcol], rec[ncol])
            if key in nodes:
                continue
            if key in pump_links:
                rep.notes.append(
                    f"{path.name} {where}: {ncol} {key[1]!r} is pump link {key[1]!r}; read as its "
                    f"pump node {pump_links[key]!r}"
                )
                rec[ncol] = pump_links[key]
                continue
            layers = sorted({lay for lay, _ in nodes})
            if key[0] not in layers:
                raise InputError(
                    f"unknown layer {key[0]!r} (layers: {', '.join(layers)})",
                    path,
                    f"{where}, column {lcol!r}",
                )
            raise InputError(
                f"unknown element: {ncol} {key[1]!r} is not a node of layer {key[0]!r}",
                path,
                f"{where}, column {ncol!r}",
            )
        try:
            dep = Dependency.model_validate(rec)
        except ValueError as exc:
            raise InputError(f"bad row: {' '.join(str(exc).split())[:200]}", path, where) from None
        deps.append(
            {
                "dependee_layer": dep.dependee_layer,
                "dependee": dep.dependee,
                "depender_layer": dep.depender_layer,
                "depender": dep.depender,
                "type": dep.type,
                "loss": num(dep.loss),
            }
        )
    return deps


def _nearest(rule: Nearest, nodes: list[dict], rep: Report) -> list[dict]:
    if rule.frame not in FRAMES:
        raise InputError(f"frame must be one of {', '.join(FRAMES)} (got {rule.frame!r})", location="--frame")

    def pick(layer, typ):
        sel = [n for n in nodes if n["layer"] == layer and (typ is None or n["node_type"] == typ)]
        if not sel:
            raise InputError(
                f"no node of layer {layer!r}" + (f" with node_type {typ!r}" if typ else ""),
                location="--nearest",
            )
        for n in sel:
            if n["x"] is None or n["y"] is None:
                raise InputError(
                    f"node {n['node']!r} of layer {layer!r} has no coordinates (x, y): nearest "
                    "coupling needs them (import the grid with --layout kamada-kawai?)",
                    location="--nearest",
                )
        return sel

    ees = pick(rule.dependee_layer, rule.dependee_type)
    ers = pick(rule.depender_layer, rule.depender_type)
    ex = [float(n["x"]) for n in ees]
    ey = [float(n["y"]) for n in ees]
    if rule.frame == "box":
        frame_nodes = [n for n in nodes if n["layer"] == rule.depender_layer and n["x"] is not None]
        tx = [float(n["x"]) for n in frame_nodes]
        ty = [float(n["y"]) for n in frame_nodes]
        all_e = [n for n in nodes if n["layer"] == rule.dependee_layer and n["x"] is not None]
        sx = [float(n["x"]) for n in all_e]
        sy = [float(n["y"]) for n in all_e]

        def affine(v, src, dst):
            lo, hi = min(src), max(src)
            return (
                min(dst) + (v - lo) / (hi - lo) * (max(dst) - min(dst))
                if hi > lo
                else (min(dst) + max(dst)) / 2
            )

        ex = [affine(v, sx, tx) for v in ex]
        ey = [affine(v, sy, ty) for v in ey]
        rep.assume(
            "frame",
            "box",
            f"{rule.dependee_layer} x in [{num(min(sx), 4)}, {num(max(sx), 4)}] -> "
            f"[{num(min(tx), 4)}, {num(max(tx), 4)}], y in [{num(min(sy), 4)}, {num(max(sy), 4)}] -> "
            f"[{num(min(ty), 4)}, {num(max(ty), 4)}] (the {rule.depender_layer} layer's bounding box)",
        )
    deps = []
    for n in ers:
        x, y = float(n["x"]), float(n["y"])
        d2 = [(xx - x) ** 2 + (yy - y) ** 2 for xx, yy in zip(ex, ey, strict=True)]
        k = min(range(len(d2)), key=d2.__getitem__)
        d = math.sqrt(d2[k])
        if d > rule.radius:
            rep.notes.append(
                f"{rule.depender_layer} {n['node']}: nearest {rule.dependee_layer} node "
                f"{ees[k]['node']} at {num(d, 4)} > radius {num(rule.radius, 4)}: no dependency"
            )
            continue
        deps.append(
            {
                "dependee_layer": rule.dependee_layer,
                "dependee": ees[k]["node"],
                "depender_layer": rule.depender_layer,
                "depender": n["node"],
                "type": rule.type,
                "loss": 1,
            }
        )
        rep.notes.append(
            f"{rule.depender_layer} {n['node']} depends on {rule.dependee_layer} {ees[k]['node']} "
            f"(distance {num(d, 4)} in the {rule.depender_layer} frame)"
        )
    rep.assume(
        "nearest rule",
        f"{rule.dependee_layer}:{rule.dependee_type or '*'} -> "
        f"{rule.depender_layer}:{rule.depender_type or '*'}",
        f"radius {num(rule.radius, 4)}, type {rule.type}, "
        "loss 1; a coupling by coordinates is a modelling assumption, not data",
    )
    return deps


def couple_cases(
    cases: list[str | Path],
    *,
    table: str | Path | None = None,
    nearest: list[Nearest] | None = None,
    name: str | None = None,
) -> Imported:
    """Merge ``cases`` into one and add the dependencies of ``table`` and ``nearest``."""
    if not cases:
        raise InputError("no case to couple", location="CASES")
    loaded = [load_infra_case(c) for c in cases]
    rep = Report(title="Coupled case: " + " + ".join(c.name for c in loaded))
    layers, nodes, links, deps, side = [], [], [], [], {}
    seen: set[str] = set()
    for c in loaded:
        for lay in c.layers.to_dict("records"):
            if lay["layer"] in seen:
                raise InputError(f"layer {lay['layer']!r} is in two of the cases to couple", c.path, "layers")
            seen.add(lay["layer"])
            layers.append({k: v for k, v in lay.items() if v != "" or k != "description"})
        nodes += _rows(c.nodes, NODE_COLUMNS)
        links += _rows(c.links, LINK_COLUMNS)
        deps += _rows(c.dependencies, DEP_COLUMNS)
        for f in sorted(c.path.parent.glob("*_branches.csv")):
            text = f.read_text(encoding="utf-8").splitlines()
            header = text[0].split(",")
            rows = list(csv.DictReader(text))
            side[f.name] = (header, side.get(f.name, (header, []))[1] + rows)
        rep.source.append(f"- case `{c.name}` ({len(c.nodes)} nodes, {len(c.links)} links)")
    for n in nodes:
        for col in ("x", "y", "population"):
            if isinstance(n.get(col), float) and math.isnan(n[col]):
                n[col] = None
    node_keys = {(n["layer"], n["node"]): n for n in nodes}
    pump_links = {(lk["layer"], lk["link"]): lk["to"] for lk in links if lk["link_type"] == "pump"}
    if table is not None:
        table = Path(table)
        rep.source += source_lines(table, "the linking table (CSV)")
        deps += _read_table(table, node_keys, pump_links, rep)
    for rule in nearest or []:
        deps += _nearest(rule, nodes, rep)
    seen_dep = set()
    unique = []
    for d in deps:
        key = (d["dependee_layer"], d["dependee"], d["depender_layer"], d["depender"])
        if key in seen_dep:
            rep.drop(f"dependency {key}", "a repeat of an earlier row")
            continue
        seen_dep.add(key)
        unique.append(d)
    rep.read = [("cases", str(len(loaded))), ("dependencies added", str(len(unique)))]
    for c in loaded:
        md = c.path.parent / "import.md"
        if md.is_file():
            body = md.read_text(encoding="utf-8").splitlines()
            rep.appendix += ["", f"# Input case `{c.name}`: its import.md", ""]
            rep.appendix += ["#" + ln if ln.startswith("#") else ln for ln in body]
    return Imported(
        name=name or "-".join(c.name for c in loaded),
        description="Coupled infrastructure case: " + "; ".join(c.description for c in loaded),
        layers=layers,
        nodes=nodes,
        links=links,
        dependencies=unique,
        report=rep,
        resources=loaded[0]
        .resources.assign(per_period=loaded[0].resources["per_period"].map(num))
        .to_dict("records"),
        currency=loaded[0].currency,
        side_tables=side,
    )
