r"""The building stock of a case: categories over design levels, unsafe shares, retrofit cost.

Paper 004 sections 3.2 and 4.4, in the reading of MODEL_NOTES section 3 (docs/retrofit.md). The
retrofit methods (:mod:`resiliopt.retrofit`) and the cost of a case variant
(:func:`resiliopt.simulation.montecarlo.variant_cost`) both work on this model.

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
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from resiliopt import community as fc
from resiliopt import hazard
from resiliopt.case import CaseData
from resiliopt.errors import InputError
from resiliopt.schemas import SECTORS

#: a share of a category below this counts as none (a plan lists no smaller move)
TOL = 1e-9


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


def variant_of(st: Stock, x: np.ndarray) -> dict[str, dict[int, float]]:
    """A state as a case variant's ``building_plan`` (category -> {level: fraction moved})."""
    plan: dict[str, dict[int, float]] = {}
    for c, cid in enumerate(st.ids):
        for k, lv in enumerate(st.levels):
            if lv != st.level0[c] and st.allowed[c, k] and x[c, k] > TOL:
                plan.setdefault(cid, {})[lv] = float(x[c, k])
    return plan


def variant_building_cost(case: CaseData, variant: str) -> float:
    """Cost of a case variant's ``building_plan``, billion CNY (eq. 5, from as built)."""
    return stock(case).cost(plan_from_variant(case, variant))
