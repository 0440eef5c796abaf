"""The proven global optimum with continuous fractions: the nonconvex QP of
:mod:`resiliopt.formulations.retrofit_qp` solved by SCIP, and the exact repair of its solution
(docs/retrofit.md 4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from resiliopt.errors import SolveError
from resiliopt.formulations.retrofit_qp import build_retrofit_qp, solution
from resiliopt.retrofit.greedy_rule import greedy, z_table
from resiliopt.retrofit.plan import Plan, check_inputs, plan_steps
from resiliopt.solvers.scip import PyomoScip
from resiliopt.stock import TOL, Stock


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
    r"""Project a solver's state onto the feasible set *exactly* (solvers hold rows to ~1e-9).

    Shares are clipped to [0, 1] on allowed levels and moved shares under 1e-9 dropped (a plan
    lists no smaller move); what is not moved stays at the as-built level (so each category
    sums to 1); if the cost still exceeds the budget, every move is scaled down by
    budget / cost (the cost is linear in the moved shares, 0 as built). With :math:`m_{cL}`
    the moved shares (:math:`L \ne L_c^0`):

    .. math::

        m_{c\cdot} \leftarrow \frac{m_{c\cdot}}{\max(1, \sum_L m_{cL})},\qquad
        m \leftarrow m \min\!\left(1, \frac{B}{\sum_{c,L} \kappa_{cL} m_{cL}}\right),\qquad
        x_{c L_c^0} = 1 - \sum_{L \ne L_c^0} m_{cL}.
    """
    n = len(st.ids)
    k0 = np.array([st.levels.index(int(lv)) for lv in st.level0])
    x = np.where(st.allowed, np.clip(np.nan_to_num(np.asarray(x, dtype=float)), 0.0, 1.0), 0.0)
    x[x <= TOL] = 0.0
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
    r"""The stationary point of F_C on the face of the solver's solution ``x``, or None.

    The face: the levels where ``x`` exceeds ``dust`` (solvers leave shares of ~1e-7 where the
    optimum has 0), each category summing to 1, the budget row if it binds. F_C is quadratic
    and the face affine, so one Newton (KKT) step from ``x`` lands on the stationary point,
    which for the global solution is the solution itself without the solver's ~1e-9
    tolerance. The caller keeps it only if it is feasible and better.

    On the face's shares :math:`\xi` (:math:`l = M\xi`, rows :math:`E\xi = e`),
    :math:`L_C = d^\top M\xi + \xi^\top M^\top A M \xi` with :math:`d` the diagonal of
    the DAM and :math:`A` its off-diagonal part; the step :math:`\delta` solves

    .. math::

        \begin{pmatrix} H & E^\top \\ E & 0 \end{pmatrix}
        \begin{pmatrix} \delta \\ \nu \end{pmatrix} =
        \begin{pmatrix} -(M^\top d + H\xi) \\ e - E\xi \end{pmatrix},
        \qquad H = 2 M^\top A M

    (least squares: the system may be singular).
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
    r"""With a target: the KKT point of min cost s.t. F_C = target on the face of ``x``, or None.

    Newton's method on the KKT conditions (the target row is quadratic), started from the
    solver's solution with least-squares multipliers; a few steps reach it to rounding. In the
    notation of :func:`_stationary`, with :math:`\kappa` the costs of the face's shares and
    :math:`g(\xi) = L_C(\xi) - (1 - F^*)`, it solves

    .. math::

        \kappa + E^\top \nu + \mu \nabla g(\xi) = 0,\qquad E\xi = e,\qquad g(\xi) = 0.
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
        z_start=z_table(st, x0),
        stock=st,
        info=info,
        objective="cost" if by_cost else "fc_after",
        optimum=optimum,
        bound=bound,
        gap=gap,
        status=status,
    )
