r"""Exact building retrofit under a budget: a MILP over discrete upgrade options (docs/retrofit.md).

Sets
    :math:`I` the four sectors; :math:`C_i` the categories of sector :math:`i`; :math:`O_c` the
    options of category :math:`c`: every distribution of its buildings over its allowed design
    levels with fractions on a grid (0, 0.1, ..., 1 by default), including "stay as built".
    :math:`O_i = \bigcup_{c \in C_i} O_c`.

Parameters
    :math:`\lambda_o` the option's contribution to its sector's unsafe share (the expected
    lognormal exceedance, known in advance), :math:`\kappa_o` its cost [billion CNY],
    :math:`a_{ij}` the DAM, :math:`B` the budget, :math:`U_j = \sum_{c \in C_j} \max_o \lambda_o`
    an upper bound of :math:`l_j`, optionally a target :math:`F^*`.

Variables
    :math:`u_o \in \{0,1\}` option chosen; :math:`l_i \ge 0` sector unsafe share;
    :math:`v_{oj} \ge 0` for :math:`o \in O_i`, :math:`j > i`: the product :math:`u_o\, l_j`.

.. math::

    \min\; & L_C = \sum_i a_{ii}\, l_i + \sum_{i<j} 2 a_{ij} \sum_{o \in O_i} \lambda_o\, v_{oj}
        \qquad (\text{or } \min \sum_o \kappa_o u_o \text{ with a target}) \\
    \text{s.t.}\; & \sum_{o \in O_c} u_o = 1 && \forall c \quad (\text{one\_option}) \\
    & l_i = \sum_{o \in O_i} \lambda_o u_o && \forall i \quad (\text{sector\_loss}) \\
    & \sum_o \kappa_o u_o \le B && (\text{budget}) \\
    & v_{oj} \ge l_j - U_j (1 - u_o) && \forall i<j,\ o \in O_i \quad (\text{product\_lower}) \\
    & 1 - L_C \ge F^* && (\text{target, optional})

Exactness: :math:`l_i l_j = \sum_{o \in O_i} \lambda_o u_o l_j` because exactly one option per
category is chosen, and :math:`u_o l_j` with :math:`u_o` binary and :math:`0 \le l_j \le U_j` is
described exactly by McCormick's envelope. Only its lower half is needed: :math:`v_{oj}` enters
:math:`L_C` with coefficient :math:`2 a_{ij}\lambda_o \ge 0` (DAM entries are non-negative), and
:math:`L_C` is minimized or bounded from above, so at an optimum :math:`v_{oj} =
\max(0, l_j - U_j(1-u_o)) = u_o l_j`. Hence the MILP's optimum is F_C's optimum over the option
grid, with no approximation error (a test checks it against brute-force enumeration).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from resiliopt.solvers.highs import PyomoHighs

if TYPE_CHECKING:  # imported by the builders: importing this module needs no Pyomo
    import pyomo.environ as pyo

META = {
    "one_option": "each category takes exactly one upgrade option",
    "sector_loss": "sector unsafe share is the sum of its categories' option losses (4)",
    "budget": "total retrofit cost (5) is at most the budget",
    "product_lower": "McCormick lower bound of v = u_o * l_j (exact for binary u_o)",
    "target": "F_C right after the earthquake reaches the target",
}


def build_retrofit_milp(
    opts: pd.DataFrame, dam: np.ndarray, budget: float, target_fc: float | None = None
) -> pyo.ConcreteModel:
    """Build the MILP from an options table (columns option, category, sector, loss, cost).

    Without ``target_fc``: minimize L_C (maximize F_C) within the budget. With it: minimize the
    cost of reaching F_C >= target within the budget.
    """
    import pyomo.environ as pyo  # Pyomo: about 0.4 s of start-up, paid only when a model is built

    opts = opts.reset_index(drop=True)
    dam = np.asarray(dam, dtype=float)
    m = pyo.ConcreteModel(name="retrofit_milp")
    m.sectors = pyo.Set(initialize=range(dam.shape[0]), ordered=True, doc="building sectors")
    m.categories = pyo.Set(initialize=list(dict.fromkeys(opts["category"])), ordered=True, doc="categories")
    m.options = pyo.Set(initialize=list(opts["option"]), ordered=True, doc="upgrade options")
    loss = dict(zip(opts["option"], opts["loss"], strict=True))
    cost = dict(zip(opts["option"], opts["cost"], strict=True))
    sec = dict(zip(opts["option"], opts["sector"].astype(int), strict=True))
    by_cat: dict[str, list[str]] = {}
    for o, c in zip(opts["option"], opts["category"], strict=True):
        by_cat.setdefault(c, []).append(o)
    by_sec: dict[int, list[str]] = {i: [] for i in m.sectors}
    for o in m.options:
        by_sec[sec[o]].append(o)
    ub = {i: 0.0 for i in m.sectors}
    for os_ in by_cat.values():
        ub[sec[os_[0]]] += max(loss[o] for o in os_)
    pairs = [(o, j) for o in m.options for j in m.sectors if j > sec[o] and dam[sec[o], j] != 0]
    m.pairs = pyo.Set(initialize=pairs, dimen=2, ordered=True, doc="(option o in sector i, sector j > i)")

    m.u = pyo.Var(m.options, within=pyo.Binary, doc="option chosen")
    m.l = pyo.Var(m.sectors, bounds=lambda m, i: (0, ub[i]), doc="sector unsafe share l_i")
    m.v = pyo.Var(m.pairs, within=pyo.NonNegativeReals, doc="product u_o * l_j")

    m.one_option = pyo.Constraint(
        m.categories, rule=lambda m, c: sum(m.u[o] for o in by_cat[c]) == 1, doc=META["one_option"]
    )
    m.sector_loss = pyo.Constraint(
        m.sectors,
        rule=lambda m, i: m.l[i] == sum(loss[o] * m.u[o] for o in by_sec[i]),
        doc=META["sector_loss"],
    )
    m.cost = pyo.Expression(expr=sum(cost[o] * m.u[o] for o in m.options))
    m.budget = pyo.Constraint(expr=m.cost <= float(budget), doc=META["budget"])
    m.product_lower = pyo.Constraint(
        m.pairs, rule=lambda m, o, j: m.v[o, j] >= m.l[j] - ub[j] * (1 - m.u[o]), doc=META["product_lower"]
    )
    m.loss = pyo.Expression(
        expr=sum(dam[i, i] * m.l[i] for i in m.sectors)
        + sum(2.0 * dam[sec[o], j] * loss[o] * m.v[o, j] for (o, j) in m.pairs)
    )
    if target_fc is None:
        m.objective = pyo.Objective(expr=m.loss, sense=pyo.minimize, doc="community loss L_C = 1 - F_C")
    else:
        m.target = pyo.Constraint(expr=1.0 - m.loss >= float(target_fc), doc=META["target"])
        m.objective = pyo.Objective(expr=m.cost, sense=pyo.minimize, doc="retrofit cost")
    m.meta = {k: {"description": v} for k, v in META.items()}
    return m


def solve_mip(
    m: pyo.ConcreteModel, time_limit: float | None = None, threads: int = 1
) -> tuple[str, float | None]:
    """Solve a Pyomo MILP with HiGHS (gap 1e-9); (status, objective), values loaded."""
    sol = PyomoHighs(time_limit=time_limit, threads=threads, options={"mip_rel_gap": 1e-9}).solve(
        m, certificate=False
    )
    return sol.status, sol.objective


def solve_retrofit_milp(m: pyo.ConcreteModel, time_limit: float | None = None) -> dict | None:
    """Solve with HiGHS; ``None`` if not optimal (e.g. a target out of reach), else the chosen
    options, the objective and the solve time."""
    import pyomo.environ as pyo  # Pyomo: about 0.4 s of start-up, paid only when a model is built

    t0 = time.perf_counter()
    status, objective = solve_mip(m, time_limit=time_limit)
    seconds = time.perf_counter() - t0
    if status != "optimal":
        return None
    chosen = [o for o in m.options if pyo.value(m.u[o]) > 0.5]
    return {"chosen": chosen, "objective": objective, "seconds": seconds}
