r"""Building retrofit under a budget: unsafe shares, cost, cost-efficiency Z, greedy rule.

Paper 004 sections 3.2-3.3 and 4.4, in the reading of MODEL_NOTES section 3 (docs/retrofit.md).

State
    For every category :math:`c` (Table 1) a distribution :math:`x_{cL}` of its buildings over
    design levels :math:`L \ge L_c^0` (its as-built level); :math:`\sum_L x_{cL} = 1`. A
    building moved to level :math:`L` takes the sector's response coefficient at that level,
    :math:`a_L` (``buildings.level_a``; the as-built level keeps the category's own ``a``).

Unsafe share (equation (4), averaged over the categories of the sector by count)
    .. math::

        p_L = 1 - \Phi\!\left(\frac{\ln\theta_{cr} - \ln a_L - b\ln IM}{\zeta}\right),\qquad
        l_i = \frac{1}{N_i}\sum_{c \in i} n_c \sum_L x_{cL}\, p_L .

Cost (equation (5) read as old over new response, MODEL_NOTES 3)
    .. math::

        C = \sum_c n_c\, C_{0k,c} \sum_L x_{cL} \left(\frac{a_c^0}{a_L} - 1\right)

    always measured from the as-built response :math:`a_c^0`, so the cost of a building
    depends only on where it ends up (moving 6 -> 7 and later 7 -> 8 costs the same as 6 -> 8).

Cost efficiency (equations (6)-(8))
    The paper's marginal efficiency of the part of category :math:`c` now at level :math:`L`
    (strengthening it continuously, :math:`\mu/\mu^0 = a/a^0`, :math:`\lambda = \ln a + b \ln IM`):

    .. math::

        Z^{marg}_{cL} = \frac{\partial F_C}{\partial f_i}\,
            \underbrace{\frac{\varphi(z_L)}{\zeta}}_{df_c/d\lambda}\,
            \underbrace{\frac{1}{a_L}}_{d\lambda/da}\,
            \underbrace{\frac{a_L^2}{C_{0k,c}\, a^0_c}}_{da/dC\ \text{per building}}
            \frac{1}{N_i}
          = \frac{\partial F_C}{\partial f_i}\,\frac{\varphi(z_L)\, a_L}{\zeta\, N_i\, C_{0k,c}\, a_c^0}

    A candidate move (category :math:`c`, from level :math:`L` to :math:`L'`) is linear in the
    fraction moved, so its efficiency is the directional derivative of :math:`F_C` per CNY spent:

    .. math::

        Z_{c,L\to L'} = \frac{\partial F_C}{\partial f_i}\,
            \frac{p_L - p_{L'}}{N_i\, C_{0k,c}\,(a^0_c/a_{L'} - a^0_c/a_L)},

    which is exactly the average of the chain-rule :math:`df_i/dC_i` of (8) over the path from
    :math:`a_L` to :math:`a_{L'}` (tests check both against finite differences). Because
    :math:`\partial F_C/\partial f_i` does not depend on :math:`l_i`, a move's own Z stays
    constant while it is carried out; only the other sectors' Z change.

Greedy rule (paper 3.3): move the candidate of highest Z as far as the budget allows, recompute
all Z, repeat until the budget is spent, no candidate is left, or F_C right after the
earthquake reaches the target (the last move is a fraction, as Table 3's 30 % of P6).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from resiliopt import community as fc
from resiliopt import hazard
from resiliopt.case import CaseData
from resiliopt.errors import InputError, SolveError
from resiliopt.schemas import SECTORS

_TOL = 1e-9


@dataclass(frozen=True)
class Stock:
    """The numbers of a case that the retrofit problem needs, as arrays.

    ``levels`` is the sorted list of all design levels; ``a[c, k]`` the response coefficient of
    category ``c`` at ``levels[k]`` (nan where not allowed: below the as-built level or no
    entry in ``level_a``); ``p`` the unsafe share there; ``unit_cost[c, k]`` the cost of moving
    the whole category there from as built (billion CNY).
    """

    ids: list[str]
    sector: np.ndarray
    count: np.ndarray
    a0: np.ndarray
    level0: np.ndarray
    c0k: np.ndarray
    levels: list[int]
    a: np.ndarray
    p: np.ndarray
    unit_cost: np.ndarray
    totals: np.ndarray
    dam: np.ndarray
    pga: float
    b: float
    zeta: float
    theta_cr: float
    clamp: bool

    @property
    def allowed(self) -> np.ndarray:
        return np.isfinite(self.a)

    def as_built(self) -> np.ndarray:
        x = np.zeros(self.a.shape)
        for c, lv in enumerate(self.level0):
            x[c, self.levels.index(int(lv))] = 1.0
        return x

    def index(self, category: str) -> int:
        if category not in self.ids:
            raise InputError(f"unknown category {category!r} (case has: {', '.join(self.ids)})")
        return self.ids.index(category)

    # ------------------------------------------------------------------ functions of x
    def sector_loss(self, x: np.ndarray) -> np.ndarray:
        """l_i for a state ``x`` (categories x levels)."""
        unsafe = self.count * np.nansum(x * np.nan_to_num(self.p), axis=1)
        return fc.sector_loss(unsafe, self.sector, self.totals)

    def functionality(self, x: np.ndarray, clamp: bool | None = None) -> float:
        """F_C right after the earthquake (expected unsafe shares), clamped as the case says."""
        clamp = self.clamp if clamp is None else clamp
        return float(fc.functionality(self.sector_loss(x), self.dam, clamp))

    def cost(self, x: np.ndarray) -> float:
        return float(np.sum(x * np.nan_to_num(self.unit_cost)))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        return fc.gradient(self.sector_loss(x), self.dam)

    def unsafe_share(self, a) -> np.ndarray:
        return hazard.exceedance(a, self.pga, self.b, self.zeta, self.theta_cr)

    def category_cost(self, c: int, a) -> np.ndarray:
        """C(a): cost of bringing all of category ``c`` from a0 to response ``a`` (eq. 5)."""
        return self.count[c] * self.c0k[c] * (self.a0[c] / np.asarray(a, dtype=float) - 1.0)


def stock(case: CaseData, pga: float | None = None) -> Stock:
    """Build the :class:`Stock` of a case (PGA: the case's first hazard PGA unless given)."""
    bl = case.buildings
    if pga is None:
        p = case.case.hazard.pga
        pga = float(p[0] if isinstance(p, list) else p)
    levels = sorted({c.design_level for c in bl.categories} | {lv for d in bl.level_a.values() for lv in d})
    n = len(bl.categories)
    a = np.full((n, len(levels)), np.nan)
    for ci, cat in enumerate(bl.categories):
        for k, lv in enumerate(levels):
            if lv == cat.design_level:
                a[ci, k] = cat.a
            elif lv > cat.design_level and lv in bl.level_a.get(cat.sector, {}):
                a[ci, k] = bl.level_a[cat.sector][lv]
    count = np.array([c.count for c in bl.categories], dtype=float)
    a0 = np.array([c.a for c in bl.categories], dtype=float)
    c0k = np.array([c.retrofit_cost for c in bl.categories], dtype=float)
    with np.errstate(invalid="ignore"):
        p = hazard.exceedance(np.where(np.isfinite(a), a, 1.0), pga, bl.b, bl.zeta, bl.theta_cr)
    p = np.where(np.isfinite(a), p, np.nan)
    unit_cost = (count * c0k)[:, None] * (a0[:, None] / a - 1.0)
    return Stock(
        ids=[c.id for c in bl.categories],
        sector=np.array([SECTORS.index(c.sector) for c in bl.categories]),
        count=count,
        a0=a0,
        level0=np.array([c.design_level for c in bl.categories]),
        c0k=c0k,
        levels=levels,
        a=a,
        p=p,
        unit_cost=unit_cost,
        totals=case.sector_totals,
        dam=case.dam,
        pga=pga,
        b=bl.b,
        zeta=bl.zeta,
        theta_cr=bl.theta_cr,
        clamp=case.community.clamp,
    )


def restrict(st: Stock, only: list[str] | None = None, exclude: list[str] | None = None) -> Stock:
    """A stock where only the given categories (all but ``exclude``) may be retrofitted."""
    for cid in (only or []) + (exclude or []):
        st.index(cid)  # raises InputError for an unknown category
    keep = set(st.ids if only is None else only) - set(exclude or [])
    a = st.a.copy()
    for c, cid in enumerate(st.ids):
        if cid not in keep:
            for k, lv in enumerate(st.levels):
                if lv != st.level0[c]:
                    a[c, k] = np.nan
    p = np.where(np.isfinite(a), st.p, np.nan)
    cost = np.where(np.isfinite(a), st.unit_cost, np.nan)
    return replace(st, a=a, p=p, unit_cost=cost)


# --------------------------------------------------------------------------- Z
def marginal_z(st: Stock, x: np.ndarray, c: int, a: float | None = None) -> float:
    r"""Paper's Z (6)-(8) for strengthening category ``c`` continuously at response ``a``.

    dF_C/dC when the buildings of ``c`` at response ``a`` are strengthened uniformly; ``a``
    defaults to the as-built response. The sector gradient is taken at state ``x``.
    """
    a = st.a0[c] if a is None else float(a)
    i = st.sector[c]
    grad = st.gradient(x)[i]
    z = (math.log(st.theta_cr) - math.log(a) - st.b * math.log(st.pga)) / st.zeta
    dfc_dlam = float(hazard.norm_pdf(z)) / st.zeta  # d(1 - p)/d lambda, per building of c, sign +
    dlam_da = 1.0 / a
    da_dc = a * a / (st.c0k[c] * st.a0[c])  # -(dC/da)^-1 per thousand buildings
    return float(grad * dfc_dlam * dlam_da * da_dc / st.totals[i])


def candidates(st: Stock, x: np.ndarray) -> pd.DataFrame:
    """Every possible move at state ``x``, with its efficiency Z (F_C per billion CNY).

    Columns: category, sector, from_level, to_level, available (fraction of the category at
    ``from_level``), cost_full (cost of moving all of it), fc_gain_full, z, z_marginal (paper's
    chain-rule Z of that part at its current response).
    """
    grad = st.gradient(x)
    rows = []
    for c in range(len(st.ids)):
        i = st.sector[c]
        for k0, l0 in enumerate(st.levels):
            if not st.allowed[c, k0] or x[c, k0] <= _TOL:
                continue
            zm = marginal_z(st, x, c, st.a[c, k0])
            for k1 in range(k0 + 1, len(st.levels)):
                if not st.allowed[c, k1]:
                    continue
                per_frac_cost = st.unit_cost[c, k1] - st.unit_cost[c, k0]
                per_frac_gain = grad[i] * st.count[c] / st.totals[i] * (st.p[c, k0] - st.p[c, k1])
                avail = x[c, k0]
                rows.append(
                    {
                        "category": st.ids[c],
                        "sector": SECTORS[i],
                        "from_level": l0,
                        "to_level": st.levels[k1],
                        "available": avail,
                        "cost_full": per_frac_cost * avail,
                        "fc_gain_full": per_frac_gain * avail,
                        "z": per_frac_gain / per_frac_cost if per_frac_cost > 0 else math.inf,
                        "z_marginal": zm,
                        "_c": c,
                        "_k0": k0,
                        "_k1": k1,
                        "_cost": per_frac_cost,
                        "_gain": per_frac_gain,
                    }
                )
    cols = ["category", "sector", "from_level", "to_level", "available", "cost_full", "fc_gain_full"]
    cols += ["z", "z_marginal", "_c", "_k0", "_k1", "_cost", "_gain"]
    return pd.DataFrame(rows, columns=cols)


def _public(df: pd.DataFrame) -> pd.DataFrame:
    return df[[c for c in df.columns if not c.startswith("_")]].reset_index(drop=True)


# --------------------------------------------------------------------------- plan
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
                if st.allowed[c, k] and self.x[c, k] > _TOL:
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


def _floor_grid(v: float, step: float | None) -> float:
    if step is None:
        return v
    return math.floor(v / step + 1e-9) * step


def _ceil_grid(v: float, step: float | None) -> float:
    if step is None:
        return v
    return math.ceil(v / step - 1e-9) * step


def greedy(
    st: Stock,
    budget: float,
    target_fc: float | None = None,
    step: float | None = None,
    x0: np.ndarray | None = None,
) -> Plan:
    """The paper's rule: spend on the highest Z first, recompute after every move.

    ``step``: None lets the last move take any fraction (the paper's 30 % of P6); a number
    (e.g. 0.1) restricts every fraction to that grid, the grid of the grid MILP (:func:`grid`). A candidate
    the remaining budget cannot afford at all (not even one grid step) is skipped, the next
    best is taken. With ``target_fc`` the plan stops as soon as F_C right after the earthquake
    reaches it, moving only the fraction needed.
    """
    check_inputs(budget, target_fc, step)
    x = st.as_built() if x0 is None else np.array(x0, dtype=float)
    fc0 = st.functionality(x, clamp=False)
    z0 = _public(candidates(st, x))
    left = float(budget)
    steps = []
    while True:
        f_now = st.functionality(x, clamp=False)
        if target_fc is not None and f_now >= target_fc - 1e-12:
            break
        cand = candidates(st, x)
        if cand.empty:
            break
        afford = np.minimum(cand["available"].to_numpy(), left / cand["_cost"].to_numpy())
        afford = np.array(
            [min(_floor_grid(v, step), a) for v, a in zip(afford, cand["available"], strict=True)]
        )
        cand = cand.assign(_afford=afford)
        cand = cand[(cand["_afford"] > _TOL) & (cand["_gain"] > 0)]
        if cand.empty:
            break
        best = cand.loc[cand["z"].idxmax()]
        frac = float(best["_afford"])
        if target_fc is not None:
            need = (target_fc - f_now) / float(best["_gain"])
            frac = min(frac, max(_ceil_grid(need, step), 0.0))
            if step is not None and frac > best["_afford"] + _TOL:
                frac = float(best["_afford"])
        c, k0, k1 = int(best["_c"]), int(best["_k0"]), int(best["_k1"])
        cost = frac * float(best["_cost"])
        x[c, k0] -= frac
        x[c, k1] += frac
        if abs(x[c, k0]) < _TOL:
            x[c, k0] = 0.0
        left -= cost
        steps.append(
            {
                "category": st.ids[c],
                "from_level": st.levels[k0],
                "to_level": st.levels[k1],
                "fraction": frac,
                "buildings": frac * st.count[c],
                "cost": cost,
                "fc_gain": st.functionality(x, clamp=False) - f_now,
                "z": float(best["z"]),
            }
        )
        if left <= 1e-9 * max(budget, 1.0):
            break
    return Plan(
        method="greedy" if step is None else f"greedy (grid {step:g})",
        budget=float(budget),
        target_fc=target_fc,
        steps=pd.DataFrame(steps, columns=PLAN_COLUMNS),
        x=x,
        fc_before=fc0,
        fc_after=st.functionality(x, clamp=False),
        cost=st.cost(x),
        z_start=z0,
        stock=st,
    )


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
            if k == k0 or not st.allowed[c, k] or x[c, k] <= _TOL:
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
    from resiliopt.formulations.retrofit_milp import build_retrofit_milp, solve_retrofit_milp

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
        z_start=_public(candidates(st, x0)),
        stock=st,
        info=info,
        objective="cost" if by_cost else "fc_after",
        optimum=st.cost(x) if by_cost else fc_after,
        status="grid optimal",
    )


