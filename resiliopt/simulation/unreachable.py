r"""Demand that no road reaches: reachability on the *input* graph of a slice or a case.

Independent of any LP (the slice's tables or the case model's arrays only), so that a slice's
answer can be explained and a case whose intact network already cuts buildings off can be
warned about (``resiliopt validate``).

A slice (docs/slice_lp.md) has arcs :math:`e = (u_e, w_e)` with capacity :math:`C_e` and
groups :math:`j` on road nodes :math:`v(j)` with demand :math:`d_j` and gain :math:`g_j`. An
arc is *open* when :math:`C_e > 0` and no user closure (docs/constraints.md) closes it on the
slice's day. :math:`R` is the set of nodes reached from the source along open arcs (breadth
first). A group with :math:`d_j > 0` and :math:`v(j) \notin R` is *unreachable*: every path to
it crosses an arc that carries nothing, so :math:`y_j = 0` in *every* feasible plan (the node
balances of the nodes outside :math:`R` receive no flow), whatever the solver does. What it
is worth:

* ``demand_share``: :math:`\sum_{j \in U} d_j / \sum_j d_j`;
* ``fc_at_stake``: :math:`\sum_{j \in U} g_j^+ d_j`, the F_C the slice would gain if those
  groups received their demand; ``fc_share``: its share of :math:`\sum_j g_j^+ d_j`, the F_C
  the slice could gain if every demand were met (the objective without network or TR limits).

A case (:func:`intact_unreachable`): the same reachability on the *intact* network (every
link and entry arc at its designed capacity times ``capacity_factor``, no bridge damage, no
closure), over every building group of the case model. A group found there can never be
repaired, whatever the earthquake: ``building_share`` is its share of all buildings and
``fc_share`` the share of the intact F_C lost if all of them were unsafe,
:math:`(F_C(0) - F_C(l_U)) / F_C(0)` with :math:`l_U` the sector losses of those groups alone.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd

from resiliopt import community as fc
from resiliopt.formulations.slice_lp import SliceData
from resiliopt.schemas import SECTORS
from resiliopt.simulation.scenario import CaseModel

#: columns of :func:`unreachable_groups`
COLUMNS = ["group", "node", "demand", "gain", "fc_at_stake"]


def reached_nodes(data: SliceData) -> set[str]:
    """Nodes reached from ``data.source`` along open arcs (capacity > 0, not closed by a user
    closure on ``data.day``), the source included."""
    closed: set[str] = set()
    for row in data.constraints:
        if row.kind == "closure" and not row.is_open(data.day):
            closed.update(row.arcs)
    a = data.arcs
    succ: dict[str, list[str]] = {}
    for arc, u, w, cap in zip(
        a["arc"].tolist(), a["from"].tolist(), a["to"].tolist(), a["capacity"].tolist(), strict=True
    ):
        if cap > 0 and arc not in closed:
            succ.setdefault(u, []).append(w)
    seen = {data.source}
    queue = deque([data.source])
    while queue:
        for w in succ.get(queue.popleft(), ()):
            if w not in seen:
                seen.add(w)
                queue.append(w)
    return seen


def unreachable_groups(data: SliceData) -> pd.DataFrame:
    """Groups with demand whose node no open arc path reaches from the source (module docstring).

    One row per group, in input order: ``group``, ``node``, ``demand``, ``gain`` and
    ``fc_at_stake`` (:math:`g_j^+ d_j`, F_C).
    """
    g = data.groups
    seen = reached_nodes(data)
    demand = g["capacity"].to_numpy(dtype=float)
    gain = g["gain"].to_numpy(dtype=float)
    cut = (demand > 0) & ~g["node"].isin(seen).to_numpy()
    return pd.DataFrame(
        {
            "group": g["group"].to_numpy()[cut],
            "node": g["node"].to_numpy()[cut],
            "demand": demand[cut],
            "gain": gain[cut],
            "fc_at_stake": np.maximum(gain[cut], 0.0) * demand[cut],
        },
        columns=COLUMNS,
    )


def unreachable_summary(data: SliceData, table: pd.DataFrame | None = None) -> dict:
    """Count, demand, shares and nodes of :func:`unreachable_groups` (``table``, if at hand).

    ``groups``, ``nodes`` (ids, first-seen order), ``demand``, ``demand_share``,
    ``fc_at_stake``, ``fc_share`` (module docstring; shares are 0 when the slice has no
    demand or no positive gain).
    """
    t = unreachable_groups(data) if table is None else table
    g = data.groups
    demand = g["capacity"].to_numpy(dtype=float)
    worth = np.maximum(g["gain"].to_numpy(dtype=float), 0.0) * demand
    total_d, total_w = float(demand.sum()), float(worth.sum())
    lost_d, lost_w = float(t["demand"].sum()), float(t["fc_at_stake"].sum())
    return {
        "groups": len(t),
        "nodes": list(dict.fromkeys(str(v) for v in t["node"])),
        "demand": lost_d,
        "demand_share": lost_d / total_d if total_d > 0 else 0.0,
        "fc_at_stake": lost_w,
        "fc_share": lost_w / total_w if total_w > 0 else 0.0,
    }


def unreachable_line(summary: dict, source: str) -> str:
    """One sentence for a slice: what no road reaches (empty when nothing)."""
    if not summary["groups"]:
        return ""
    nodes = summary["nodes"]
    shown = ", ".join(nodes[:8]) + (" ..." if len(nodes) > 8 else "")
    return (
        f"{summary['groups']} group(s) with demand {summary['demand']:.6g} "
        f"({100 * summary['demand_share']:.3g} % of the demand, {100 * summary['fc_share']:.3g} % of "
        f"the F_C this slice could gain) stand at {len(nodes)} node(s) no open arc reaches from "
        f"{source}: {shown}"
    )


def intact_unreachable(cm: CaseModel) -> dict:
    """Building groups of a case that the *intact* network does not reach (module docstring).

    ``groups`` (ids), ``nodes``, ``building_share`` and ``fc_share``; empty lists and 0 when
    every group is reached.
    """
    net = cm.case.network
    intact = SliceData(
        cm.arcs[["arc", "from", "to", "capacity", "label"]].copy(),
        pd.DataFrame(
            {
                "group": cm.group_ids,
                "node": cm.g_node,
                "capacity": np.ones(cm.n_groups),
                "gain": np.zeros(cm.n_groups),
            }
        ),
        0.0,
        net.entry.id,
        net.sink,
        name=f"{cm.case.name} (intact)",
    )
    seen = reached_nodes(intact)
    cut = ~np.isin(np.asarray(cm.g_node, dtype=object), list(seen))
    count = np.asarray(cm.g_count, dtype=float)
    totals = cm.case.sector_totals
    dam, clamp = cm.case.dam, cm.case.community.clamp
    f0 = float(fc.functionality(np.zeros(len(SECTORS)), dam, clamp))
    lost = fc.sector_loss(np.where(cut, count, 0.0), cm.g_sector, totals)
    f_u = float(fc.functionality(lost, dam, clamp))
    return {
        "groups": [cm.group_ids[k] for k in np.flatnonzero(cut)],
        "nodes": list(dict.fromkeys(cm.g_node[k] for k in np.flatnonzero(cut))),
        "building_share": float(count[cut].sum() / count.sum()) if count.sum() > 0 else 0.0,
        "fc_share": (f0 - f_u) / f0 if f0 > 0 else 0.0,
    }


def intact_warnings(cm: CaseModel) -> list[str]:
    """One sentence when the intact network leaves building groups unreached (validate warns)."""
    r = intact_unreachable(cm)
    if not r["groups"]:
        return []
    nodes = r["nodes"]
    shown = ", ".join(nodes[:8]) + (" ..." if len(nodes) > 8 else "")
    return [
        f"{len(r['groups'])} building group(s) ({100 * r['building_share']:.3g} % of the buildings, "
        f"{100 * r['fc_share']:.3g} % of F_C if they were damaged) stand at {len(nodes)} node(s) that no "
        f"road reaches from the entry {cm.case.network.entry.id} even in the intact network: {shown}; "
        "their damage can never be repaired"
    ]
