r"""The analyst's constraints and the Python extension hook, added to every slice LP.

Declared in the case (``constraints:``, ``extension:``; docs/user_constraints.md) and carried
by the slice data (``SliceData.meta``), so the same rows reach every solve: ``slice``,
``audit`` (with their duals under their names), the compiled fast path and the Monte Carlo
(the fast path is compiled from this extended Pyomo model).

``arc_flow_cap`` (row ``NAME``), over a set :math:`A` of arcs:

.. math:: \sum_{e \in A} x_e \le v\, \Delta t \qquad [\text{units/slice}]

``reserve_share`` (row ``NAME``), a share :math:`s` of TR kept for sector :math:`i`:

.. math:: \sum_{j \notin J_i} y_j \le (1 - s)\, TR \qquad [\text{units/slice}]

``arc_closed`` adds no row: the arcs' capacities are 0 on the given days (the recovery state
sets them, :meth:`resiliopt.simulation.scenario.RecoveryState.arc_capacity`).

The extension ``module:function`` is called as ``function(model, data)`` after the rows
above; it may add any linear components, and describe its rows in ``model.user_meta[name] =
{"description": ..., "unit": ...}`` so that the audit shows them.
"""

from __future__ import annotations

import importlib

import pyomo.environ as pyo

from resiliopt.errors import InputError

_PLAIN = {
    pyo.Constraint: {"node_balance", "total_resources"},
    pyo.Var: {"flow", "delivery"},
    pyo.Objective: {"objective"},
}


def extra_components(model: pyo.ConcreteModel) -> list[str]:
    """Components beyond the plain slice LP (a min-cost flow of the input tables).

    The networkx cross-check and the input certificate solve or price the slice's *data* as
    a network flow; they say nothing about rows, variables or objectives added to the model,
    nor about fixed variables, so they do not apply when this list is not empty.
    """
    out = []
    for ctype, names in _PLAIN.items():
        for c in model.component_objects(ctype, active=True, descend_into=True):
            if c.local_name not in names:
                out.append(f"{ctype.__name__.lower()} {c.local_name}")
    for name in ("flow", "delivery"):
        var = getattr(model, name, None)
        if var is not None and any(var[k].fixed for k in var):
            out.append(f"fixed values of {name}")
    return out


def arcs_of(spec, arc_ids: list[str], arc_bridges: dict[str, str]) -> list[str]:
    """The arcs a constraint names: its ``arcs`` and every arc at one of its ``bridges``."""
    chosen = set(spec.arcs)
    missing = chosen - set(arc_ids)
    if missing:
        raise InputError(f"unknown arc(s) {sorted(missing)}", location=f"constraints.{spec.name}.arcs")
    for b in spec.bridges:
        at = [a for a in arc_ids if b in str(arc_bridges.get(a, "")).split("+")]
        if not at:
            raise InputError(f"no arc at bridge {b!r}", location=f"constraints.{spec.name}.bridges")
        chosen.update(at)
    return [a for a in arc_ids if a in chosen]


def load_extension(spec: str):
    """The function named by ``module:function``."""
    module, _, name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot load the extension {spec!r}: {exc}", location="extension") from None
    if not callable(fn):
        raise InputError(f"the extension {spec!r} is not a function", location="extension")
    return fn


def apply(m: pyo.ConcreteModel, data) -> pyo.ConcreteModel:
    """Add the case's constraints and extension (from ``data.meta``) to the slice model ``m``."""
    specs = data.meta.get("constraints") or []
    dt = float(data.meta.get("slice_days", 1))
    sector_of = data.meta.get("group_sector", {})
    meta = dict(getattr(m, "user_meta", {}) or {})
    arc_ids = list(m.arcs)
    arc_bridges = dict(zip(data.arcs["arc"], data.arcs.get("bridges", [""] * len(data.arcs)), strict=True))
    for spec in specs:
        if spec.kind == "arc_closed":
            continue
        if m.find_component(spec.name) is not None:
            raise InputError(f"the name {spec.name!r} is already used in the model", location="constraints")
        if spec.kind == "arc_flow_cap":
            arcs = arcs_of(spec, arc_ids, arc_bridges)
            row = pyo.Constraint(expr=sum(m.flow[e] for e in arcs) <= spec.value * dt, doc=spec.description)
        else:  # reserve_share
            others = [j for j in m.groups if sector_of.get(j) != spec.sector]
            rhs = (1.0 - spec.value) * pyo.value(m.TR)
            row = pyo.Constraint(expr=sum(m.delivery[j] for j in others) <= rhs, doc=spec.description)
        m.add_component(spec.name, row)
        meta[spec.name] = {"description": spec.description or spec.kind, "unit": "units/slice"}
    m.user_meta = meta
    ext = data.meta.get("extension")
    if ext:
        load_extension(ext)(m, data)
    return m