def level_table(st: Stock) -> pd.DataFrame:
    """One row per category and level it may end at: the data of the exact QP.

    Columns: ``category``, ``sector`` (0..3), ``level``, ``loss`` (what the whole category
    there adds to its sector's unsafe share, n_c p_L / N_i) and ``cost`` (moving all of it
    there from as built, eq. 5, billion CNY; 0 at the as-built level).
    """
    rows = []
    for c, cid in enumerate(st.ids):
        i = int(st.sector[c])
        for k, lv in enumerate(st.levels):
            if st.allowed[c, k]:
                rows.append(
                    {
                        "category": cid,
                        "sector": i,
                        "level": lv,
                        "loss": float(st.count[c] * st.p[c, k] / st.totals[i]),
                        "cost": float(st.unit_cost[c, k]),
                    }
                )
    return pd.DataFrame(rows)


def repair(st: Stock, x: np.ndarray, budget: float) -> np.ndarray:
    """Project a solver's state onto the feasible set *exactly* (solvers hold rows to ~1e-9).

    Shares are clipped to [0, 1] on allowed levels and moved shares under 1e-9 dropped (a plan
    lists no smaller move); what is not moved stays at the as-built level (so each category
    sums to 1); if the cost still exceeds the budget, every move is scaled down by
    budget / cost (the cost is linear in the moved shares, 0 as built).
    """
    n = len(st.ids)
    k0 = np.array([st.levels.index(int(lv)) for lv in st.level0])
    x = np.where(st.allowed, np.clip(np.nan_to_num(np.asarray(x, dtype=float)), 0.0, 1.0), 0.0)
    x[x <= _TOL] = 0.0
    moved = x.copy()
    moved[np.arange(n), k0] = 0.0
    total = moved.sum(axis=1)
    over = total > 1.0
    moved[over] /= total[over][:, None]
    cost = float(np.sum(moved * np.nan_to_num(st.unit_cost)))
    if cost > budget:
        moved *= budget / cost
        while float(np.sum(moved * np.nan_to_num(st.unit_cost))) > budget:
            moved *= 1.0 - 1e-15
    moved[np.arange(n), k0] = 1.0 - moved.sum(axis=1)
    return moved


