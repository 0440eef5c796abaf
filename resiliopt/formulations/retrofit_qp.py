r"""Building retrofit under a budget: the exact continuous problem, a nonconvex QP (docs/retrofit.md).

Solved to global optimality by SCIP (:mod:`resiliopt.solvers.scip`); this module only builds
the model. Fractions are continuous: any share of a category may move to any allowed level.

Sets
    :math:`I` the four sectors; :math:`C_i` the categories of sector :math:`i`;
    :math:`K_c` the design levels category :math:`c` may end at (its as-built level and the
    higher levels its sector has a response for).

Parameters
    :math:`\lambda_{cL} = n_c\, p_L / N_i` [share of sector :math:`i`]: what the whole of
    category :math:`c` at level :math:`L` adds to its sector's unsafe share (:math:`p_L` the
    expected lognormal exceedance of eq. 4, :math:`n_c` its buildings, :math:`N_i` the
    sector's); :math:`\kappa_{cL} = n_c C_{0k,c} (a_c^0/a_L - 1)` [billion CNY]: the cost of
    moving the whole category there from as built (eq. 5; 0 at the as-built level);
    :math:`a_{ij}` the DAM (symmetric, non-negative); :math:`B` the budget [billion CNY];
    optionally a target :math:`F^*`.

Variables
    :math:`x_{cL} \in [0, 1]`: the share of category :math:`c` at level :math:`L`;
    :math:`l_i \in [0, U_i]`: the unsafe share of sector :math:`i`, with
    :math:`U_i = \sum_{c \in C_i} \max_L \lambda_{cL}`.

.. math::

    \min\; & L_C(l) = \sum_i a_{ii}\, l_i + \sum_{i<j} 2 a_{ij}\, l_i l_j
        \qquad (\text{or } \min \sum_{c,L} \kappa_{cL} x_{cL} \text{ with a target}) \\
    \text{s.t.}\; & \sum_{L \in K_c} x_{cL} = 1 && \forall c \quad (\text{one\_level}) \\
    & l_i = \sum_{c \in C_i} \sum_{L \in K_c} \lambda_{cL}\, x_{cL} && \forall i
        \quad (\text{sector\_loss}) \\
    & \sum_{c,L} \kappa_{cL}\, x_{cL} \le B && (\text{budget}) \\
    & 1 - L_C(l) \ge F^* && (\text{target, optional})

:math:`F_C = 1 - L_C` (docs/community.md, unclamped). The constraints are linear; the
objective (or the target row) is a quadratic form in :math:`l` whose Hessian
:math:`2[a_{ij}]_{i \ne j}` has zero diagonal and positive entries, hence is indefinite: the
problem is nonconvex, and a local solver (or the greedy rule) can stop at a point that is not
the optimum. SCIP's spatial branch and bound branches on the four :math:`l_i` and proves a
dual bound; the gap between it and the plan is the certificate of optimality.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # imported by the builders: importing this module needs no Pyomo
    import pyomo.environ as pyo

META = {
    "one_level": {"description": "every building of a category ends at exactly one level", "unit": "share"},
    "sector_loss": {
        "description": "sector unsafe share from its categories' levels (eq. 4)",
        "unit": "share of the sector's buildings",
    },
    "budget": {"description": "total retrofit cost (eq. 5) is at most the budget", "unit": "billion CNY"},
    "target": {"description": "F_C right after the earthquake reaches the target", "unit": "F_C"},
}

LEVEL_COLUMNS = ["category", "sector", "level", "loss", "cost"]


def build_retrofit_qp(
    levels: pd.DataFrame, dam: np.ndarray, budget: float, target_fc: float | None = None
) -> pyo.ConcreteModel:
    """Build the QP from a table of allowed (category, level) pairs.

    ``levels`` has one row per category and level it may end at, with columns ``category``,
    ``sector`` (0..3), ``level``, ``loss`` (:math:`\\lambda_{cL}`) and ``cost``
    (:math:`\\kappa_{cL}`, billion CNY). Without ``target_fc``: minimize L_C (maximize F_C)
    within the budget. With it: minimize the cost of reaching F_C >= target within the budget.
    """
    import pyomo.environ as pyo  # Pyomo: about 0.4 s of start-up, paid only when a model is built

    missing = [c for c in LEVEL_COLUMNS if c not in levels.columns]
    if missing:
        raise ValueError(f"levels table lacks columns {missing}")
    dam = np.asarray(dam, dtype=float)
    tab = levels.reset_index(drop=True)
    keys = [(str(c), int(lv)) for c, lv in zip(tab["category"], tab["level"], strict=True)]
    loss = dict(zip(keys, tab["loss"].astype(float), strict=True))
    cost = dict(zip(keys, tab["cost"].astype(float), strict=True))
    sec = {str(c): int(s) for c, s in zip(tab["category"], tab["sector"], strict=True)}

    m = pyo.ConcreteModel(name="retrofit_qp")
    m.sectors = pyo.Set(initialize=range(dam.shape[0]), ordered=True, doc="building sectors")
    m.categories = pyo.Set(initialize=list(dict.fromkeys(sec)), ordered=True, doc="building categories")
    m.cat_levels = pyo.Set(initialize=keys, dimen=2, ordered=True, doc="(category, level it may end at)")
    ub = {i: 0.0 for i in m.sectors}
    for c in m.categories:
        ub[sec[c]] += max(loss[k] for k in keys if k[0] == c)

    m.x = pyo.Var(m.cat_levels, bounds=(0.0, 1.0), doc="share of the category at the level")
    m.l = pyo.Var(m.sectors, bounds=lambda m, i: (0.0, ub[i]), doc="sector unsafe share l_i")

    m.one_level = pyo.Constraint(
        m.categories,
        rule=lambda m, c: sum(m.x[k] for k in keys if k[0] == c) == 1,
        doc=META["one_level"]["description"],
    )
    m.sector_loss = pyo.Constraint(
        m.sectors,
        rule=lambda m, i: m.l[i] == sum(loss[k] * m.x[k] for k in keys if sec[k[0]] == i),
        doc=META["sector_loss"]["description"],
    )
    m.cost = pyo.Expression(expr=sum(cost[k] * m.x[k] for k in keys if cost[k] != 0.0), doc="billion CNY")
    paid = [k for k in keys if cost[k] != 0.0]
    m.budget = pyo.Constraint(
        rule=lambda m: m.cost <= float(budget) if paid else pyo.Constraint.Skip,
        doc=META["budget"]["description"],
    )
    n = dam.shape[0]
    m.loss = pyo.Expression(
        expr=sum(dam[i, i] * m.l[i] for i in range(n))
        + sum(2.0 * dam[i, j] * m.l[i] * m.l[j] for i in range(n) for j in range(i + 1, n) if dam[i, j] != 0),
        doc="community loss L_C = 1 - F_C",
    )
    if target_fc is None:
        m.objective = pyo.Objective(expr=m.loss, sense=pyo.minimize, doc="community loss L_C = 1 - F_C")
    else:
        m.target = pyo.Constraint(expr=1.0 - m.loss >= float(target_fc), doc=META["target"]["description"])
        m.objective = pyo.Objective(expr=m.cost, sense=pyo.minimize, doc="retrofit cost, billion CNY")
    m.meta = META
    return m


def solution(m: pyo.ConcreteModel) -> pd.DataFrame:
    """The shares of a solved model: one row per (category, level), columns category, level, share."""
    import pyomo.environ as pyo  # Pyomo: about 0.4 s of start-up, paid only when a model is built

    rows = [{"category": c, "level": lv, "share": float(pyo.value(m.x[c, lv]))} for c, lv in m.cat_levels]
    return pd.DataFrame(rows, columns=["category", "level", "share"])
