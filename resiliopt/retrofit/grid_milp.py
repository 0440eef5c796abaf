"""The optimum over a fraction grid: every category takes one distribution over its levels
with fractions in steps of ``step`` (a MILP solved by HiGHS; docs/retrofit.md 4).

The model and its math: :mod:`resiliopt.formulations.retrofit_milp`. Not the continuous
optimum: that is :func:`resiliopt.retrofit.exact_qp.exact`.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from resiliopt.errors import InputError, SolveError
from resiliopt.formulations.retrofit_milp import build_retrofit_milp, solve_retrofit_milp
from resiliopt.retrofit.greedy_rule import z_table
from resiliopt.retrofit.plan import Plan, check_inputs, plan_steps
from resiliopt.stock import Stock


# --------------------------------------------------------------------------- options (MILP)
def options(st: Stock, step: float = 0.1) -> pd.DataFrame:
    """Every distribution of each category over its allowed levels on a grid of ``step``.

    One row per (category, option): ``loss`` is the option's contribution to its sector's
    unsafe share l_i, ``cost`` its cost (billion CNY); ``x_<level>`` the fractions. The
    as-built option (everything at the design level) has cost 0.
    """
    check_inputs(0.0, None, step)
    k = round(1.0 / step)
    rows = []
    for c, cid in enumerate(st.ids):
        ks = [j for j in range(len(st.levels)) if st.allowed[c, j]]
        for parts in _compositions(k, len(ks)):
            xs = np.zeros(len(st.levels))
            for j, n in zip(ks, parts, strict=True):
                xs[j] = n / k
            i = st.sector[c]
            row = {
                "option": f"{cid}:" + ",".join(f"{st.levels[j]}={xs[j]:g}" for j in ks if xs[j] > 0),
                "category": cid,
                "sector": int(i),
                "loss": float(st.count[c] * np.sum(xs[ks] * st.p[c, ks]) / st.totals[i]),
                "cost": float(np.sum(xs[ks] * st.unit_cost[c, ks])),
            }
            for j, lv in enumerate(st.levels):
                row[f"x_{lv}"] = xs[j]
            rows.append(row)
    return pd.DataFrame(rows)


def _compositions(n: int, parts: int):
    """All tuples of ``parts`` non-negative integers summing to ``n``."""
    if parts == 1:
        yield (n,)
        return
    for cut in itertools.combinations(range(n + parts - 1), parts - 1):
        prev = -1
        out = []
        for cpos in cut:
            out.append(cpos - prev - 1)
            prev = cpos
        out.append(n + parts - 1 - prev - 1)
        yield tuple(out)


#: most options the grid MILP accepts (step 0.05: 1012 options, 15-35 s; 0.01: 21012, minutes, > 1 GB)
MAX_GRID_OPTIONS = 2000


def grid(
    st: Stock, budget: float, target_fc: float | None = None, step: float = 0.1, time_limit=None
) -> Plan:
    """The optimum over a fraction *grid* (not the continuous optimum: see :func:`exact`).

    Solves the MILP of :mod:`resiliopt.formulations.retrofit_milp` with HiGHS: every category
    takes one distribution over its levels with fractions in steps of ``step``. Without a
    target: maximize F_C right after the earthquake with cost <= budget. With a target: the
    cheapest grid plan reaching it within the budget; if none does, the F_C-maximal one
    (``info['target_met']`` says which). A finer grid gets closer to :func:`exact` but grows
    fast (66 options per level-6 category at 0.1, 5151 at 0.01).
    """
    check_inputs(budget, target_fc, step)
    opts = options(st, step)
    if len(opts) > MAX_GRID_OPTIONS:
        raise InputError(
            f"fraction step {step:g} gives {len(opts)} grid options (limit {MAX_GRID_OPTIONS}); the grid "
            "MILP would run for minutes: use --method exact for the continuous optimum, or a coarser step"
        )
    x0 = st.as_built()
    target_met = None
    sol = None
    if target_fc is not None:
        m = build_retrofit_milp(opts, st.dam, budget, target_fc=target_fc)
        sol = solve_retrofit_milp(m, time_limit=time_limit)
        target_met = sol is not None
    if sol is None:
        m = build_retrofit_milp(opts, st.dam, budget)
        sol = solve_retrofit_milp(m, time_limit=time_limit)
        if sol is None:
            raise SolveError("the retrofit grid MILP could not be solved to optimality")
    chosen = opts.set_index("option").loc[sol["chosen"]]
    x = np.zeros_like(x0)
    for _, r in chosen.iterrows():
        c = st.ids.index(r["category"])
        for j, lv in enumerate(st.levels):
            x[c, j] = r[f"x_{lv}"]
    info = {
        "step": step,
        "grid_optimum": True,
        "solver": "highs",
        "milp_objective": sol["objective"],
        "solve_seconds": sol["seconds"],
    }
    if target_fc is not None:
        info["target_met"] = bool(target_met)
    by_cost = bool(target_met)
    fc_after = st.functionality(x, clamp=False)
    return Plan(
        method=f"grid optimum (step {step:g})",
        budget=float(budget),
        target_fc=target_fc,
        steps=plan_steps(st, x),
        x=x,
        fc_before=st.functionality(x0, clamp=False),
        fc_after=fc_after,
        cost=st.cost(x),
        z_start=z_table(st, x0),
        stock=st,
        info=info,
        objective="cost" if by_cost else "fc_after",
        optimum=st.cost(x) if by_cost else fc_after,
        status="grid optimal",
    )
