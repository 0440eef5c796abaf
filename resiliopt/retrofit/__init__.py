"""Retrofit budgets (paper 004 sections 3.2-3.3, 4.4-4.5; docs/retrofit.md).

The building stock (unsafe shares, retrofit cost) is :mod:`resiliopt.stock`; on it:

* :mod:`resiliopt.retrofit.plan`: the :class:`Plan` every method returns, the input checks.
* :mod:`resiliopt.retrofit.greedy_rule`: cost efficiency Z and the paper's greedy rule.
* :mod:`resiliopt.retrofit.exact_qp`: the proven global optimum (a nonconvex QP solved by SCIP).
* :mod:`resiliopt.retrofit.grid_milp`: the optimum over a fraction grid (a MILP, HiGHS).
* :mod:`resiliopt.retrofit.studies`: the budget sweep and paper Table 3.
* :mod:`resiliopt.retrofit.month`: raising the target until F_C one month after reaches one.
* :mod:`resiliopt.retrofit.bridges`: choosing bridges to upgrade under a budget by sample
  average approximation, with out-of-sample evaluation.
* :mod:`resiliopt.retrofit.run`: one study from one call (:func:`run_retrofit`), as the
  ``resiliopt retrofit`` command runs it.
* :mod:`resiliopt.retrofit.verify`: the final check of every reported plan against the case
  (budget, shares, levels, categories): a plan that fails is ``unverified``.
"""

from resiliopt.retrofit.exact_qp import GAP_TOL, exact, level_table, repair
from resiliopt.retrofit.greedy_rule import candidates, greedy, marginal_z, z_table
from resiliopt.retrofit.grid_milp import MAX_GRID_OPTIONS, grid, options
from resiliopt.retrofit.month import month_fc, month_target_plan
from resiliopt.retrofit.plan import METHODS, PLAN_COLUMNS, Plan, check_inputs, plan_steps
from resiliopt.retrofit.run import RetrofitResult, run_retrofit
from resiliopt.retrofit.studies import (
    PAPER_TABLE3,
    SWEEP_MAX,
    paper_state,
    parse_sweep,
    sweep,
    table3_comparison,
    table3_summary,
)
from resiliopt.stock import Stock, plan_from_variant, restrict, stock, variant_of

__all__ = [
    "GAP_TOL",
    "MAX_GRID_OPTIONS",
    "METHODS",
    "PAPER_TABLE3",
    "PLAN_COLUMNS",
    "SWEEP_MAX",
    "Plan",
    "RetrofitResult",
    "Stock",
    "candidates",
    "check_inputs",
    "exact",
    "greedy",
    "grid",
    "level_table",
    "marginal_z",
    "month_fc",
    "month_target_plan",
    "options",
    "paper_state",
    "parse_sweep",
    "plan_from_variant",
    "plan_steps",
    "repair",
    "restrict",
    "run_retrofit",
    "stock",
    "sweep",
    "table3_comparison",
    "table3_summary",
    "variant_of",
    "z_table",
]
