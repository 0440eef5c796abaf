r"""The frames of the operations page's map: each element's state at each period, read from
what the commands wrote (docs/report.md, "The operations page").

``infra restore`` (:func:`restore_frames`). Period 0 is the damage (``damage.csv``); in period
:math:`t \ge 1` a damaged element whose repair starts in period :math:`p` and serves from
:math:`w = p + \tau - 1` (``repairs.csv``: ``period``, ``works_from``; docs/indp.md) is
*failed* for :math:`t < p`, *under repair* for :math:`p \le t < w`, *repaired in this period*
at :math:`t = w` (it serves in that period, as in the INDP) and working after; an element with
no repair stays failed. A node that is not failed but does not work (``nodes.parquet``,
``works`` = 0) is *out*: an element it depends on is down. A plan from before repairs took
several periods has no ``works_from``: :math:`w = p`.

``emergency replay`` (:func:`replay_frames`). The damage at the event's first time stamp is
failed from period 0; a repair row of ``dispatch.csv`` (``start`` :math:`s`, ``end`` :math:`e`,
in periods) makes its element *under repair* in periods :math:`s \le t < e` and working from
:math:`e` (the loop's rule: a repair ending at :math:`e` completes before period :math:`e`'s
indicators). An element first seen in a repair row without being damaged at the first time
stamp (an aftershock's) is shown failed from its dispatch only: the written tables do not say
when it failed. Crews at work at :math:`t` stand at their element's site; a crew dispatched at
:math:`t` is drawn with its route: the shortest road path (km) from the nearest depot open at
:math:`t` to the road node nearest the site, over the roads not closed at :math:`t`, as the
loop computes its travel time (:meth:`resiliopt.emergency.event.RoadAccess.travel_hours`).

``infra simulate`` (:func:`probability_frames`). The Monte Carlo writes no element states;
its map shows each element's failure probability at each magnitude of the run (the case's
``failure_probability`` table, the one the damage draws use).
"""

from __future__ import annotations

import math

import pandas as pd

from resiliopt.reports.ops_map import NetworkMap, State, damage_keys, key

RESTORE_STATES = [
    State("w", "working", "working", "#9aa5b1"),
    State("f", "failed", "failed (not yet repaired)", "#d62728"),
    State("u", "repair", "under repair", "#ff9f1c"),
    State("r", "repaired", "repaired in this period", "#2ca02c"),
    State("d", "out", "out: an element it depends on is down", "#6a3d9a"),
]
REPLAY_STATES = [
    State("w", "working", "working", "#9aa5b1"),
    State("f", "failed", "failed (no crew yet)", "#d62728"),
    State("r", "repair", "under repair (crew at work)", "#ff9f1c"),
]
#: failure-probability bins of the Monte Carlo's map: (code, lower bound)
BINS = [("0", 0.0), ("1", 0.01), ("2", 0.05), ("3", 0.10), ("4", 0.25)]
PROBABILITY_STATES = [
    State("0", "p0", "p < 1 %", "#c7d3e0", "{n} at p < 1 %"),
    State("1", "p1", "1-5 %", "#fdd49e", "{n} at 1-5 %"),
    State("2", "p2", "5-10 %", "#fc8d59", "{n} at 5-10 %"),
    State("3", "p3", "10-25 %", "#e34a33", "{n} at 10-25 %"),
    State("4", "p4", "p >= 25 %", "#7f0000", "{n} at p >= 25 %"),
    State("n", "none", "no probability given", "#eeeeee", "{n} without a probability"),
]


def _count(states: str, code: str) -> int:
    return states.count(code)


# ---------------------------------------------------------------------------- restore
def restore_frames(
    nmap: NetworkMap, damage: pd.DataFrame, repairs: pd.DataFrame, nodes: pd.DataFrame | None, periods: int
) -> list[dict]:
    """One frame per period 0..``periods`` of a restoration plan (module docstring)."""
    damaged = damage_keys(damage)
    ends = repairs["works_from"] if "works_from" in repairs else repairs["period"]
    cols = (repairs["kind"], repairs["layer"], repairs["element"], repairs["period"], ends)
    when = {key(a, b, c): (int(p), int(w)) for a, b, c, p, w in zip(*cols, strict=True)}
    works = {}
    if nodes is not None and not nodes.empty:
        for layer, node, t, w in nodes[["layer", "node", "period", "works"]].to_numpy():
            works[(key("node", layer, node), int(t))] = bool(w)
    frames = []
    for t in range(periods + 1):
        codes = {}
        for k in damaged:
            p, w = when.get(k, (None, None))
            if t == 0 or p is None or t < p:
                codes[k] = "f"
            else:
                codes[k] = "u" if t < w else "r" if t == w else "w"
        if t > 0:
            for k in nmap.keys:
                if k[0] == "node" and codes.get(k, "w") == "w" and works.get((k, t)) is False:
                    codes[k] = "d"
        states = nmap.states_of(codes)
        what = "the damage, before any repair" if t == 0 else f"period {t}"
        frames.append(
            {
                "label": f"{what}: {_count(states, 'f')} failed, {_count(states, 'u')} under repair, "
                f"{_count(states, 'r')} repaired in this period, {_count(states, 'd')} out by dependency",
                "states": states,
                "crews": [],
                "closed": [],
            }
        )
    return frames


