"""Paper 4.4: raise the target F_C right after the earthquake step by step until the median F_C
one month after (the recovery simulation) reaches a target (docs/retrofit.md 3).
"""

from __future__ import annotations

from dataclasses import replace as dc_replace

import numpy as np
import pandas as pd

from resiliopt.case import CaseData
from resiliopt.errors import InputError
from resiliopt.retrofit.exact_qp import GAP_TOL, exact
from resiliopt.retrofit.greedy_rule import greedy
from resiliopt.retrofit.grid_milp import grid
from resiliopt.retrofit.plan import METHODS, Plan, check_inputs
from resiliopt.schemas import Variant
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.scenario import case_model
from resiliopt.stock import Stock, variant_of


def month_fc(
    case: CaseData, st: Stock, x: np.ndarray, scenarios: int = 100, seed: int = 0, days: int = 30
) -> np.ndarray:
    """F_C after ``days`` days of recovery in each scenario, with the buildings of state ``x``.

    Runs the recovery simulation (:func:`resiliopt.simulation.engine.run_scenario`, the same
    scenarios as ``resiliopt simulate`` with that seed) on the case with ``x`` as a variant.
    """
    if scenarios < 1:
        raise InputError(f"scenarios must be at least 1, got {scenarios}")
    variants = dict(case.case.variants)
    variants["_retrofit"] = Variant(description="retrofit plan", building_plan=variant_of(st, x))
    cd = dc_replace(case, case=case.case.model_copy(update={"variants": variants}))
    cm = case_model(cd, "_retrofit")
    lp = compiled_for(cm)
    out = np.empty(scenarios)
    for i in range(scenarios):
        _, _, state = run_scenario(cm, seed, i, days, lp)
        out[i] = state.functionality()
    return out


def month_target_plan(
    case: CaseData,
    st: Stock,
    budget: float,
    target_month_fc: float,
    method: str = "greedy",
    scenarios: int = 100,
    seed: int = 0,
    days: int = 30,
    increment: float = 0.05,
    step: float | None = None,
) -> tuple[Plan, pd.DataFrame]:
    """Paper 4.4: raise the target F_C right after the earthquake by ``increment`` at a time
    (``method``: "greedy", "exact" the cheapest plan reaching it, or "grid" the cheapest on
    the fraction grid) and simulate the recovery, until the median F_C after ``days`` days
    reaches ``target_month_fc`` or the budget is spent.

    Returns the plan and the history (one row per increment: initial target, cost, F_C right
    after, median F_C after ``days``).
    """
    check_inputs(budget, target_month_fc, step)
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not (0 < increment <= 1):
        raise InputError(f"increment must be in (0, 1], got {increment:g}")
    rows = []
    x0 = st.as_built()
    t = st.functionality(x0, clamp=False)
    plan = greedy(st, budget, target_fc=t, step=step)
    while True:
        med = float(np.median(month_fc(case, st, plan.x, scenarios, seed, days)))
        rows.append({"target_fc": t, "cost": plan.cost, "fc_after": plan.fc_after, "median_month_fc": med})
        exhausted = plan.fc_after < t - GAP_TOL
        if med >= target_month_fc or exhausted or t >= 1.0:
            break
        t = min(t + increment, 1.0)
        if method == "greedy":
            plan = greedy(st, budget, target_fc=t, step=step)
        elif method == "grid":
            plan = grid(st, budget, target_fc=t, step=step or 0.1)
        else:
            plan = exact(st, budget, target_fc=t)
    hist = pd.DataFrame(rows)
    plan.info.update(
        {
            "target_month_fc": target_month_fc,
            "median_month_fc": rows[-1]["median_month_fc"],
            "month_target_met": rows[-1]["median_month_fc"] >= target_month_fc,
            "days": days,
            "scenarios": scenarios,
            "seed": seed,
            "history": hist.to_dict(orient="records"),
        }
    )
    return plan, hist
