"""One retrofit study from one call, as ``resiliopt retrofit`` runs it (docs/retrofit.md 7).

:func:`run_retrofit` checks the options together, loads the case and runs one study: a plan by
one method (raised step by step to a one-month target on request), a budget sweep, paper
Table 3, or bridge upgrades. It returns a :class:`RetrofitResult`: the tidy tables, the plan
object and the JSON object of the study. Writing them with their plots is
:func:`resiliopt.reports.retrofit_plots.write_retrofit`.

Every plan the study reports is checked at the end against the case's input and the options
(:mod:`resiliopt.retrofit.verify`): a plan that fails is ``unverified`` (never ``optimal``),
the result lists the problems and :meth:`RetrofitResult.require_verified` raises (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from resiliopt.case import CaseData, load_case
from resiliopt.errors import InputError, SolveError
from resiliopt.retrofit import bridges as rbr
from resiliopt.retrofit.exact_qp import exact
from resiliopt.retrofit.greedy_rule import greedy
from resiliopt.retrofit.grid_milp import grid
from resiliopt.retrofit.month import month_target_plan
from resiliopt.retrofit.plan import METHODS, Plan, check_inputs
from resiliopt.retrofit.studies import parse_sweep, sweep, table3_comparison, table3_summary
from resiliopt.retrofit.verify import check_bridge_plan, check_building_plan
from resiliopt.stock import restrict, stock

#: the studies :func:`run_retrofit` runs
KINDS = ("plan", "sweep", "paper", "bridges")


@dataclass
class RetrofitResult:
    """What one retrofit study gives.

    ``kind``: one of :data:`KINDS`. ``tables``: the tidy tables by name (``<name>.csv`` when
    written): "plan" and "z_start" for a plan, "sweep", "table3" and "table3_summary" for
    Table 3, "bridges" and "evaluation" for bridges. ``plan``: the building :class:`Plan` or
    the :class:`~resiliopt.retrofit.bridges.BridgePlan`. ``history``: with a one-month target,
    one row per raised initial target. ``per_scenario``: bridges, each plan's out-of-sample
    table (one row per scenario). ``problems``: what the final check of the reported plans
    found (:mod:`resiliopt.retrofit.verify`; empty: every plan passed).
    """

    kind: str
    tables: dict[str, pd.DataFrame]
    plan: Plan | rbr.BridgePlan | None = None
    history: pd.DataFrame | None = None
    per_scenario: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        """Every plan the study reports passed the final check against the input."""
        return not self.problems

    def require_verified(self) -> None:
        """Raise :class:`~resiliopt.errors.SolveError` (exit 1) unless :attr:`verified`."""
        if self.problems:
            more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            raise SolveError(
                f"the retrofit plan fails its check against the input: {self.problems[0]}{more}",
                status="unverified",
            )

    def to_dict(self) -> dict:
        """The JSON object of the study (``--json``); the final check's outcome is its
        ``plan_check`` (``passed``, ``problems``), in a plan's own dict as in ``plan.json``."""
        if self.plan is not None:
            return self.plan.to_dict()
        check = {"plan_check": {"passed": self.verified, "problems": list(self.problems)}}
        if self.kind == "sweep":
            return {"sweep": self.tables["sweep"].to_dict(orient="records"), **check}
        return {
            "table3": self.tables["table3"].to_dict(orient="records"),
            "summary": self.tables["table3_summary"].to_dict(orient="records"),
            **check,
        }


