r"""Cost efficiency Z and the paper's greedy rule (paper 004 3.3; docs/retrofit.md 2-3).

The stock, unsafe shares and cost: :mod:`resiliopt.stock`.

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

import math

import numpy as np
import pandas as pd

from resiliopt import hazard
from resiliopt.retrofit.plan import PLAN_COLUMNS, Plan, check_inputs
from resiliopt.schemas import SECTORS
from resiliopt.stock import TOL, Stock


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
            if not st.allowed[c, k0] or x[c, k0] <= TOL:
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


def z_table(st: Stock, x: np.ndarray) -> pd.DataFrame:
    """:func:`candidates` at state ``x`` without its helper columns (a plan's ``z_start``)."""
    return _public(candidates(st, x))


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
    z0 = z_table(st, x)
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
        cand = cand[(cand["_afford"] > TOL) & (cand["_gain"] > 0)]
        if cand.empty:
            break
        best = cand.loc[cand["z"].idxmax()]
        frac = float(best["_afford"])
        if target_fc is not None:
            need = (target_fc - f_now) / float(best["_gain"])
            frac = min(frac, max(_ceil_grid(need, step), 0.0))
            if step is not None and frac > best["_afford"] + TOL:
                frac = float(best["_afford"])
        c, k0, k1 = int(best["_c"]), int(best["_k0"]), int(best["_k1"])
        cost = frac * float(best["_cost"])
        x[c, k0] -= frac
        x[c, k1] += frac
        if abs(x[c, k0]) < TOL:
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
