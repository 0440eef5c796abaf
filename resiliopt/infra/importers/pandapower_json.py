r"""Power from a pandapower JSON file, read as JSON (pandapower itself is not imported).

A pandapower net saved with ``pandapower.to_json`` is ``{"_module": "pandapower.auxiliary",
"_class": "pandapowerNet", "_object": {...}}``; every table (``bus``, ``load``, ``gen``,
``sgen``, ``ext_grid``, ``line``, ``trafo``, ``switch``, ...) is a pandas DataFrame stored as
``{"_class": "DataFrame", "_object": "<JSON in 'split' orientation>"}``. Read here:

* ``bus`` (index = bus id; ``in_service``; coordinates from the ``geo`` GeoJSON point or the
  older ``bus_geodata`` table);
* ``load``: $P = $ ``p_mw`` x ``scaling`` at its bus;
* ``gen``, ``sgen``: supply ``max_p_mw`` (if missing: ``p_mw`` x ``scaling``, stated per unit in
  import.md); ``ext_grid``: ``max_p_mw``, if missing the total load (an external grid is
  unlimited); generated node ids ``G<idx>``, ``SG<idx>``, ``EG<idx>``;
* ``line`` -> link ``L<idx>``: rating $\sqrt 3\, V_n I_{max} \cdot$ parallel (MVA, $V_n$ of
  the from bus), $x = x_{\Omega/km} \ell / \text{parallel} / (V_n^2 / S_{base})$;
* ``trafo`` -> link ``T<idx>``: rating ``sn_mva`` x parallel,
  $x = \sqrt{v_k^2 - v_{kr}^2}/100 \cdot S_{base}/S_n / \text{parallel}$;
* ``switch``: an open line or trafo switch takes its branch out of service; a closed bus-bus
  switch -> link ``S<idx>`` (rating: the zero-rating parameter; reactance 0); an open bus-bus
  switch is dropped;
* any other non-empty table (trafo3w, impedance, dcline, storage, ward, ...) is not read
  (reported in import.md).

Malformed input -> :class:`~resiliopt.errors.InputError`: JSON syntax (with the line), not a
pandapower net, a missing ``bus`` table, an element at a bus that is not in ``bus`` (named).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from resiliopt.errors import InputError
from resiliopt.infra.importers._common import Imported, Report
from resiliopt.infra.importers._power import Grid, import_grid

READ = {"bus", "bus_geodata", "load", "gen", "sgen", "ext_grid", "line", "trafo", "switch", "line_geodata"}


def _frame(obj: dict, name: str, path: Path) -> list[dict]:
    """Rows (dicts with an ``index`` key) of a stored DataFrame; [] if the table is absent."""
    t = obj.get(name)
    if t is None:
        return []
    if not (isinstance(t, dict) and t.get("_class") == "DataFrame" and isinstance(t.get("_object"), str)):
        raise InputError(f"table {name!r} is not a stored DataFrame", path, name)
    try:
        d = json.loads(t["_object"])
        cols, index, data = d["columns"], d["index"], d["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(
            f"table {name!r} is not a DataFrame in 'split' orientation ({exc})", path, name
        ) from None
    rows = []
    for k, (i, rec) in enumerate(zip(index, data, strict=True)):
        if len(rec) != len(cols):
            raise InputError(f"row {k} has {len(rec)} cells for {len(cols)} columns", path, f"{name}[{i}]")
        rows.append({"index": i, **dict(zip(cols, rec, strict=True))})
    return rows


def _f(v, default: float = math.nan) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(x) else x


def _on(v) -> bool:
    return v is None or bool(v)


def _xy(row: dict) -> tuple[float | None, float | None]:
    g = row.get("geo")
    if isinstance(g, str) and g:
        try:
            c = json.loads(g).get("coordinates")
            return float(c[0]), float(c[1])
        except (json.JSONDecodeError, AttributeError, TypeError, IndexError, ValueError):
            return None, None
    return None, None


def read_pandapower_json(path: Path, rep: Report) -> Grid:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg}", path, f"line {exc.lineno}, column {exc.colno}"
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not a text (UTF-8) file: byte {exc.start} cannot be decoded", path) from None
    if not (
        isinstance(doc, dict)
        and doc.get("_class") == "pandapowerNet"
        and isinstance(doc.get("_object"), dict)
    ):
        raise InputError(
            "not a pandapower net (expected '_class': 'pandapowerNet' at the top)", path, "_class"
        )
    net = doc["_object"]
    if "bus" not in net:
        raise InputError("no 'bus' table", path, "bus")
    base = _f(net.get("sn_mva"), 1.0)
    grid = Grid(base_mva=base)
    buses = _frame(net, "bus", path)
    geo = {r["index"]: (_f(r.get("x")), _f(r.get("y"))) for r in _frame(net, "bus_geodata", path)}
    vn = {}
    for r in buses:
        bid = str(r["index"])
        x, y = _xy(r)
        if x is None and r["index"] in geo:
            x, y = geo[r["index"]]
        vn[bid] = _f(r.get("vn_kv"))
        grid.buses.append(
            {
                "id": bid,
                "x": x,
                "y": y,
                "name": str(r.get("name") or ""),
                "in_service": _on(r.get("in_service")),
                "where": f"bus[{bid}]",
            }
        )
    known = set(vn)

    def bus_of(r: dict, col: str, table: str) -> str:
        b = str(r.get(col))
        if b not in known:
            raise InputError(f"{col} {b} is not in the bus table", path, f"{table}[{r['index']}].{col}")
        return b

    for r in _frame(net, "load", path):
        grid.loads.append(
            {
                "bus": bus_of(r, "bus", "load"),
                "p": _f(r.get("p_mw"), 0.0) * _f(r.get("scaling"), 1.0),
                "in_service": _on(r.get("in_service")),
                "where": f"load[{r['index']}]",
            }
        )
    live = {b["id"] for b in grid.buses if b["in_service"]}
    total_load = sum(ld["p"] for ld in grid.loads if ld["in_service"] and ld["bus"] in live)
    for table, prefix in (("gen", "G"), ("sgen", "SG"), ("ext_grid", "EG")):
        for r in _frame(net, table, path):
            pmax = _f(r.get("max_p_mw"))
            if math.isnan(pmax):
                if table == "ext_grid":
                    pmax = total_load
                    rep.notes.append(
                        f"ext_grid[{r['index']}]: no max_p_mw -> supply = total load {pmax:.6g} MW"
                    )
                else:
                    pmax = _f(r.get("p_mw"), 0.0) * _f(r.get("scaling"), 1.0)
                    rep.notes.append(
                        f"{table}[{r['index']}]: no max_p_mw -> supply = p_mw x scaling {pmax:.6g} MW"
                    )
            grid.gens.append(
                {
                    "id": f"{prefix}{r['index']}",
                    "bus": bus_of(r, "bus", table),
                    "pmax": pmax,
                    "in_service": _on(r.get("in_service")),
                    "where": f"{table}[{r['index']}]",
                }
            )
    open_sw = {}
    for r in _frame(net, "switch", path):
        if r.get("et") in ("l", "t") and r.get("closed") is False:
            open_sw[(r["et"], int(r["element"]))] = r["index"]
    for r in _frame(net, "line", path):
        a, b = bus_of(r, "from_bus", "line"), bus_of(r, "to_bus", "line")
        par = _f(r.get("parallel"), 1.0)
        rating = math.sqrt(3) * vn[a] * _f(r.get("max_i_ka"), 0.0) * par
        zbase = vn[a] ** 2 / base
        length = _f(r.get("length_km"), 0.0)
        sw = open_sw.get(("l", int(r["index"])))
        grid.branches.append(
            {
                "id": f"L{r['index']}",
                "from": a,
                "to": b,
                "kind": "line",
                "where": f"line[{r['index']}]",
                "x": _f(r.get("x_ohm_per_km"), 0.0) * length / par / zbase,
                "r": _f(r.get("r_ohm_per_km"), 0.0) * length / par / zbase,
                "b": 0.0,
                "rating": rating if math.isfinite(rating) else 0.0,
                "ratio": 0.0,
                "shift": 0.0,
                "length_km": length,
                "in_service": _on(r.get("in_service")) and sw is None,
                "why": "out of service" if sw is None else f"open switch {sw}",
            }
        )
    for r in _frame(net, "trafo", path):
        a, b = bus_of(r, "hv_bus", "trafo"), bus_of(r, "lv_bus", "trafo")
        par, sn = _f(r.get("parallel"), 1.0), _f(r.get("sn_mva"), 0.0)
        vk, vkr = _f(r.get("vk_percent"), 0.0), _f(r.get("vkr_percent"), 0.0)
        x = math.sqrt(max(vk**2 - vkr**2, 0.0)) / 100 * base / sn / par if sn > 0 else 0.0
        sw = open_sw.get(("t", int(r["index"])))
        grid.branches.append(
            {
                "id": f"T{r['index']}",
                "from": a,
                "to": b,
                "kind": "transformer",
                "where": f"trafo[{r['index']}]",
                "x": x,
                "r": vkr / 100 * base / sn / par if sn > 0 else 0.0,
                "b": 0.0,
                "rating": sn * par,
                "ratio": 1.0,
                "shift": _f(r.get("shift_degree"), 0.0),
                "in_service": _on(r.get("in_service")) and sw is None,
                "why": "out of service" if sw is None else f"open switch {sw}",
            }
        )
    for r in _frame(net, "switch", path):
        if r.get("et") != "b":
            continue
        a, b = bus_of(r, "bus", "switch"), bus_of(r, "element", "switch")
        grid.branches.append(
            {
                "id": f"S{r['index']}",
                "from": a,
                "to": b,
                "kind": "bus-bus switch",
                "x": 0.0,
                "r": 0.0,
                "b": 0.0,
                "rating": 0.0,
                "ratio": 0.0,
                "shift": 0.0,
                "in_service": r.get("closed") is not False,
                "why": "open switch",
                "where": f"switch[{r['index']}]",
            }
        )
    for name in sorted(net):
        if name in READ or name.startswith("res_") or name.startswith("_"):
            continue
        t = net[name]
        if isinstance(t, dict) and t.get("_class") == "DataFrame":
            n = len(_frame(net, name, path))
            if n:
                grid.unread.append((f"table {name} ({n} rows)", "not read by this importer"))
    return grid


def import_pandapower_json(
    path: str | Path,
    *,
    layer: str = "power",
    zero_rating: float | None = None,
    layout: str = "none",
    name: str | None = None,
) -> Imported:
    """Read a pandapower JSON net into an :class:`Imported` power layer (module docstring)."""
    return import_grid(
        path,
        read_pandapower_json,
        "pandapower JSON",
        "Python's json module (pandapower is not imported)",
        " (sn_mva)",
        layer=layer,
        zero_rating=zero_rating,
        layout=layout,
        name=name,
    )
