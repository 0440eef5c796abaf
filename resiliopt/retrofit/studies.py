"""Studies over many plans: the budget sweep (greedy against the proven optimum, and the grid)
and paper 004 Table 3 row by row (docs/retrofit.md 4-5).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from resiliopt.errors import InputError
from resiliopt.retrofit.exact_qp import exact
from resiliopt.retrofit.greedy_rule import candidates, greedy
from resiliopt.retrofit.grid_milp import grid
from resiliopt.retrofit.plan import Plan, check_inputs, plan_steps
from resiliopt.stock import Stock

#: ``check(plan, label)``: the final check of each plan a study reports (run_retrofit passes
#: :func:`resiliopt.retrofit.verify.check_building_plan` bound to the case and the options)
PlanCheck = Callable[[Plan, str], None]


def _checked(plan: Plan, label: str, check: PlanCheck | None) -> Plan:
    if check is not None:
        check(plan, label)
    return plan


# --------------------------------------------------------------------------- sweep
#: most budgets in one sweep (each is an exact solve, and with a grid step a MILP too)
SWEEP_MAX = 10_000


def parse_sweep(spec: str) -> np.ndarray:
    r"""``START:STOP:STEP`` (billion CNY) -> the budgets START, START + STEP, ... up to STOP.

    The one parser of a sweep (the command line's ``--sweep`` type calls it too). There are

    .. math::

        n = \left\lfloor \frac{STOP - START}{STEP} + 10^{-9} \right\rfloor + 1

    budgets (the :math:`10^{-9}` keeps STOP when rounding puts it just past, as in 0:0.3:0.1).
    Raises :class:`InputError` unless the spec is three finite numbers with
    0 <= START <= STOP, STEP > 0 and :math:`n \le` :data:`SWEEP_MAX`.
    """
    spec = str(spec)
    try:
        start, stop, step = (float(p) for p in spec.split(":"))
    except ValueError:
        raise InputError(f"{spec!r} is not START:STOP:STEP (three numbers, e.g. 0:120:5)") from None
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise InputError(f"{spec!r}: START, STOP and STEP must be finite numbers")
    if not (0 <= start <= stop) or step <= 0:
        raise InputError(f"{spec!r}: needs 0 <= START <= STOP and STEP > 0")
    last = (stop - start) / step + 1e-9  # finite or inf (0:1e308:1e-300), never an exception
    if not last < SWEEP_MAX:  # n = floor(last) + 1 budgets
        raise InputError(f"{spec!r} gives more than {SWEEP_MAX} budgets; use a larger STEP")
    return start + step * np.arange(math.floor(last) + 1)


def _plan_text(st: Stock, x: np.ndarray) -> str:
    return "; ".join(f"{r.category}>{r.to_level}:{r.fraction:.4g}" for r in plan_steps(st, x).itertuples())


def sweep(st: Stock, budgets, step: float | None = None, check: PlanCheck | None = None) -> pd.DataFrame:
    """The greedy rule against the proven global optimum (:func:`exact`) for each budget.

    Columns: ``fc_greedy``, ``fc_exact`` (F_C right after the earthquake), ``fc_bound`` (SCIP's
    upper bound on F_C), ``gap_exact`` (= fc_bound - fc_exact, 0 at optimality),
    ``exact_minus_greedy`` (>= 0: what the rule leaves on the table), the costs and both plans.
    With ``step`` (e.g. 0.1) also the grid: ``fc_greedy_grid`` (greedy with fractions on the
    grid), ``fc_grid`` (the grid MILP's optimum, :func:`grid`) and ``gap_grid`` = fc_grid -
    fc_greedy_grid (>= 0). ``check``: called on every plan (:data:`PlanCheck`).
    """
    if step is not None:
        check_inputs(0.0, None, step)
    rows = []
    for b in budgets:
        g = _checked(greedy(st, float(b)), f"budget {b:g}, greedy", check)
        e = _checked(exact(st, float(b)), f"budget {b:g}, exact", check)
        row = {
            "budget": float(b),
            "fc_greedy": g.fc_after,
            "fc_exact": e.fc_after,
            "fc_bound": e.bound,
            "gap_exact": e.gap,
            "exact_minus_greedy": e.fc_after - g.fc_after,
            "cost_greedy": g.cost,
            "cost_exact": e.cost,
            "exact_seconds": e.info["solve_seconds"],
            "exact_plan": _plan_text(st, e.x),
            "greedy_plan": _plan_text(st, g.x),
        }
        if step is not None:
            gg = _checked(greedy(st, float(b), step=step), f"budget {b:g}, greedy (grid {step:g})", check)
            gm = _checked(grid(st, float(b), step=step), f"budget {b:g}, grid {step:g}", check)
            row.update(
                {
                    "fc_greedy_grid": gg.fc_after,
                    "fc_grid": gm.fc_after,
                    "gap_grid": gm.fc_after - gg.fc_after,
                    "grid_plan": _plan_text(st, gm.x),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- paper Table 3
#: Paper 004 Table 3: (category, to level, fraction, cost in billion CNY as printed).
PAPER_TABLE3 = [
    ("B6", 7, 1.0, 30.96),
    ("E6", 8, 1.0, 10.95),
    ("E7", 8, 1.0, 4.71),
    ("P6", 8, 0.3, 7.46),
    ("P7", 8, 1.0, 8.21),
]


def table3_comparison(st: Stock, step: float | None = None, check: PlanCheck | None = None) -> pd.DataFrame:
    """Paper Table 3 row by row against this toolkit (no parameter tuned to the table).

    Columns: the paper's move and cost; ``cost`` from eq. (5) read as a_old/a_new - 1;
    ``residual`` = cost - paper cost; ``ratio_paper`` the response ratio a_old/a_new that the
    paper's cost implies, ``ratio_table1`` the ratio of Table 1's a; ``z_start`` the move's Z at
    the as-built state; the fraction of the category that greedy and the global optimum
    (:func:`exact`) move to the same level with the paper's total budget (with ``step``, also
    the grid optimum's, ``grid_fraction``). ``check``: called on every plan (:data:`PlanCheck`).
    """
    x0 = st.as_built()
    budget = sum(r[3] for r in PAPER_TABLE3)
    g = _checked(greedy(st, budget), "Table 3, greedy", check)
    e = _checked(exact(st, budget), "Table 3, exact", check)
    gm = _checked(grid(st, budget, step=step), "Table 3, grid", check) if step is not None else None
    cand = candidates(st, x0).set_index(["category", "to_level"])
    rows = []
    for cid, lv, frac, paper in PAPER_TABLE3:
        c = st.index(cid)
        k = st.levels.index(lv)
        cost = frac * st.unit_cost[c, k]
        rows.append(
            {
                "category": cid,
                "to_level": lv,
                "fraction": frac,
                "paper_cost": paper,
                "cost": cost,
                "residual": cost - paper,
                "ratio_paper": 1.0 + paper / (frac * st.count[c] * st.c0k[c]),
                "ratio_table1": st.a0[c] / st.a[c, k],
                "z_start": float(cand.loc[(cid, lv), "z"]),
                "greedy_fraction": float(g.x[c, k]),
                "exact_fraction": float(e.x[c, k]),
                **({"grid_fraction": float(gm.x[c, k])} if gm is not None else {}),
            }
        )
    return pd.DataFrame(rows)


def paper_state(st: Stock) -> np.ndarray:
    """The state x of paper Table 3's plan."""
    x = st.as_built()
    for cid, lv, frac, _ in PAPER_TABLE3:
        c = st.index(cid)
        x[c, st.levels.index(int(st.level0[c]))] -= frac
        x[c, st.levels.index(lv)] += frac
    return x


def table3_summary(st: Stock, step: float | None = None, check: PlanCheck | None = None) -> pd.DataFrame:
    """F_C right after the earthquake and cost of: Table 3's plan (costed by eq. 5 here), and
    greedy and the global optimum (and with ``step`` the grid optimum) with the paper's total
    (62.29) and with Table 3's toolkit cost. ``check``: called on every plan (:data:`PlanCheck`)."""
    xp = paper_state(st)
    paper_total = sum(r[3] for r in PAPER_TABLE3)
    rows = [
        {
            "plan": "paper Table 3",
            "budget": paper_total,
            "cost": st.cost(xp),
            "fc_after": st.functionality(xp),
        }
    ]
    for b in (paper_total, st.cost(xp)):
        plans = [("greedy", greedy(st, b)), ("exact (global)", exact(st, b))]
        if step is not None:
            plans.append((f"grid optimum (step {step:g})", grid(st, b, step=step)))
        for name, p in plans:
            _checked(p, f"Table 3 summary, budget {b:g}, {name}", check)
            rows.append({"plan": name, "budget": b, "cost": p.cost, "fc_after": p.fc_after})
    return pd.DataFrame(rows)
