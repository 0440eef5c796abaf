"""A retrofit plan (what every method returns), the checks of its inputs, and a state as moves.

docs/retrofit.md sections 2-4. The methods: :mod:`resiliopt.retrofit.greedy_rule` (the paper's
rule), :mod:`resiliopt.retrofit.exact_qp` (the proven global optimum, SCIP) and
:mod:`resiliopt.retrofit.grid_milp` (the optimum over a fraction grid, HiGHS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from resiliopt.errors import InputError
from resiliopt.stock import TOL, Stock


@dataclass
class Plan:
    """A retrofit plan and what it achieves (F_C right after the earthquake, expected shares)."""

    method: str
    budget: float
    target_fc: float | None
    steps: pd.DataFrame
    x: np.ndarray
    fc_before: float
    fc_after: float
    cost: float
    z_start: pd.DataFrame
    stock: Stock = field(repr=False)
    info: dict = field(default_factory=dict)
    #: what the method optimized: "fc_after" (maximized) or "cost" (minimized, with a target);
    #: None for the greedy rule, which proves nothing
    objective: str | None = None
    #: the optimum: the objective's value for this plan, recomputed from ``x``
    optimum: float | None = None
    #: the solver's proven bound on the objective (an upper bound on F_C, a lower bound on cost)
    bound: float | None = None
    #: ``bound - optimum`` for F_C, ``optimum - bound`` for cost (0 at optimality)
    gap: float | None = None
    #: "optimal" when the gap is proven 0 (up to the solver's tolerance), else the solver status
    status: str | None = None

    def levels_table(self) -> pd.DataFrame:
        """One row per category and level with buildings there (fraction, thousands)."""
        st = self.stock
        rows = []
        for c, cid in enumerate(st.ids):
            for k, lv in enumerate(st.levels):
                if st.allowed[c, k] and self.x[c, k] > TOL:
                    rows.append(
                        {
                            "category": cid,
                            "level": lv,
                            "fraction": float(self.x[c, k]),
                            "buildings": float(self.x[c, k] * st.count[c]),
                            "retrofitted": lv != st.level0[c],
                        }
                    )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "budget": self.budget,
            "target_fc": self.target_fc,
            "fc_before": self.fc_before,
            "fc_after": self.fc_after,
            "cost": self.cost,
            "plan": self.steps.to_dict(orient="records"),
            "objective": self.objective,
            "optimum": self.optimum,
            "bound": self.bound,
            "gap": self.gap,
            "status": self.status,
            "z_start": self.z_start.to_dict(orient="records"),
            **self.info,
        }


#: the plan methods: the paper's rule, the proven global optimum, the optimum over a fraction grid
METHODS = ("greedy", "exact", "grid")

PLAN_COLUMNS = ["category", "from_level", "to_level", "fraction", "buildings", "cost", "fc_gain", "z"]


def check_inputs(budget: float, target_fc: float | None = None, step: float | None = None) -> None:
    """Raise :class:`InputError` for a budget, target or fraction grid that makes no sense."""
    if not math.isfinite(budget) or budget < 0:
        raise InputError(f"budget must be a finite number >= 0 (billion CNY), got {budget:g}")
    if target_fc is not None and not (0.0 <= target_fc <= 1.0):
        raise InputError(f"target F_C must be between 0 and 1, got {target_fc:g}")
    if step is not None:
        k = round(1.0 / step) if step > 0 else 0
        if step <= 0 or step > 1 or abs(k * step - 1.0) > 1e-9:
            raise InputError(f"fraction step must divide 1 (e.g. 0.1, 0.25), got {step:g}")


def plan_steps(st: Stock, x: np.ndarray, x0: np.ndarray | None = None) -> pd.DataFrame:
    """Express a final state as moves from the as-built state (one row per category/level).

    Every building ends at one level, so a state is the set of (category, to level, fraction)
    with the as-built level as 'from'. F_C gain of a row: F_C with that row alone applied.
    """
    x0 = st.as_built() if x0 is None else x0
    f0 = st.functionality(x0, clamp=False)
    grad = st.gradient(x0)
    rows = []
    for c, cid in enumerate(st.ids):
        k0 = st.levels.index(int(st.level0[c]))
        for k, lv in enumerate(st.levels):
            if k == k0 or not st.allowed[c, k] or x[c, k] <= TOL:
                continue
            xx = x0.copy()
            xx[c, k0] -= x[c, k]
            xx[c, k] += x[c, k]
            i = st.sector[c]
            per_cost = st.unit_cost[c, k]
            per_gain = grad[i] * st.count[c] / st.totals[i] * (st.p[c, k0] - st.p[c, k])
            rows.append(
                {
                    "category": cid,
                    "from_level": int(st.level0[c]),
                    "to_level": lv,
                    "fraction": float(x[c, k]),
                    "buildings": float(x[c, k] * st.count[c]),
                    "cost": float(x[c, k] * per_cost),
                    "fc_gain": st.functionality(xx, clamp=False) - f0,
                    "z": per_gain / per_cost,
                }
            )
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)