def _face(st: Stock, x: np.ndarray, budget: float, dust: float):
    """The face of ``x``: its levels above ``dust`` and the linear rows that bind there.

    Returns (idx, M, E, e): ``idx`` the (category, level) pairs, ``M`` the map from their
    shares to the sector unsafe shares (l = M x), ``E x = e`` the rows (each category sums to
    1, the budget if it binds); ``None`` when the face is empty.
    """
    idx = np.argwhere(st.allowed & (x > dust))
    if len(idx) == 0:
        return None
    big_m = np.zeros((len(st.totals), len(idx)))
    for v, (c, k) in enumerate(idx):
        i = st.sector[c]
        big_m[i, v] = st.count[c] * st.p[c, k] / st.totals[i]
    cats = sorted({int(c) for c, _ in idx})
    e_rows = [[1.0 if c == cc else 0.0 for cc, _ in idx] for c in cats]
    e_rhs = [1.0] * len(cats)
    if st.cost(x) >= budget - 1e-6 * max(1.0, budget):
        e_rows.append([float(st.unit_cost[c, k]) for c, k in idx])
        e_rhs.append(float(budget))
    return idx, big_m, np.array(e_rows), np.array(e_rhs)


def _on_face(st: Stock, x: np.ndarray, idx: np.ndarray, xs: np.ndarray, budget: float) -> np.ndarray | None:
    if not np.all(np.isfinite(xs)) or xs.min() < -1e-9 or xs.max() > 1 + 1e-9:
        return None
    out = np.zeros_like(x)
    out[idx[:, 0], idx[:, 1]] = xs
    return repair(st, out, budget)


