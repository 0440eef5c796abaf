"""Power from a MATPOWER case file (``.m``, read by matpowercaseframes) -> a ``power`` layer.

:func:`precheck` walks the file first and refuses, naming the line: a missing
``function mpc = NAME`` line, a matrix (``mpc.bus = [``) not closed by ``];`` (a truncated
file), a row with too few columns or a cell that is not a number, a missing ``mpc.baseMVA``,
``mpc.bus``, ``mpc.gen`` or ``mpc.branch``, a generator or branch at a bus that is not in
``mpc.bus``. The rows it found (with their lines) are compared with what matpowercaseframes
read. The mapping itself is :func:`resiliopt.infra.importers._power.grid_to_case`.

Columns used (MATPOWER manual, Appendix B): bus ``BUS_I, BUS_TYPE (4 = isolated), PD``; gen
``GEN_BUS, GEN_STATUS, PMAX``; branch ``F_BUS, T_BUS, BR_R, BR_X, BR_B, RATE_A, TAP, SHIFT,
BR_STATUS``. ``mpc.dcline`` and other extra fields are not read (reported).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from resiliopt.errors import InputError
from resiliopt.infra.importers._common import Imported
from resiliopt.infra.importers._power import Grid, import_grid

MIN_COLS = {"bus": 13, "gen": 10, "branch": 11}
_OPEN = re.compile(r"^\s*mpc\.(\w+)\s*=\s*([\[{])")
_SCALAR = re.compile(r"^\s*mpc\.(\w+)\s*=\s*([^;\[{]+);")


def precheck(path: Path) -> tuple[dict[str, list[int]], list[tuple[str, int]]]:
    """Check the file's structure; returns the line of every row of every matrix, and the
    matrices this importer does not read (name, line)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"not a text (UTF-8) file: byte {exc.start} cannot be decoded", path) from None
    if not any(re.match(r"^\s*function\s+mpc\s*=\s*\w+", ln) for ln in lines):
        raise InputError("not a MATPOWER case file: no 'function mpc = NAME' line", path, "line 1")
    rows: dict[str, list[int]] = {}
    cells: dict[str, list[list[str]]] = {}
    scalars: dict[str, str] = {}
    n = 0
    while n < len(lines):
        ln = lines[n].split("%", 1)[0]
        m = _OPEN.match(ln)
        if m:
            name, closer = m.group(1), "]" if m.group(2) == "[" else "}"
            start = n
            body = ln[m.end() :]
            rows[name], cells[name] = [], []
            while True:
                done = (closer + ";") in body.replace(" ", "")
                part = body.split(closer, 1)[0]
                for rec in part.split(";"):
                    if rec.strip():
                        rows[name].append(n + 1)
                        cells[name].append(rec.split())
                if done:
                    break
                n += 1
                if n >= len(lines):
                    raise InputError(
                        f"matrix mpc.{name} opened here is not closed with '{closer};' (truncated file?)",
                        path,
                        f"line {start + 1}",
                    )
                body = lines[n].split("%", 1)[0]
        else:
            s = _SCALAR.match(ln)
            if s:
                scalars[s.group(1)] = s.group(2).strip()
        n += 1
    for name in ("bus", "gen", "branch"):
        if name not in rows:
            raise InputError(f"no mpc.{name} matrix (wrong or missing section tag?)", path)
        for line, rec in zip(rows[name], cells[name], strict=True):
            if len(rec) < MIN_COLS[name]:
                raise InputError(
                    f"mpc.{name} row has {len(rec)} columns, at least {MIN_COLS[name]} needed",
                    path,
                    f"line {line}",
                )
            for c in rec:
                try:
                    float(c)
                except ValueError:
                    raise InputError(f"mpc.{name} cell {c!r} is not a number", path, f"line {line}") from None
    if "baseMVA" not in scalars:
        raise InputError("no mpc.baseMVA", path)
    buses = {str(int(float(r[0]))) for r in cells["bus"]}
    for name, cols in (("gen", (0,)), ("branch", (0, 1))):
        for line, rec in zip(rows[name], cells[name], strict=True):
            for c in cols:
                b = str(int(float(rec[c])))
                if b not in buses:
                    raise InputError(
                        f"mpc.{name} refers to bus {b}, which is not in mpc.bus", path, f"line {line}"
                    )
    known = ("bus", "gen", "branch", "gencost", "bus_name", "gentype", "genfuel", "branch_name", "gen_name")
    unread = [(name, r[0] if r else 0) for name, r in rows.items() if name not in known]
    return rows, unread


