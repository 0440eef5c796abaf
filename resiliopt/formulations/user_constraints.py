r"""User constraints added to the slice LP: declarative ones from the case, and a Python hook.

The math of each type (docs/constraints.md); :math:`A` a set of arcs, :math:`G` a set of
groups, :math:`\Delta t` the slice length in days, :math:`t` the slice's first day:

.. math::

    \text{flow\_cap:}\quad & \sum_{e \in A} x_e \le \bar F\,\Delta t
        && [\text{units/slice}] \\
    \text{tr\_share:}\quad & \sum_{j \notin G} y_j \le (1 - s)\, TR
        && [\text{units/slice}] \\
    \text{min\_delivery:}\quad & \sum_{j \in G} y_j \ge \min\Big(a\,\Delta t,\; \sum_{j \in G} d_j\Big)
        && [\text{units/slice}] \\
    \text{closure:}\quad & x_e \le C_e\, o(t), \quad o(t) = [t \notin [t_0, t_1)]
        \quad \forall e \in A && [\text{units/slice}]

Each declarative constraint is one Pyomo ``Constraint`` on the model, named as in the case
(``model.<name>``), with its description and unit in ``model.meta`` next to the built-in
rows: its duals appear under that name in the tidy dual table and the audit. Right-hand
sides that change with the slice are mutable parameters in the block ``model.user_data``
(``min_delivery``: the bound; ``closure``: :math:`o(t)`), refreshed from ``model.demand`` and
``model.day`` by :func:`refresh_user_constraints` (called by ``build_slice_model`` and
``update_slice_model``).

Readings (written down once, in docs/constraints.md): a TR share is a *reservation*, not an
obligation (the other groups may use at most :math:`(1-s)\,TR`; what the reserved groups
cannot take stays unused), so it never makes a slice infeasible; a minimum delivery is capped
at what the groups demand this slice, but the network may still be unable to carry it, and
such a slice is infeasible (reported as a failed solve, naming HiGHS's status); the flow
through a bridge is the flow on the arcs *into* the bridge's interchange node.

The extension hook: a function ``f(model, slice_data) -> None`` that adds Pyomo components
(:func:`load_extension` reads ``module:function``). The model it receives is built once and
then updated in place (by the Monte Carlo's fast path as well), so anything that changes with
the slice must be written with the model's mutable parameters ``cap``, ``demand``, ``gain``,
``TR`` and ``day``, never with numbers read from ``slice_data``.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from resiliopt.errors import InputError

if TYPE_CHECKING:  # imported where rows are added to a model
    import pyomo.environ as pyo  # imported here: a slice solved from its matrix loads no Pyomo

Extension = Callable[["pyo.ConcreteModel", object], None]

#: description and unit of each declarative type (a constraint's own description comes first)
TYPES: dict[str, dict[str, str]] = {
    "flow_cap": {"description": "total flow through the arcs at most the cap", "unit": "units/slice"},
    "tr_share": {
        "description": "groups outside the set receive at most (1 - share) TR",
        "unit": "units/slice",
    },
    "min_delivery": {
        "description": "the groups receive at least the amount (or all they demand)",
        "unit": "units/slice",
    },
    "closure": {
        "description": "a closed arc carries nothing (flow <= capacity x open)",
        "unit": "units/slice",
    },
}


@dataclass(frozen=True)
class UserRow:
    """One declarative constraint resolved to the ids of a case's arcs and groups.

    ``value``: flow_cap the cap and min_delivery the amount, both in units per slice;
    tr_share the share. ``groups``: the reserved set (tr_share) or the set served
    (min_delivery). Closure days: :math:`[from\\_day, until\\_day)`.
    """

    name: str
    kind: str
    description: str
    arcs: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    value: float = 0.0
    from_day: int = 0
    until_day: float = math.inf

    @property
    def unit(self) -> str:
        return TYPES[self.kind]["unit"]

    def meta(self) -> dict[str, str]:
        base = TYPES[self.kind]["description"]
        text = f"{self.description} ({self.kind}: {base})" if self.description else f"{self.kind}: {base}"
        return {"description": text, "unit": self.unit}

    def is_open(self, day: float) -> bool:
        """Closure: whether the arcs are open on ``day``."""
        return not (self.from_day <= day < self.until_day)


def resolve(case, arcs, group_ids, g_cat, g_sector, g_node, sectors, slice_days: int) -> tuple[UserRow, ...]:
    """The case's declarative constraints as :class:`UserRow` (arc and group ids).

    ``arcs``: the case's arc table (``arc``, ``from``, ``to``, ``label``); groups as the
    case model's arrays. Ids were checked when the case was loaded; a selection that matches
    no arc or no group is refused here (it would be an empty, meaningless row).
    """
    bridge_node = {b.id: b.node for b in case.bridges.bridges}
    cat_ids = [c.id for c in case.buildings.categories]
    out = []
    for name, c in case.case.constraints.items():
        where = f"constraints.{name}"
        if c.type in ("flow_cap", "closure"):
            nodes = {bridge_node[b] for b in c.bridges}
            pick = (
                arcs["arc"].isin(c.arcs)
                | (arcs["label"].isin(c.links) & ~arcs["from"].eq(case.network.entry.id))
                | arcs["to"].isin(nodes)
            )
            ids = tuple(arcs.loc[pick, "arc"])
            if not ids:
                raise InputError("the selection matches no arc", case.path, where)
            if c.type == "flow_cap":
                out.append(UserRow(name, c.type, c.description, arcs=ids, value=c.max * slice_days))
            else:
                until = math.inf if c.until_day is None else c.until_day
                out.append(
                    UserRow(name, c.type, c.description, arcs=ids, from_day=c.from_day, until_day=until)
                )
            continue
        keep = np.ones(len(group_ids), dtype=bool)
        if c.sectors:
            keep &= np.isin(np.asarray(sectors)[g_sector], c.sectors)
        if c.categories:
            keep &= np.isin(np.asarray(cat_ids)[g_cat], c.categories)
        if c.nodes:
            keep &= np.isin(np.asarray(g_node, dtype=object), c.nodes)
        ids = tuple(g for g, k in zip(group_ids, keep, strict=True) if k)
        if not ids:
            raise InputError("the selection matches no building group", case.path, where)
        value = c.share if c.type == "tr_share" else c.amount * slice_days
        out.append(UserRow(name, c.type, c.description, groups=ids, value=value))
    return tuple(out)


def _free_name(m: pyo.ConcreteModel, name: str) -> None:
    if m.component(name) is not None or hasattr(m, name):
        raise InputError(
            f"the constraint name {name!r} is taken by the model (pick another name)", location="constraints"
        )


def add_user_constraints(m: pyo.ConcreteModel, rows: Sequence[UserRow]) -> None:
    """Add the declarative rows to a built slice model (see the module docstring).

    A row's arcs and groups that the slice lacks (a group with no demand in a slice of active
    groups only) are left out of it.
    """
    import pyomo.environ as pyo  # imported here: a slice solved from its matrix loads no Pyomo

    if not rows:
        return
    m.user_data = pyo.Block(doc="mutable right-hand sides of the user constraints")
    arcs, groups = set(m.arcs), set(m.groups)
    m.user_rows = list(rows)
    for r in rows:
        _free_name(m, r.name)
        a = [e for e in r.arcs if e in arcs]
        g = [j for j in r.groups if j in groups]
        m.meta[r.name] = r.meta()
        doc = m.meta[r.name]["description"]
        if r.kind == "flow_cap":
            con = pyo.Constraint(expr=sum(m.flow[e] for e in a) <= r.value, doc=doc)
        elif r.kind == "tr_share":
            inside = set(g)
            con = pyo.Constraint(
                expr=sum(m.delivery[j] for j in m.groups if j not in inside) <= (1.0 - r.value) * m.TR,
                doc=doc,
            )
        elif r.kind == "min_delivery":
            bound = pyo.Param(mutable=True, initialize=0.0, within=pyo.NonNegativeReals)
            m.user_data.add_component(r.name, bound)
            con = pyo.Constraint(expr=sum(m.delivery[j] for j in g) >= bound, doc=doc)
        else:  # closure
            is_open = pyo.Param(mutable=True, initialize=1.0, within=pyo.Binary)
            m.user_data.add_component(r.name, is_open)
            idx = pyo.Set(initialize=a, ordered=True)
            m.user_data.add_component(f"{r.name}_arcs", idx)
            con = pyo.Constraint(idx, rule=lambda m, e, p=is_open: m.flow[e] <= m.cap[e] * p, doc=doc)
        m.add_component(r.name, con)
    refresh_user_constraints(m)


def refresh_user_constraints(m: pyo.ConcreteModel) -> None:
    """Recompute the mutable right-hand sides from ``m.demand`` and ``m.day``."""
    import pyomo.environ as pyo  # imported here: a slice solved from its matrix loads no Pyomo

    rows = getattr(m, "user_rows", ())
    day = pyo.value(m.day) if hasattr(m, "day") else 0
    groups = set(m.groups)
    for r in rows:
        if r.kind == "min_delivery":
            demand = sum(pyo.value(m.demand[j]) for j in r.groups if j in groups)
            getattr(m.user_data, r.name).set_value(min(r.value, demand))
        elif r.kind == "closure":
            getattr(m.user_data, r.name).set_value(1.0 if r.is_open(day) else 0.0)


# --------------------------------------------------------------------------- the hook
def load_extension(spec: str) -> Extension:
    """``module:function`` -> the function (``module`` importable, e.g. on ``PYTHONPATH``,
    or a path ``dir/file.py``). Any problem is one :class:`InputError`."""
    where = "--extension"
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(p.strip() for p in spec.split(":")):
        raise InputError(f"expected module:function (got {spec!r})", location=where)
    mod_name, fn_name = (p.strip() for p in spec.split(":"))
    try:
        if mod_name.endswith(".py"):
            path = Path(mod_name)
            if not path.is_file():
                raise InputError("file not found", file=path, location=where)
            sp = importlib.util.spec_from_file_location(path.stem, path)
            mod = importlib.util.module_from_spec(sp)
            sp.loader.exec_module(mod)
        else:
            mod = importlib.import_module(mod_name)
    except InputError:
        raise
    except Exception as exc:  # ImportError, SyntaxError, or whatever the module raises on import
        raise InputError(f"cannot import {mod_name!r}: {type(exc).__name__}: {exc}", location=where) from None
    fn = getattr(mod, fn_name, None)
    if not callable(fn):
        raise InputError(f"module {mod_name!r} has no function {fn_name!r}", location=where)
    fn.extension_spec = spec
    return fn


def normalize_spec(spec: str | None) -> str | None:
    """A spec whose module is a file path gets the absolute path (workers run elsewhere)."""
    if not spec or spec.count(":") != 1:
        return spec
    mod, fn = spec.split(":")
    return f"{Path(mod.strip()).resolve()}:{fn.strip()}" if mod.strip().endswith(".py") else spec


def apply_extension(m: pyo.ConcreteModel, data, fn: Extension) -> None:
    """Call the hook and record what it added (``m.extension_components``) and its rows'
    description and unit in ``m.meta`` (the component's ``doc``, unless the hook set
    ``m.meta[name]`` itself)."""
    import pyomo.environ as pyo  # imported here: a slice solved from its matrix loads no Pyomo

    before = {c.local_name for c in m.component_objects(descend_into=False)}
    spec = getattr(fn, "extension_spec", getattr(fn, "__name__", "extension"))
    try:
        fn(m, data)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"the extension {spec} raised {type(exc).__name__}: {exc}", location="--extension"
        ) from None
    added = [c for c in m.component_objects(descend_into=False) if c.local_name not in before]
    m.extension_components = [c.local_name for c in added]
    for c in added:
        if isinstance(c, pyo.Constraint) and c.local_name not in m.meta:
            m.meta[c.local_name] = {"description": c.doc or f"added by the extension {spec}", "unit": ""}