def _stationary(st: Stock, x: np.ndarray, budget: float, dust: float = 1e-7) -> np.ndarray | None:
    """The stationary point of F_C on the face of the solver's solution ``x``, or None.

    The face: the levels where ``x`` exceeds ``dust`` (solvers leave shares of ~1e-7 where the
    optimum has 0), each category summing to 1, the budget row if it binds. F_C is quadratic
    and the face affine, so one Newton (KKT) step from ``x`` lands on the stationary point,
    which for the global solution is the solution itself without the solver's ~1e-9
    tolerance. The caller keeps it only if it is feasible and better.
    """
    face = _face(st, x, budget, dust)
    if face is None:
        return None
    idx, big_m, e_mat, e_rhs = face
    diag = np.diag(st.dam)
    off = st.dam - np.diag(diag)
    hess = 2.0 * big_m.T @ off @ big_m  # of L_C = diag.(Mx) + (Mx)' off (Mx)
    q = big_m.T @ diag
    xs = x[idx[:, 0], idx[:, 1]]
    nr = len(e_rhs)
    kkt = np.block([[hess, e_mat.T], [e_mat, np.zeros((nr, nr))]])
    rhs = np.concatenate([-(q + hess @ xs), e_rhs - e_mat @ xs])
    step = np.linalg.lstsq(kkt, rhs, rcond=None)[0][: len(xs)]
    return _on_face(st, x, idx, xs + step, budget)


