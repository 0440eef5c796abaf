"""Retrofit budgets (paper 004 sections 3.2-3.3, 4.4-4.5; docs/retrofit.md).

* :mod:`resiliopt.retrofit.buildings`: unsafe shares, retrofit cost, cost-efficiency Z, the
  paper's greedy rule, the proven global optimum (a nonconvex QP solved by SCIP), the
  optimum over a fraction grid (a MILP) and the budget sweep.
* :mod:`resiliopt.retrofit.bridges`: choosing bridges to upgrade under a budget by sample
  average approximation, with out-of-sample evaluation.
"""

from resiliopt.retrofit.buildings import Plan, Stock, exact, greedy, grid, stock, sweep

__all__ = ["Plan", "Stock", "exact", "greedy", "grid", "stock", "sweep"]