def run_retrofit(
    case: str | Path | CaseData,
    budget: float | None = None,
    *,
    target_fc: float | None = None,
    method: str = "greedy",
    step: float | None = None,
    only: list[str] | None = None,
    exclude: list[str] | None = None,
    sweep_spec: str | None = None,
    target_month_fc: float | None = None,
    paper: bool = False,
    bridges: bool = False,
    scenarios: int = 100,
    eval_scenarios: int = 200,
    seed: int = 0,
    objective: str = "weighted",
) -> RetrofitResult:
    """Run the study the options ask for; every option is checked before the case is read.

    * ``bridges``: choose bridges to upgrade within ``budget`` by the SAA MILP on ``scenarios``
      scenarios (``objective`` "weighted" or "resources") and compare the plan with "none"
      and "all" on ``eval_scenarios`` fresh ones.
    * ``paper``: paper Table 3 row by row and its summary (``step`` adds the grid optimum).
    * ``sweep_spec`` (``START:STOP:STEP``, :func:`~resiliopt.retrofit.studies.parse_sweep`):
      greedy against the proven optimum for each budget (``step`` adds the grid columns).
    * otherwise a plan within ``budget`` by ``method`` (greedy, exact or grid; ``target_fc``
      stops at F_C right after the earthquake; ``target_month_fc`` raises it until the
      median F_C one month after reaches this, over ``scenarios`` scenarios of ``seed``).

    ``only`` / ``exclude``: the categories that may (may not) be retrofitted.
    """
    if method not in METHODS:
        raise InputError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "exact" and step is not None and sweep_spec is None and not paper:
        raise InputError(
            "--step restricts fractions to a grid; --method exact is the continuous optimum "
            f"(for the grid optimum use --method grid --step {step:g})"
        )
    if target_month_fc is not None:
        check_inputs(0.0, target_month_fc)
    if budget is not None:
        check_inputs(budget, target_fc, step)
    elif target_fc is not None:
        check_inputs(0.0, target_fc, step)
    cd = case if isinstance(case, CaseData) else load_case(case)
    problems: list[str] = []

    def check(plan: Plan, label: str) -> None:  # every plan a study reports (module docstring)
        problems.extend(f"{label}: {p}" for p in check_building_plan(cd, plan, only, exclude))

    if bridges:
        res = _bridges(cd, budget, scenarios, eval_scenarios, seed, objective)
        res.problems = check_bridge_plan(cd, res.plan)
        if res.problems:
            res.plan.status = "unverified"
            res.plan.problems = list(res.problems)
        return res
    st = restrict(stock(cd), only, exclude)
    if paper:
        tables = {
            "table3": table3_comparison(st, step, check),
            "table3_summary": table3_summary(st, step, check),
        }
        return RetrofitResult("paper", tables, problems=problems)
    if sweep_spec is not None:
        table = sweep(st, parse_sweep(sweep_spec), step, check)
        return RetrofitResult("sweep", {"sweep": table}, problems=problems)
    if budget is None:
        raise InputError("--budget is required (or give --sweep or --paper-table)")
    hist = None
    if target_month_fc is not None:
        if target_fc is not None:
            raise InputError("give --target-fc or --target-month-fc, not both")
        plan, hist = month_target_plan(
            cd, st, budget, target_month_fc, method, scenarios=scenarios, seed=seed, step=step
        )
    elif method == "greedy":
        plan = greedy(st, budget, target_fc, step=step)
    elif method == "grid":
        plan = grid(st, budget, target_fc, step=step or 0.1)
    else:
        plan = exact(st, budget, target_fc)
    found = check_building_plan(cd, plan, only, exclude)
    plan.info["plan_check"] = {"passed": not found, "problems": found}
    if found:
        plan.status = "unverified"
    return RetrofitResult("plan", {"plan": plan.steps, "z_start": plan.z_start}, plan, hist, problems=found)


def _bridges(cd: CaseData, budget, scenarios, eval_scenarios, seed, objective) -> RetrofitResult:
    if budget is None:
        raise InputError("--budget is required with --bridges")
    if eval_scenarios < 1:
        raise InputError(f"--eval-scenarios must be at least 1, got {eval_scenarios}")
    plan = rbr.choose_bridges(cd, budget, scenarios, seed, objective)
    per: dict = {}
    plan.evaluation = rbr.compare(cd, plan, eval_scenarios, per_scenario=per)
    tables = {"bridges": plan.bridges, "evaluation": plan.evaluation}
    return RetrofitResult("bridges", tables, plan, per_scenario=per)