def _cheapest_on_face(
    st: Stock, x: np.ndarray, budget: float, target_fc: float, dust: float = 1e-7
) -> np.ndarray | None:
    """With a target: the KKT point of min cost s.t. F_C = target on the face of ``x``, or None.

    Newton's method on the KKT conditions (the target row is quadratic), started from the
    solver's solution with least-squares multipliers; a few steps reach it to rounding.
    """
    face = _face(st, x, budget, dust)
    if face is None:
        return None
    idx, big_m, e_mat, e_rhs = face
    diag = np.diag(st.dam)
    off = st.dam - np.diag(diag)
    hess = 2.0 * big_m.T @ off @ big_m
    price = np.array([float(st.unit_cost[c, k]) for c, k in idx])
    xs = x[idx[:, 0], idx[:, 1]].copy()
    n, nr = len(xs), len(e_rhs)

    def row(v):  # L_C(v) - (1 - target): <= 0 means the target is met
        lv = big_m @ v
        return float(diag @ lv + lv @ off @ lv - (1.0 - target_fc))

    def grad(v):
        return big_m.T @ (diag + 2.0 * off @ (big_m @ v))

    mult = np.linalg.lstsq(np.column_stack([e_mat.T, grad(xs)]), -price, rcond=None)[0]
    nu, mu = mult[:nr], float(mult[nr])
    for _ in range(8):
        gv = grad(xs)
        res = np.concatenate([price + e_mat.T @ nu + mu * gv, e_mat @ xs - e_rhs, [row(xs)]])
        if np.abs(res).max() < 1e-15:
            break
        kkt = np.block(
            [
                [mu * hess, e_mat.T, gv[:, None]],
                [e_mat, np.zeros((nr, nr)), np.zeros((nr, 1))],
                [gv[None, :], np.zeros((1, nr)), np.zeros((1, 1))],
            ]
        )
        d = np.linalg.lstsq(kkt, -res, rcond=None)[0]
        xs, nu, mu = xs + d[:n], nu + d[n : n + nr], mu + float(d[-1])
    return _on_face(st, x, idx, xs, budget)


