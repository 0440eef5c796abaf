r"""Demand that nothing can serve: reachability on the input graph of an infrastructure case.

Independent of any LP (this module reads the case tables and a failed set only), so that the
served-demand LP's answer can be explained, and a case whose intact state already leaves
demand unserved can be warned about (``resiliopt infra validate``).

Given the failed nodes :math:`F_N` and links :math:`F_E`:

1. *Working nodes.* :math:`\text{up}_j = 0` if :math:`j \in F_N`, or if :math:`j` depends with
   loss :math:`\ell_{ij} = 1` on a node :math:`i` with :math:`\text{up}_i = 0` (transitively).
   A dependency with :math:`\ell < 1` leaves the depender at functionality
   :math:`\ge 1 - \ell > 0`, so it still works in part. This is the positive part of the
   cascade's fixed point :math:`w_j = \min(1 - f_j, \min_{i \to j} 1 - \ell_{ij}(1 - w_i))`.
2. *Usable arcs.* A link gives the arc from -> to (and to -> from when two-way) when it is not
   failed, its capacity is positive and both its ends work.
3. *Servable demand.* A demand node (:math:`b_j < 0`) is servable when it works and some
   working supply node (:math:`b_i > 0`) of its layer reaches it along usable arcs.

A node that is not servable receives nothing in *any* feasible flow (an arc carries flow only
while both ends work, a node supplies or takes at most :math:`w |b|`), so its whole demand
:math:`-b_j` is lost whatever the repairs of other elements or the solver do. Servable demand
may still go unserved for lack of capacity: that is the LP's business, not this one's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import pandas as pd

from resiliopt.errors import InputError

#: columns of :func:`unservable_demand`
COLUMNS = ["layer", "node", "demand", "reason", "cause"]

REASONS = {
    "failed": "the node itself failed",
    "dependency": "the node is down: it depends (loss 1) on a node that is down",
    "no supply": "no working supply node of its layer reaches it along working links",
}


def failed_sets(case, failed) -> tuple[set, set, list[str]]:
    """Failed nodes and links as ``{(layer, id)}`` sets, and the rows naming no element of the case.

    ``failed``: None, a DataFrame with columns kind, layer, element, or (kind, layer, element)
    triples.
    """
    if failed is None:
        rows: Iterable = ()
    elif isinstance(failed, pd.DataFrame):
        rows = zip(failed["kind"], failed["layer"], failed["element"], strict=True)
    else:
        rows = (tuple(r) for r in failed)
    nodes = set(zip(case.nodes["layer"], case.nodes["node"], strict=True))
    links = set(zip(case.links["layer"], case.links["link"], strict=True))
    fn: set = set()
    fl: set = set()
    unknown: list[str] = []
    for kind, layer, el in rows:
        key = (str(layer), str(el))
        if kind == "node" and key in nodes:
            fn.add(key)
        elif kind == "link" and key in links:
            fl.add(key)
        else:
            unknown.append(f"{kind} {el!r} of layer {layer!r}")
    return fn, fl, unknown


def down_nodes(case, failed_nodes: set) -> dict[tuple, tuple[str, str]]:
    """Every node that does not work at all: ``{(layer, node): (reason, cause)}``.

    reason ``failed`` (cause empty) or ``dependency`` (cause: the dependee ``layer:node`` that
    took it down first, breadth first).
    """
    down: dict[tuple, tuple[str, str]] = {k: ("failed", "") for k in failed_nodes}
    dep = case.dependencies
    full = dep[dep["loss"] >= 1.0]
    needs: dict[tuple, list[tuple]] = {}
    for ee, er in zip(
        zip(full["dependee_layer"], full["dependee"], strict=True),
        zip(full["depender_layer"], full["depender"], strict=True),
        strict=True,
    ):
        needs.setdefault(ee, []).append(er)
    queue = deque(sorted(failed_nodes))
    while queue:
        ee = queue.popleft()
        for er in needs.get(ee, ()):
            if er not in down:
                down[er] = ("dependency", f"{ee[0]}:{ee[1]}")
                queue.append(er)
    return down


def unservable_demand(case, failed=None) -> pd.DataFrame:
    """Demand nodes that nothing can serve under ``failed`` (None: the intact case).

    One row per such node: ``layer``, ``node``, ``demand`` (the demand lost, > 0, layer unit),
    ``reason`` (``failed``, ``dependency``, ``no supply``: :data:`REASONS`) and ``cause`` (the
    dependee that took the node down, for ``dependency``). See the module docstring; raises
    :class:`InputError` when ``failed`` names an element the case lacks.
    """
    fn, fl, unknown = failed_sets(case, failed)
    if unknown:
        raise InputError(
            f"the failed set names {unknown[0]}, which the case lacks"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""),
            case.path,
            "failed elements",
        )
    down = down_nodes(case, fn)
    nodes = case.nodes
    keys = list(zip(nodes["layer"], nodes["node"], strict=True))
    b = dict(zip(keys, nodes["demand"].astype(float), strict=True))
    succ: dict[tuple, list[tuple]] = {k: [] for k in keys}
    lk = case.links
    for layer, link, a, z, cap, two in zip(
        lk["layer"], lk["link"], lk["from"], lk["to"], lk["capacity"], lk["two_way"], strict=True
    ):
        ta, tz = (layer, a), (layer, z)
        if (layer, link) in fl or not cap > 0 or ta in down or tz in down:
            continue
        succ[ta].append(tz)
        if two:
            succ[tz].append(ta)
    reached = {k for k in keys if b[k] > 0 and k not in down}
    queue = deque(reached)
    while queue:
        for nxt in succ[queue.popleft()]:
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    rows = []
    for k in keys:
        if b[k] >= 0 or k in reached:
            continue
        reason, cause = down.get(k, ("no supply", ""))
        rows.append((k[0], k[1], -b[k], reason, cause))
    return pd.DataFrame(rows, columns=COLUMNS).astype({"demand": float})


def unservable_by_layer(case, table: pd.DataFrame) -> list[dict]:
    """Per layer with unservable demand: ``layer``, ``demand`` (lost), ``share`` (of the layer's
    demand), ``nodes`` (ids), ``supply`` (the layer's total supply: 0 means it has none)."""
    nd = case.nodes
    out = []
    for layer in case.layers["layer"]:
        t = table[table["layer"] == layer]
        if t.empty:
            continue
        d = nd.loc[nd["layer"] == layer, "demand"].astype(float)
        total = float(-d[d < 0].sum())
        lost = float(t["demand"].sum())
        out.append(
            {
                "layer": layer,
                "demand": lost,
                "share": lost / total if total > 0 else 0.0,
                "nodes": [str(n) for n in t["node"]],
                "supply": float(d[d > 0].sum()),
            }
        )
    return out


def unservable_warnings(case) -> list[str]:
    """One sentence per layer whose demand the *intact* case can already not serve (validate warns)."""
    out = []
    for r in unservable_by_layer(case, unservable_demand(case)):
        shown = ", ".join(r["nodes"][:8]) + (" ..." if len(r["nodes"]) > 8 else "")
        why = "the layer has no supply" if r["supply"] <= 0 else "no supply node reaches them along links"
        out.append(
            f"layer {r['layer']!r}: demand {r['demand']:.6g} ({100 * r['share']:.3g} % of the layer) at "
            f"{len(r['nodes'])} node(s) can never be served ({why}): {shown}"
        )
    return out
