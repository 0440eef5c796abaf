r"""The per-slice logistics LP (paper 004, equations (13)-(16); docs/slice_lp.md).

Sets
    :math:`V` road nodes (``nodes``): every node the input names (an end of an arc, the node
    of a building group, or a node listed by the network file), except the virtual source RR
    and the virtual sink RS; :math:`E` directed arcs (``arcs``, including the arcs that leave
    RR and any arcs into RS), :math:`J` damaged building groups (``groups``), each hanging
    off a road node :math:`v(j)`.

Parameters (mutable: updated in place between slices)
    :math:`C_e` arc capacity [units/slice], :math:`d_j` the group's demand this slice
    [units/slice], :math:`g_j = \partial F_C / \partial b_j` the functionality gained per unit
    delivered [1/unit], :math:`TR` resources available this slice [units/slice].

Variables
    :math:`x_e \ge 0` flow on arc :math:`e`; :math:`y_j \ge 0` units delivered to group
    :math:`j` (the flow on the paper's two arcs :math:`v(j) \to b_j \to RS`, merged).

.. math::

    \max \; & \sum_{j \in J} g_j\, y_j                                              \\
    \text{s.t.}\; & 0 \le x_e \le C_e                 && \forall e \in E  \quad (\text{arc\_capacity}) \\
    & 0 \le y_j \le d_j                               && \forall j \in J  \quad (\text{group\_demand}) \\
    & \sum_{e \in \delta^-(v)} x_e - \sum_{e \in \delta^+(v)} x_e - \sum_{j: v(j)=v} y_j = 0
                                                      && \forall v \in V  \quad (\text{node\_balance}) \\
    & \sum_{e \in \delta^+(RR)} x_e \le TR                && (\text{total\_resources})

Readings of the paper (written down once, in docs/slice_lp.md):

* (16) is an equality in the paper; it is infeasible whenever the damaged network cannot
  carry TR, so it is an inequality here and the unused share is reported.
* Arc capacities and group demands are variable bounds, not rows: their shadow prices are
  the reduced costs of :math:`x_e` and :math:`y_j` (positive at the upper bound). The tidy
  dual table lists them under the names ``arc_capacity`` and ``group_demand``.
* Arcs into RS carry flow that vanishes without gain (allowed in slice files).
* Every road node has its balance row, also a node that only building groups name (all its
  links removed): there the row reads :math:`-\sum_{j: v(j)=v} y_j = 0`, so nothing is
  delivered through no arc. A node with neither an arc nor a group has the empty row
  :math:`0 = 0`, which is left out.

Build once per network with :func:`build_slice_model`, then change data in place with
:func:`update_slice_model` and solve again: the structure (sets, rows) never changes, only
parameters do. A group with nothing to receive has demand 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from resiliopt import schemas as s
from resiliopt._yaml import load
from resiliopt.errors import InputError
from resiliopt.formulations.user_constraints import (
    add_user_constraints,
    apply_extension,
    refresh_user_constraints,
)

if TYPE_CHECKING:  # imported by the builders: a slice solved from its matrix needs no Pyomo
    import pyomo.environ as pyo

#: description and unit of every constraint and bound (Calliope style), used in reports.
META: dict[str, dict[str, str]] = {
    "arc_capacity": {
        "description": "flow on an arc is at most its capacity after bridge damage (14)",
        "unit": "units/slice",
    },
    "group_demand": {
        "description": "a group receives at most its full-speed repair demand",
        "unit": "units/slice",
    },
    "node_balance": {
        "description": "inflow = outflow + deliveries at every road node (15)",
        "unit": "units/slice",
    },
    "total_resources": {
        "description": "resources leaving the source are at most TR (16, as inequality)",
        "unit": "units/slice",
    },
    "objective": {"description": "functionality gained this slice (13)", "unit": "F_C"},
}


@dataclass
class SliceData:
    """One slice as tidy tables: what the LP is built from and updated with.

    ``arcs``: columns ``arc`` (id), ``from``, ``to``, ``capacity``, ``label``.
    ``groups``: columns ``group``, ``node``, ``capacity`` (demand), ``gain``.
    ``named_nodes``: road nodes the input lists besides those on arcs and groups (a case's
    network nodes); each is a road node of the LP like every other node named.
    """

    arcs: pd.DataFrame
    groups: pd.DataFrame
    total_resources: float
    source: str = "RR"
    sink: str = "RS"
    name: str = "slice"
    meta: dict = field(default_factory=dict)
    named_nodes: list[str] = field(default_factory=list)
    #: declarative user constraints (:class:`~resiliopt.formulations.user_constraints.UserRow`)
    constraints: tuple = ()
    #: the Python extension hook ``f(model, data)``, or None
    extension: Callable | None = None
    #: first day of the slice (closures depend on it)
    day: int = 0

    @property
    def nodes(self) -> list[str]:
        """Road nodes: every node the input names (arc ends, then group nodes, then
        ``named_nodes``) but the source and the sink, in first-seen order."""
        a = self.arcs
        ends = np.column_stack([a["from"].to_numpy(dtype=object), a["to"].to_numpy(dtype=object)])
        names = np.concatenate(
            [
                ends.ravel(),  # u0, v0, u1, v1, ...: the order of the arcs
                self.groups["node"].to_numpy(dtype=object),
                np.asarray(self.named_nodes, dtype=object),
            ]
        )
        seen = pd.unique(names) if len(names) else names  # first-seen order, like a dict (C speed)
        return [v for v in seen.tolist() if v != self.source and v != self.sink]

    @classmethod
    def from_file(cls, path: str | Path) -> SliceData:
        """Read a ``kind: slice`` YAML file (docs/formats.md)."""
        f = load(s.SliceFile, path)
        return cls.from_schema(f, name=Path(path).stem)

    @classmethod
    def from_schema(cls, f: s.SliceFile, name: str = "slice") -> SliceData:
        arcs = pd.DataFrame(
            {
                "arc": [f"{a.from_}->{a.to}" for a in f.arcs],
                "from": [a.from_ for a in f.arcs],
                "to": [a.to for a in f.arcs],
                "capacity": [float(a.capacity) for a in f.arcs],
                "label": [a.label or f"{a.from_}->{a.to}" for a in f.arcs],
            }
        )
        groups = pd.DataFrame(
            {
                "group": [g.id for g in f.groups],
                "node": [g.node for g in f.groups],
                "capacity": [float(g.capacity) for g in f.groups],
                "gain": [float(g.gain) for g in f.groups],
            },
            columns=["group", "node", "capacity", "gain"],
        )
        return cls(arcs, groups, float(f.total_resources), f.source, f.sink, name)


def build_slice_model(data: SliceData) -> pyo.ConcreteModel:
    """Build the Pyomo model of one slice; see the module docstring for the math."""
    import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)

    arcs, groups = data.arcs, data.groups
    _check_ids(data)
    m = pyo.ConcreteModel(name=data.name)
    m.nodes = pyo.Set(initialize=data.nodes, ordered=True, doc="road nodes")
    m.arcs = pyo.Set(initialize=list(arcs["arc"]), ordered=True, doc="directed arcs")
    m.groups = pyo.Set(initialize=list(groups["group"]), ordered=True, doc="building groups")

    m.cap = pyo.Param(
        m.arcs,
        mutable=True,
        within=pyo.NonNegativeReals,
        initialize=dict(zip(arcs["arc"], arcs["capacity"], strict=True)),
        doc="arc capacity C_e [units/slice]",
    )
    m.demand = pyo.Param(
        m.groups,
        mutable=True,
        within=pyo.NonNegativeReals,
        initialize=dict(zip(groups["group"], groups["capacity"], strict=True)),
        doc="group demand d_j [units/slice]",
    )
    m.gain = pyo.Param(
        m.groups,
        mutable=True,
        within=pyo.Reals,
        initialize=dict(zip(groups["group"], groups["gain"], strict=True)),
        doc="gain g_j [F_C/unit]",
    )
    m.TR = pyo.Param(
        mutable=True,
        within=pyo.NonNegativeReals,
        initialize=data.total_resources,
        doc="resources available TR [units/slice]",
    )

    m.flow = pyo.Var(m.arcs, bounds=lambda m, e: (0, m.cap[e]), doc="arc flow x_e [units/slice]")
    m.delivery = pyo.Var(
        m.groups, bounds=lambda m, j: (0, m.demand[j]), doc="units delivered to group y_j [units/slice]"
    )

    tail = dict(zip(arcs["arc"], arcs["from"], strict=True))
    head = dict(zip(arcs["arc"], arcs["to"], strict=True))
    out_arcs: dict[str, list[str]] = {}
    in_arcs: dict[str, list[str]] = {}
    for e in m.arcs:
        out_arcs.setdefault(tail[e], []).append(e)
        in_arcs.setdefault(head[e], []).append(e)
    at_node: dict[str, list[str]] = {}
    for j, v in zip(groups["group"], groups["node"], strict=True):
        at_node.setdefault(v, []).append(j)

    def balance(m, v):
        if v not in in_arcs and v not in out_arcs and v not in at_node:
            return pyo.Constraint.Skip  # the empty row 0 = 0
        return (
            sum(m.flow[e] for e in in_arcs.get(v, ()))
            - sum(m.flow[e] for e in out_arcs.get(v, ()))
            - sum(m.delivery[j] for j in at_node.get(v, ()))
            == 0
        )

    m.node_balance = pyo.Constraint(m.nodes, rule=balance, doc=META["node_balance"]["description"])
    m.total_resources = pyo.Constraint(
        expr=sum(m.flow[e] for e in out_arcs.get(data.source, ())) <= m.TR,
        doc=META["total_resources"]["description"],
    )
    m.objective = pyo.Objective(
        expr=sum(m.gain[j] * m.delivery[j] for j in m.groups),
        sense=pyo.maximize,
        doc=META["objective"]["description"],
    )
    m.source_arcs = pyo.Set(initialize=out_arcs.get(data.source, []), ordered=True)
    m.slice_data = data  # the tables the model was built from (labels for reports)
    m.meta = dict(META)  # this model's registry: built-in rows, then user rows
    m.day = pyo.Param(mutable=True, within=pyo.Reals, initialize=data.day, doc="first day of the slice [day]")
    if data.constraints or data.extension is not None:
        add_user_constraints(m, data.constraints)
        if data.extension is not None:
            apply_extension(m, data, data.extension)
    return m


def _check_ids(data: SliceData) -> None:
    """Ids the model needs unique and groups on road nodes (slice files are validated before)."""
    for table, col in ((data.arcs, "arc"), (data.groups, "group")):
        dup = table[col][table[col].duplicated()]
        if len(dup):
            raise InputError(f"{col} id {dup.iloc[0]!r} appears twice", location=f"{data.name}: {col}s")
    bad = data.groups[data.groups["node"].isin([data.source, data.sink])]
    if len(bad):
        raise InputError(
            f"group {bad['group'].iloc[0]!r} hangs off {bad['node'].iloc[0]!r}: groups must be on "
            "road nodes, not on the source or the sink",
            location=f"{data.name}: groups",
        )


def _as_values(
    name: str,
    what: str,
    index: Sequence[str],
    values: Mapping[str, float] | Sequence[float] | np.ndarray,
    nonneg: bool,
) -> list[tuple[str, float]]:
    if isinstance(values, Mapping | pd.Series):
        known = set(index)
        unknown = [k for k in values.keys() if k not in known]
        if unknown:
            shown = ", ".join(repr(k) for k in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise InputError(f"unknown id(s) {shown}: not in the model's {what} set", location=name)
        pairs = [(k, float(values[k])) for k in index if k in values]
    else:
        arr = np.asarray(values, dtype=float)
        if arr.shape != (len(index),):
            raise InputError(
                f"expected {len(index)} values (one per {what[:-1]} in set order), got shape {arr.shape}",
                location=name,
            )
        pairs = list(zip(index, arr.tolist(), strict=True))
    for k, v in pairs:
        if not np.isfinite(v) or (nonneg and v < 0):
            rule = "a finite number >= 0" if nonneg else "a finite number"
            raise InputError(f"{name} of {k!r} is {v!r}; it must be {rule}", location=name)
    return pairs


def update_slice_model(
    m: pyo.ConcreteModel,
    *,
    capacity: Mapping[str, float] | Sequence[float] | None = None,
    demand: Mapping[str, float] | Sequence[float] | None = None,
    gain: Mapping[str, float] | Sequence[float] | None = None,
    total_resources: float | None = None,
    day: int | None = None,
) -> pyo.ConcreteModel:
    """Change a built slice model's data in place (by id, or arrays in set order).

    ``day``: the slice's first day (user closures depend on it). The right-hand sides of
    user constraints are recomputed from the new data.

    Raises :class:`~resiliopt.errors.InputError` (and changes nothing) for an id the model
    does not have, an array of the wrong length, or a value that is not finite (or negative,
    for capacities, demands and TR).
    """
    import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)

    checked = [
        (param, _as_values(name, what, list(param.index_set()), values, nonneg))
        for param, name, what, values, nonneg in (
            (m.cap, "capacity", "arcs", capacity, True),
            (m.demand, "demand", "groups", demand, True),
            (m.gain, "gain", "groups", gain, False),
        )
        if values is not None
    ]
    if total_resources is not None and not (np.isfinite(total_resources) and total_resources >= 0):
        raise InputError(
            f"total_resources is {total_resources!r}; it must be a finite number >= 0",
            location="total_resources",
        )
    for param, pairs in checked:
        for k, v in pairs:
            param[k] = v
    if total_resources is not None:
        m.TR = float(total_resources)
    data = m.slice_data
    if capacity is not None:
        data.arcs["capacity"] = [pyo.value(m.cap[e]) for e in m.arcs]
    if demand is not None or gain is not None:
        data.groups["capacity"] = [pyo.value(m.demand[j]) for j in m.groups]
        data.groups["gain"] = [pyo.value(m.gain[j]) for j in m.groups]
    if total_resources is not None:
        data.total_resources = float(total_resources)
    if day is not None:
        m.day = day
        data.day = day
    if getattr(m, "user_rows", None):
        refresh_user_constraints(m)
    return m