#: largest |gap| accepted as "optimal", relative to max(1, |bound|): SCIP holds every row to
#: 1e-9 (solvers.scip), and projecting its solution exactly onto the feasible set moves the
#: objective by about that much per variable
GAP_TOL = 1e-7
#: SCIP may also leave a share up to its tolerance (1e-9) below 0; with the cost as objective its
#: bound can then be low by up to that times the cost coefficients: allow 10x that on top
BOUND_SLACK = 1e-8


def exact(st: Stock, budget: float, target_fc: float | None = None, time_limit: float | None = None) -> Plan:
    """The proven global optimum with continuous fractions: the QP of
    :mod:`resiliopt.formulations.retrofit_qp`, solved by SCIP (:mod:`resiliopt.solvers.scip`).

    Without a target: maximize F_C right after the earthquake with cost <= budget. With a
    target: the cheapest plan reaching F_C >= target within the budget; if SCIP proves there is
    none, the F_C-maximal one (``info['target_met']`` says which).

    The plan returned is SCIP's solution projected exactly onto the feasible set
    (:func:`repair`) and, without a target, moved to the stationary point of its face when that
    is better (:func:`_stationary`); ``fc_after`` and ``cost`` are recomputed from it.
    ``bound`` is SCIP's dual bound, ``gap`` the distance to it (0 at optimality up to
    :data:`GAP_TOL`; it can be ~1e-10 below 0, SCIP's bound holding only to its tolerance),
    ``status`` "optimal" or SCIP's status.
    """
    from resiliopt.formulations.retrofit_qp import build_retrofit_qp, solution
    from resiliopt.solvers.scip import PyomoScip

    check_inputs(budget, target_fc)
    table = level_table(st)
    solver = PyomoScip(time_limit=time_limit)
    x0 = st.as_built()
    target_met = None
    res = None
    # SCIP's presolve can call a feasible model infeasible at tiny budgets (1e-8 billion with R6
    # excluded: the as-built plan is feasible); an "infeasible" is only believed once a solve
    # without presolve agrees
    careful = PyomoScip(time_limit=time_limit, options={"presolving/maxrounds": 0})
    if target_fc is not None:
        m = build_retrofit_qp(table, st.dam, budget, target_fc=target_fc)
        res = solver.solve(m)
        if res.status == "infeasible":
            res = careful.solve(m)
        target_met = res.status != "infeasible"
        if not target_met:
            res = None
    if res is None:
        m = build_retrofit_qp(table, st.dam, budget)
        res = solver.solve(m)
        if res.objective is None:
            res = careful.solve(m)
    if res.objective is None:
        raise SolveError(f"SCIP found no retrofit plan (status {res.status})", status=res.status)
    x = np.zeros_like(x0)
    for r in solution(m).itertuples():
        x[st.index(r.category), st.levels.index(int(r.level))] = r.share
    by_cost = bool(target_met)
    x = repair(st, x, budget)
    for dust in (1e-7, 1e-6, 1e-5, 1e-4):
        if not by_cost:
            polished = _stationary(st, x, budget, dust)
            if polished is not None and st.functionality(polished, clamp=False) > st.functionality(
                x, clamp=False
            ):
                x = polished
        elif st.functionality(x, clamp=False) < target_fc:
            # SCIP meets the target row to 1e-9: land on it exactly, at the same cost up to that
            polished = _cheapest_on_face(st, x, budget, target_fc, dust)
            if (
                polished is not None
                and st.functionality(polished, clamp=False) >= target_fc - 1e-13
                and st.cost(polished) <= st.cost(x) + GAP_TOL * max(1.0, st.cost(x))
            ):
                x = polished
    if not by_cost:
        # SCIP's optimum holds to its tolerances (~1e-9); where the paper's rule finds a plan
        # that good or better (small budgets), keep that feasible plan, so exact >= greedy holds
        # exactly and the bound still proves it
        g = greedy(st, budget)
        if g.cost <= budget * (1 + 1e-12) and st.functionality(g.x, clamp=False) > st.functionality(
            x, clamp=False
        ):
            x = np.array(g.x, dtype=float)
    fc_after = st.functionality(x, clamp=False)
    cost = st.cost(x)
    if by_cost:
        optimum, bound = cost, res.bound
        gap = None if bound is None else optimum - bound
    else:
        optimum, bound = fc_after, None if res.bound is None else 1.0 - res.bound
        gap = None if bound is None else bound - optimum
    status = res.status
    tol = GAP_TOL * max(1.0, abs(bound or 0.0))
    if by_cost:
        tol += BOUND_SLACK * float(np.nansum(np.abs(st.unit_cost)))
    if status == "optimal" and (gap is None or abs(gap) > tol):
        raise SolveError(
            f"SCIP reports an optimum but the plan is {gap} from its bound (tolerance {tol:g})",
            status="error",
        )
    info = {
        "solver": res.solver,
        "solver_version": res.solver_version,
        "solver_objective": res.objective,
        "solver_bound": res.bound,
        "nodes": res.nodes,
        "solve_seconds": res.seconds,
    }
    if target_fc is not None:
        info["target_met"] = bool(target_met)
    return Plan(
        method="exact (global, SCIP)",
        budget=float(budget),
        target_fc=target_fc,
        steps=plan_steps(st, x),
        x=x,
        fc_before=st.functionality(x0, clamp=False),
        fc_after=fc_after,
        cost=cost,
        z_start=_public(candidates(st, x0)),
        stock=st,
        info=info,
        objective="cost" if by_cost else "fc_after",
        optimum=optimum,
        bound=bound,
        gap=gap,
        status=status,
    )