def _id(v: float) -> str:
    return str(int(round(float(v))))


def read_matpower(path: Path) -> Grid:
    """The grid of a MATPOWER case file (after :func:`precheck`)."""
    lines, unread = precheck(path)
    # matpowercaseframes (and its pandas frames) only where a .m file is read
    from matpowercaseframes import CaseFrames

    try:
        with warnings.catch_warnings():  # its pandas deprecation warnings are not the user's business
            warnings.simplefilter("ignore")
            cf = CaseFrames(str(path))
    except Exception as exc:
        raise InputError(
            f"matpowercaseframes could not read the file: {type(exc).__name__}: {exc}", path
        ) from None
    for name in ("bus", "gen", "branch"):
        if len(getattr(cf, name)) != len(lines[name]):
            raise InputError(
                f"mpc.{name}: {len(getattr(cf, name))} rows read, {len(lines[name])} found", path
            )
    grid = Grid(base_mva=float(cf.baseMVA))
    bus, gen, br = cf.bus, cf.gen, cf.branch
    names = list(bus.index) if bus.index.name == "bus_name" else [""] * len(bus)
    for k in range(len(bus)):
        bid = _id(bus["BUS_I"].iloc[k])
        iso = int(bus["BUS_TYPE"].iloc[k]) == 4
        where = f"mpc.bus line {lines['bus'][k]}"
        grid.buses.append(
            {
                "id": bid,
                "name": str(names[k]),
                "in_service": not iso,
                "where": where,
                "why": "isolated (BUS_TYPE 4)",
            }
        )
        grid.loads.append({"bus": bid, "p": float(bus["PD"].iloc[k]), "in_service": True, "where": where})
    for k in range(len(gen)):
        grid.gens.append(
            {
                "id": f"G{k + 1}",
                "bus": _id(gen["GEN_BUS"].iloc[k]),
                "pmax": float(gen["PMAX"].iloc[k]),
                "in_service": float(gen["GEN_STATUS"].iloc[k]) > 0,
                "where": f"mpc.gen line {lines['gen'][k]}",
            }
        )
    for k in range(len(br)):
        ratio, shift = float(br["TAP"].iloc[k]), float(br["SHIFT"].iloc[k])
        grid.branches.append(
            {
                "id": str(k + 1),
                "from": _id(br["F_BUS"].iloc[k]),
                "to": _id(br["T_BUS"].iloc[k]),
                "x": float(br["BR_X"].iloc[k]),
                "r": float(br["BR_R"].iloc[k]),
                "b": float(br["BR_B"].iloc[k]),
                "rating": float(br["RATE_A"].iloc[k]),
                "ratio": ratio,
                "shift": shift,
                "in_service": float(br["BR_STATUS"].iloc[k]) > 0,
                "kind": "transformer" if (ratio != 0.0 or shift != 0.0) else "line",
                "where": f"mpc.branch line {lines['branch'][k]}",
            }
        )
    for name, line in unread:
        grid.unread.append((f"mpc.{name} (line {line})", "not read by this importer"))
    return grid


def import_matpower(
    path: str | Path,
    *,
    layer: str = "power",
    zero_rating: float | None = None,
    layout: str = "none",
    name: str | None = None,
) -> Imported:
    """Read a MATPOWER ``.m`` case into an :class:`Imported` power layer."""
    return import_grid(
        path,
        lambda p, rep: read_matpower(p),
        "MATPOWER",
        "matpowercaseframes (CaseFrames), after a structural check of the file",
        "",
        layer=layer,
        zero_rating=zero_rating,
        layout=layout,
        name=name,
    )
