r"""The per-slice logistics LP (paper 004, equations (13)-(16); docs/slice_lp.md).

Sets
    :math:`V` road nodes (``nodes``), :math:`E` directed arcs (``arcs``, including the arcs
    that leave the virtual source RR and any arcs into the virtual sink RS),
    :math:`J` damaged building groups (``groups``), each hanging off a road node
    :math:`v(j)`.

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

Build once per network with :func:`build_slice_model`, then change data in place with
:func:`update_slice_model` and solve again: the structure (sets, rows) never changes, only
parameters do. A group with nothing to receive has demand 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from resiliopt import schemas as s
from resiliopt._yaml import load

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
    """

    arcs: pd.DataFrame
    groups: pd.DataFrame
    total_resources: float
    source: str = "RR"
    sink: str = "RS"
    name: str = "slice"
    meta: dict = field(default_factory=dict)

    @property
    def nodes(self) -> list[str]:
        """Road nodes (every node on an arc but the source and the sink), in first-seen order."""
        seen: dict[str, None] = {}
        for u, v in zip(self.arcs["from"], self.arcs["to"], strict=True):
            seen.setdefault(u, None)
            seen.setdefault(v, None)
        seen.pop(self.source, None)
        seen.pop(self.sink, None)
        return list(seen)

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
    m = pyo.ConcreteModel(name=data.name)
    arcs, groups = data.arcs, data.groups
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
    return m


def _as_values(index: Sequence[str], values: Mapping[str, float] | Sequence[float] | np.ndarray):
    if isinstance(values, Mapping | pd.Series):
        return [(k, float(values[k])) for k in index if k in values]
    arr = np.asarray(values, dtype=float)
    if arr.shape != (len(index),):
        raise ValueError(f"expected {len(index)} values, got shape {arr.shape}")
    return list(zip(index, arr.tolist(), strict=True))


def update_slice_model(
    m: pyo.ConcreteModel,
    *,
    capacity: Mapping[str, float] | Sequence[float] | None = None,
    demand: Mapping[str, float] | Sequence[float] | None = None,
    gain: Mapping[str, float] | Sequence[float] | None = None,
    total_resources: float | None = None,
) -> pyo.ConcreteModel:
    """Change a built slice model's data in place (by id, or arrays in set order)."""
    for param, values in ((m.cap, capacity), (m.demand, demand), (m.gain, gain)):
        if values is None:
            continue
        for k, v in _as_values(list(param.index_set()), values):
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
    return m