def plan_from_variant(case: CaseData, variant: str) -> np.ndarray:
    """The state ``x`` of a case variant's ``building_plan`` (e.g. the paper's Table 3)."""
    st = stock(case)
    v = case.case.variants.get(variant)
    if v is None:
        raise InputError(f"unknown variant {variant!r}")
    x = st.as_built()
    for cid, moves in v.building_plan.items():
        c = st.index(cid)
        k0 = st.levels.index(int(st.level0[c]))
        for lv, frac in moves.items():
            k = st.levels.index(int(lv))
            x[c, k0] -= frac
            x[c, k] += frac
    return x


# --------------------------------------------------------------------------- sweep
def parse_sweep(spec: str) -> np.ndarray:
    """``start:stop:step`` (billion CNY, stop included) -> budgets."""
    try:
        parts = [float(p) for p in spec.split(":")]
    except ValueError:
        parts = []
    if len(parts) != 3 or parts[2] <= 0 or parts[0] < 0 or parts[1] < parts[0]:
        raise InputError(f"sweep must be START:STOP:STEP with 0 <= START <= STOP and STEP > 0, got {spec!r}")
    if not all(math.isfinite(p) for p in parts):
        raise InputError(f"sweep values must be finite, got {spec!r}")
    n = int(math.floor((parts[1] - parts[0]) / parts[2] + 1e-9)) + 1
    if n > 10000:
        raise InputError(f"sweep {spec!r} has {n} budgets; at most 10000")
    return parts[0] + parts[2] * np.arange(n)