# ---------------------------------------------------------------------------- replay
def first_damage(obs: pd.DataFrame) -> pd.DataFrame:
    """kind, layer, element of every element not ``up`` at the observations' first time stamp:
    the damage a replay starts from (docs/emergency.md: the state at the first time stamp is
    what was observed then; ``down``, ``degraded`` and ``repairing`` are damaged). The same as
    ``damaged_of(observed_states(obs)[0][1])`` of :mod:`resiliopt.emergency.monitor` (tested),
    without the import of the monitor's LP (Pyomo, HiGHS: about 1 s of ``resiliopt report``)."""
    first = obs[obs["time"] == obs["time"].min()]
    return first.loc[first["status"] != "up", ["kind", "layer", "element"]].reset_index(drop=True)


def _route(nmap: NetworkMap, access, k, period: float) -> list[list[float]] | None:
    """The crew's road path from the nearest open depot to the site of ``k`` at ``period``."""
    import networkx as nx  # imported here: only a replay with roads draws routes (networkx, 0.2 s)

    site = nmap.raw_site(k)
    if access is None or site is None:
        return None
    target = access.nearest(*site)
    shut = access.closed(period)
    g = nx.subgraph_view(access.graph, filter_edge=lambda u, v: access.graph[u][v]["id"] not in shut)
    try:
        _, path = nx.multi_source_dijkstra(g, set(access.roads.depots), target=target, weight="km")
    except nx.NetworkXNoPath:
        return None
    pts = nmap.road_points(k[1], list(path)) + [nmap.site(k)]
    return [[round(x, 1), round(y, 1)] for x, y in pts]


def replay_frames(
    nmap: NetworkMap,
    periods: pd.DataFrame,
    dispatch: pd.DataFrame,
    damaged0: pd.DataFrame | None,
    access=None,
) -> list[dict]:
    """One frame per period of one run of a replay (module docstring)."""
    rep = dispatch[dispatch["action"] == "repair"]
    rows = [
        (key(r.kind, r.layer, r.element), float(r.start), float(r.end), str(r.crew), float(r.travel_hours))
        for r in rep.itertuples(index=False)
    ]
    failed_from = {k: 0.0 for k in damage_keys(damaged0)}
    for k, s, _, _, _ in rows:
        failed_from.setdefault(k, s)
    frames = []
    for r in periods.sort_values("period").itertuples(index=False):
        t = int(r.period)
        codes, crews = {}, []
        for k, since in failed_from.items():
            if since <= t:
                mine = [x for x in rows if x[0] == k and x[1] <= t]
                if not mine:
                    codes[k] = "f"
                elif any(t < x[2] for x in mine):
                    codes[k] = "r"
                else:
                    codes[k] = "w"
        for k, s, e, crew, hours in rows:
            if s <= t < e:
                where = nmap.site(k)
                if where is None:
                    continue
                route = _route(nmap, access, k, t) if s == t and hours > 0 else None
                crews.append(
                    {
                        "crew": crew,
                        "x": round(where[0], 1),
                        "y": round(where[1], 1),
                        "route": route,
                        "what": f"{crew}: {' '.join(k)}, periods {s:g}-{e:g}"
                        + (f", travel {hours:.1f} h" if hours > 0 else ""),
                    }
                )
        states = nmap.states_of(codes)
        level = getattr(r, "level", "")
        frames.append(
            {
                "label": f"period {t}: level {level}, {_count(states, 'f')} failed, "
                f"{_count(states, 'r')} under repair, {len(crews)} crews at work",
                "states": states,
                "crews": crews,
                "closed": sorted(access.closed(t)) if access is not None else [],
            }
        )
    return frames


def gantt_rows(dispatch: pd.DataFrame, layer_colour: dict[str, str]) -> list[tuple[str, list]]:
    """The dispatch Gantt's rows: one per crew (a repair needing two crews is on both rows),
    travel hatched, repairs in their layer's colour."""
    by_crew: dict[str, list] = {}
    for r in dispatch.itertuples(index=False):
        k = key(r.kind, r.layer, r.element)
        tip = f"{r.crew}: {r.action} {' '.join(k)}, periods {float(r.start):.3g}-{float(r.end):.3g}"
        colour = "travel" if r.action == "travel" else layer_colour.get(str(r.layer), "#888")
        text = "" if r.action == "travel" else f"{k[1]} {k[2]}"
        for crew in str(r.crew).split("+"):
            by_crew.setdefault(crew, []).append((float(r.start), float(r.end), text, colour, tip))

    def order(c: str):  # crew-2 before crew-10
        head, _, tail = c.rpartition("-")
        return (head, int(tail)) if tail.isdigit() else (c, 0)

    return [(c, by_crew[c]) for c in sorted(by_crew, key=order)]


# ---------------------------------------------------------------------------- infra simulate
def probability_frames(nmap: NetworkMap, table: pd.DataFrame, magnitudes: list[float]) -> list[dict]:
    """One frame per magnitude: each element's failure-probability bin (module docstring)."""
    frames = []
    for m in magnitudes:
        rows = table[table["magnitude"].astype(float) == float(m)]
        codes = {}
        for kind, layer, el, p in rows[["kind", "layer", "element", "p"]].to_numpy():
            p = float(p)
            codes[key(kind, layer, el)] = next(c for c, lo in reversed(BINS) if p >= lo or lo == 0.0)
        states = nmap.states_of(codes, default="n")
        high = _count(states, "3") + _count(states, "4")
        expected = float(rows["p"].sum()) if len(rows) else math.nan
        frames.append(
            {
                "label": f"magnitude {m:g}: {high} elements with p >= 10 %, {expected:.1f} failures expected",
                "states": states,
                "crews": [],
                "closed": [],
            }
        )
    return frames
