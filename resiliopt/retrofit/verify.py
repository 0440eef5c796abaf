r"""The final check of every reported retrofit plan, against the case's input (docs/retrofit.md 8).

The methods (greedy, exact, grid, bridges) work on derived arrays (:class:`~resiliopt.stock.Stock`,
the SAA data) and end with projections and polishing steps that have tolerances of their own
(a loosened one let ``--method exact`` report a plan 2e-7 billion CNY over budget as
"optimal"). This module rechecks the plan each returns *from the input*: the case's
``buildings.yaml`` (categories: sector, count :math:`n_c` in thousands, as-built response
:math:`a_c` and design level :math:`L_c^0`, unit cost :math:`C_{0k,c}`; ``level_a``), the
case's hazard and community, ``bridges.yaml``, and the run's options (budget, the categories
that may move). It imports no method and no :class:`Stock`.

A building plan is a state :math:`x_{cL}` (the share of category :math:`c` at level
:math:`L`, over the levels the plan's columns name). It passes when

* every share is finite and in :math:`[0, 1]` (to :data:`SHARE_ATOL`);
* each category's shares sum to 1 (to 1e-9): every building stands at one level, so the
  moved share :math:`m_c = \sum_{L \ne L_c^0} x_{cL}` is at most 1;
* a share above 1e-9 stands only at :math:`L_c^0` or at a level :math:`L > L_c^0` that
  ``level_a`` lists for the sector, and moves only categories the options allow;
* the cost, recomputed from the input by eq. (5),

  .. math:: C = \sum_c n_c\,C_{0k,c} \sum_{L \ne L_c^0} x_{cL}\left(\frac{a_c}{a_L} - 1\right),

  is at most the budget plus :data:`COST_ATOL` (1e-9 billion CNY, one yuan), and the
  plan's reported cost is :math:`C` to :data:`COST_ATOL`;
* its reported F_C after the earthquake is the one recomputed from the input (the unsafe
  share :math:`p_L` of each level at the case's PGA, the sector losses, the DAM) to
  :data:`FC_ATOL`, and a plan that says it meets a target does (to :data:`FC_ATOL`);
* every row of its moves table names a category of the case, a valid level and a fraction in
  :math:`[0, 1]`.

A bridge plan passes when every upgraded bridge is a bridge of the case, named once, whose
grade is not already the upgrade grade, and ``len(upgraded) * upgrade_cost`` is at most the
budget plus :data:`COST_ATOL` and equal to the reported cost.

A plan that fails is not optimal: its status becomes ``unverified``, the problems are listed,
and ``resiliopt retrofit`` exits 1 after printing it (:meth:`RetrofitResult.require_verified`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from resiliopt import community as fc
from resiliopt import hazard
from resiliopt.case import CaseData
from resiliopt.schemas import SECTORS

#: budget slack of the final check, billion CNY (one yuan)
COST_ATOL = 1e-9
#: a share may lie this far outside [0, 1] (rounding), and below this it counts as none
SHARE_ATOL = 1e-12
#: the reported F_C after the earthquake against the one recomputed from the input
FC_ATOL = 1e-9
#: a category's shares sum to 1 within this
SUM_ATOL = 1e-9
#: a share at a level is "there" above this (the plans' own threshold, resiliopt.stock.TOL)
PRESENT = 1e-9


def _movable(case: CaseData, only: Sequence[str] | None, exclude: Sequence[str] | None) -> set[str]:
    ids = [c.id for c in case.buildings.categories]
    keep = set(ids if only is None else only)
    return keep - set(exclude or ())


def check_building_plan(
    case: CaseData,
    plan,
    only: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    pga: float | None = None,
) -> list[str]:
    """The problems of a building plan against the input (empty: it passes; module docstring).

    ``plan``: a :class:`~resiliopt.retrofit.plan.Plan` (its ``x`` over ``plan.stock.ids`` and
    ``plan.stock.levels``, ``budget``, ``cost``, ``fc_after``, ``steps``, ``info``).
    ``only`` / ``exclude``: the run's options; ``pga``: the PGA the plan was made for (the
    case's first by default).
    """
    bl = case.buildings
    cats = {c.id: c for c in bl.categories}
    movable = _movable(case, only, exclude)
    x = np.asarray(plan.x, dtype=float)
    ids, levels = list(plan.stock.ids), [int(v) for v in plan.stock.levels]
    problems: list[str] = []
    if x.shape != (len(ids), len(levels)):
        return [f"the plan's state has shape {x.shape}, not {len(ids)} categories x {len(levels)} levels"]
    if sorted(ids) != sorted(cats):
        problems.append(f"the plan's categories {sorted(ids)} are not the case's {sorted(cats)}")
    if pga is None:
        p = case.case.hazard.pga
        pga = float(p[0] if isinstance(p, list) else p)
    cost = 0.0
    unsafe = np.zeros(len(SECTORS))
    for c, cid in enumerate(ids):
        cat = cats.get(cid)
        row = x[c]
        if cat is None:
            continue
        if not np.all(np.isfinite(row)):
            problems.append(f"{cid}: a share is not finite")
            continue
        if row.min() < -SHARE_ATOL or row.max() > 1 + SHARE_ATOL:
            problems.append(f"{cid}: a share outside [0, 1] ({row.min():.3g} .. {row.max():.3g})")
        total = float(row.sum())
        if abs(total - 1.0) > SUM_ATOL:
            problems.append(f"{cid}: its shares sum to {total:.12g}, not 1 (every building at one level)")
        sector = SECTORS.index(cat.sector)
        valid = bl.level_a.get(cat.sector, {})
        for k, lv in enumerate(levels):
            share = float(row[k])
            if share == 0.0:
                continue
            if lv == cat.design_level:
                a = cat.a
            elif lv > cat.design_level and lv in valid and cid in movable:
                a = valid[lv]
                cost += share * cat.count * cat.retrofit_cost * (cat.a / a - 1.0)
            else:
                if share > PRESENT:
                    why = (
                        f"the options do not let {cid} move"
                        if cid not in movable
                        else f"it is not a level above the design level {cat.design_level} with a "
                        f"response coefficient for {cat.sector}"
                    )
                    problems.append(f"{cid}: {share:.6g} at level {lv}, but {why}")
                continue
            p_l = float(hazard.exceedance(a, pga, bl.b, bl.zeta, bl.theta_cr))
            unsafe[sector] += cat.count * share * p_l
        moved = 1.0 - float(row[levels.index(cat.design_level)]) if cat.design_level in levels else 1.0
        if moved > 1 + SUM_ATOL or moved < -SUM_ATOL:
            problems.append(f"{cid}: moved share {moved:.12g} is not in [0, 1]")
    if not math.isfinite(cost) or cost > plan.budget + COST_ATOL:
        problems.append(
            f"the plan costs {cost:.12g} billion CNY (recomputed from the categories of "
            f"{case.case.buildings}), over the budget {plan.budget:.12g} by {cost - plan.budget:.3g} "
            f"(allowed {COST_ATOL:g})"
        )
    if not abs(float(plan.cost) - cost) <= COST_ATOL:
        problems.append(f"the plan reports cost {plan.cost:.12g}, the input gives {cost:.12g}")
    totals = np.zeros(len(SECTORS))
    for cat in bl.categories:
        totals[SECTORS.index(cat.sector)] += cat.count
    loss = np.divide(unsafe, totals, out=np.zeros_like(unsafe), where=totals > 0)
    f_after = float(fc.functionality(loss, case.dam, False))
    if not abs(float(plan.fc_after) - f_after) <= FC_ATOL:
        problems.append(f"the plan reports F_C after {plan.fc_after:.12g}, the input gives {f_after:.12g}")
    if plan.info.get("target_met") and plan.target_fc is not None and f_after < plan.target_fc - FC_ATOL:
        problems.append(
            f"the plan says it meets the target {plan.target_fc:g}, but F_C after is {f_after:.12g}"
        )
    for r in plan.steps.itertuples(index=False):
        cat = cats.get(r.category)
        if cat is None:
            problems.append(f"a move names category {r.category!r}, which the case lacks")
            continue
        ok = int(r.to_level) in bl.level_a.get(cat.sector, {}) and int(r.to_level) > cat.design_level
        if not ok:
            problems.append(f"a move takes {r.category} to level {r.to_level}, not a valid level for it")
        if not (math.isfinite(r.fraction) and -SHARE_ATOL <= r.fraction <= 1 + SHARE_ATOL):
            problems.append(f"a move of {r.category} has fraction {r.fraction!r}, not in [0, 1]")
    return problems


def check_bridge_plan(case: CaseData, plan) -> list[str]:
    """The problems of a bridge plan against ``bridges.yaml`` and the budget (module docstring)."""
    br = case.bridges
    grades = {b.id: b.grade for b in br.bridges}
    problems: list[str] = []
    seen: set[str] = set()
    for b in plan.upgraded:
        if b not in grades:
            problems.append(f"bridge {b!r} is not a bridge of the case")
        elif b in seen:
            problems.append(f"bridge {b!r} is upgraded twice")
        elif grades[b] == br.upgrade_to:
            problems.append(f"bridge {b!r} is already of the upgrade grade {br.upgrade_to!r}")
        seen.add(b)
    cost = len(plan.upgraded) * float(br.upgrade_cost)
    if cost > plan.budget + COST_ATOL:
        problems.append(
            f"{len(plan.upgraded)} bridges at {br.upgrade_cost:g} cost {cost:.12g} billion CNY, over the "
            f"budget {plan.budget:.12g}"
        )
    if not abs(float(plan.cost) - cost) <= COST_ATOL:
        problems.append(f"the plan reports cost {plan.cost:.12g}, the input gives {cost:.12g}")
    return problems