def _plan_text(st: Stock, x: np.ndarray) -> str:
    return "; ".join(f"{r.category}>{r.to_level}:{r.fraction:.4g}" for r in plan_steps(st, x).itertuples())


def sweep(st: Stock, budgets, step: float | None = None) -> pd.DataFrame:
    """The greedy rule against the proven global optimum (:func:`exact`) for each budget.

    Columns: ``fc_greedy``, ``fc_exact`` (F_C right after the earthquake), ``fc_bound`` (SCIP's
    upper bound on F_C), ``gap_exact`` (= fc_bound - fc_exact, 0 at optimality),
    ``exact_minus_greedy`` (>= 0: what the rule leaves on the table), the costs and both plans.
    With ``step`` (e.g. 0.1) also the grid: ``fc_greedy_grid`` (greedy with fractions on the
    grid), ``fc_grid`` (the grid MILP's optimum, :func:`grid`) and ``gap_grid`` = fc_grid -
    fc_greedy_grid (>= 0).
    """
    if step is not None:
        check_inputs(0.0, None, step)
    rows = []
    for b in budgets:
        g = greedy(st, float(b))
        e = exact(st, float(b))
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
            gg = greedy(st, float(b), step=step)
            gm = grid(st, float(b), step=step)
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


def table3_comparison(st: Stock, step: float | None = None) -> pd.DataFrame:
    """Paper Table 3 row by row against this toolkit (no parameter tuned to the table).

    Columns: the paper's move and cost; ``cost`` from eq. (5) read as a_old/a_new - 1;
    ``residual`` = cost - paper cost; ``ratio_paper`` the response ratio a_old/a_new that the
    paper's cost implies, ``ratio_table1`` the ratio of Table 1's a; ``z_start`` the move's Z at
    the as-built state; the fraction of the category that greedy and the global optimum
    (:func:`exact`) move to the same level with the paper's total budget (with ``step``, also
    the grid optimum's, ``grid_fraction``).
    """
    x0 = st.as_built()
    budget = sum(r[3] for r in PAPER_TABLE3)
    g = greedy(st, budget)
    e = exact(st, budget)
    gm = grid(st, budget, step=step) if step is not None else None
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


def table3_summary(st: Stock, step: float | None = None) -> pd.DataFrame:
    """F_C right after the earthquake and cost of: Table 3's plan (costed by eq. 5 here), and
    greedy and the global optimum (and with ``step`` the grid optimum) with the paper's total
    (62.29) and with Table 3's toolkit cost."""
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
            rows.append({"plan": name, "budget": b, "cost": p.cost, "fc_after": p.fc_after})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- one-month target
def variant_of(st: Stock, x: np.ndarray) -> dict[str, dict[int, float]]:
    """A state as a case variant's ``building_plan`` (category -> {level: fraction moved})."""
    plan: dict[str, dict[int, float]] = {}
    for c, cid in enumerate(st.ids):
        for k, lv in enumerate(st.levels):
            if lv != st.level0[c] and st.allowed[c, k] and x[c, k] > _TOL:
                plan.setdefault(cid, {})[lv] = float(x[c, k])
    return plan


def month_fc(
    case: CaseData, st: Stock, x: np.ndarray, scenarios: int = 100, seed: int = 0, days: int = 30
) -> np.ndarray:
    """F_C after ``days`` days of recovery in each scenario, with the buildings of state ``x``.

    Runs the recovery simulation (:func:`resiliopt.simulation.engine.run_scenario`, the same
    scenarios as ``resiliopt simulate`` with that seed) on the case with ``x`` as a variant.
    """
    from dataclasses import replace as dc_replace

    from resiliopt.schemas import Variant
    from resiliopt.simulation.engine import compiled_for, run_scenario
    from resiliopt.simulation.scenario import case_model

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
