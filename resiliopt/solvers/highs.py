"""Solving a Pyomo model with HiGHS and returning tidy tables.

Dual sign convention (docs/solvers.md): every dual is a *shadow price*,
``dual = d(objective) / d(right-hand side)``, in the objective's own sense. For the slice LP
(a maximization) a binding ``<=`` row has a dual >= 0: one more unit of TR is worth ``dual``
units of F_C. A reduced cost is ``c_j - A_j^T y``; in a maximization it is >= 0 at an upper
bound (what one more unit of that capacity is worth) and <= 0 at a lower bound. These are the
values Pyomo's HiGHS interface reports for a maximization; the test suite checks them against
finite differences.

:class:`PyomoHighs` keeps one persistent HiGHS interface per model, so re-solving after
:func:`~resiliopt.formulations.slice_lp.update_slice_model` only sends what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import highspy
import numpy as np
import pandas as pd

from resiliopt.solvers.certificate import Certificate, certify
from resiliopt.solvers.matrix import LinearProgram, to_matrix
from resiliopt.solvers.status import highs_status, status_of

if TYPE_CHECKING:  # Pyomo is imported by the Pyomo route only (solve_lp needs none)
    import pyomo.environ as pyo

#: HiGHS tolerances for the slice LP. HiGHS's defaults (1e-7 absolute) are loose for it: gains
#: are 1e-6..1e-4 F_C per unit, so a reduced cost inside the default dual tolerance can be a
#: sizeable part of a gain with the wrong sign, and the objective then misses the optimum by
#: up to that reduced cost times the units on its arc or group, which the certificates (1e-7
#: on the gap) rightly refuse. Used by resiliopt.logistics and by the fast path's re-solve.
SLICE_TOLERANCES = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-10}


def highs_version() -> str:
    h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def new_highs(lp: LinearProgram) -> highspy.Highs:
    """A silent single-threaded Highs holding ``lp`` (HiGHS minimizes; max -> negate cost)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    start, index, value = lp.csc()
    m, n = lp.shape
    inf = highspy.kHighsInf
    model = highspy.HighsLp()
    model.num_col_ = n
    model.num_row_ = m
    model.sense_ = highspy.ObjSense.kMaximize if lp.sense > 0 else highspy.ObjSense.kMinimize
    model.col_cost_ = lp.c
    model.col_lower_ = np.where(np.isinf(lp.col_lb), -inf, lp.col_lb)
    model.col_upper_ = np.where(np.isinf(lp.col_ub), inf, lp.col_ub)
    model.row_lower_ = np.where(np.isinf(lp.row_lb), -inf, lp.row_lb)
    model.row_upper_ = np.where(np.isinf(lp.row_ub), inf, lp.row_ub)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = start
    model.a_matrix_.index_ = index
    model.a_matrix_.value_ = value
    model.a_matrix_.num_col_ = n
    model.a_matrix_.num_row_ = m
    h.passModel(model)
    return h


def _index_str(index) -> str:
    if index is None:
        return ""
    if isinstance(index, tuple):
        return ",".join(str(i) for i in index)
    return str(index)


@dataclass
class Solution:
    """The outcome of a solve, as tidy tables (one row per variable or constraint entry)."""

    status: str
    objective: float | None
    solver: str
    solver_version: str
    primal: pd.DataFrame = field(default_factory=pd.DataFrame)
    duals: pd.DataFrame = field(default_factory=pd.DataFrame)
    reduced_costs: pd.DataFrame = field(default_factory=pd.DataFrame)
    certificate: Certificate | None = None
    lp: LinearProgram | None = None

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


class PyomoHighs:
    """A persistent HiGHS interface for one Pyomo model (build, modify, then solve)."""

    def __init__(self, time_limit: float | None = None, threads: int = 1, options: dict | None = None):
        # Pyomo on use: the matrix path never loads it (0.3 s)
        from pyomo.contrib.solver.common.factory import SolverFactory

        self._opt = SolverFactory("highs")
        self.time_limit = time_limit
        self.threads = threads
        self.options = dict(options or {})  # extra HiGHS options, e.g. {"mip_rel_gap": 1e-9}

    @property
    def version(self) -> str:
        return ".".join(str(v) for v in self._opt.version())

    def solve(self, model: pyo.ConcreteModel, certificate: bool = True) -> Solution:
        import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)

        kw = {
            "raise_exception_on_nonoptimal_result": False,
            "load_solutions": False,
            "solver_options": {"threads": self.threads, "output_flag": False, **self.options},
        }
        if self.time_limit is not None:
            kw["time_limit"] = self.time_limit
        res = self._opt.solve(model, **kw)
        status = status_of(res.termination_condition)
        if status != "optimal":
            return Solution(status, None, "highs", self.version)
        loader = res.solution_loader
        loader.load_vars()
        variables = list(model.component_data_objects(pyo.Var, active=True))
        objective = float(pyo.value(next(model.component_data_objects(pyo.Objective, active=True))))
        if any(v.is_integer() or v.is_binary() for v in variables):
            # a MILP has no duals: primal values only
            primal = pd.DataFrame(
                {
                    "variable": [v.parent_component().local_name for v in variables],
                    "index": [_index_str(v.index()) for v in variables],
                    "value": [pyo.value(v) for v in variables],
                }
            )
            return Solution(status, objective, "highs", self.version, primal)
        duals = loader.get_duals()
        rcs = loader.get_reduced_costs()
        lp = to_matrix(model)
        constraints = list(model.component_data_objects(pyo.Constraint, active=True))
        x = np.array([pyo.value(v) for v in variables], dtype=float)
        z = np.array([rcs.get(v, 0.0) for v in variables], dtype=float)
        y = np.array([duals.get(c, 0.0) for c in constraints], dtype=float)
        return lp_solution(lp, x, y, z, objective, self.version, getattr(model, "meta", {}), certificate)


def lp_solution(
    lp: LinearProgram,
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    objective: float,
    version: str,
    meta: dict | None = None,
    certificate: bool = True,
) -> Solution:
    """An optimal :class:`Solution` from the matrix form and HiGHS's vectors: tidy tables (one
    row per column / row of ``lp``) and the matrix certificate computed from ``lp``."""
    col_index = [_index_str(i) for i in lp.col_index]
    primal = pd.DataFrame(
        {"variable": lp.col_component, "index": col_index, "value": x, "lb": lp.col_lb, "ub": lp.col_ub}
    )
    ax = lp.matvec(x)
    dual_tab = pd.DataFrame(
        {
            "constraint": lp.row_component,
            "index": [_index_str(i) for i in lp.row_index],
            "value": y,
            "activity": ax,
            "lb": lp.row_lb,
            "ub": lp.row_ub,
            "slack": np.minimum(lp.row_ub - ax, ax - lp.row_lb),
        }
    )
    if meta:
        comp = pd.Series(lp.row_component)
        dual_tab["description"] = comp.map(lambda c: meta.get(c, {}).get("description", "")).to_numpy()
        dual_tab["unit"] = comp.map(lambda c: meta.get(c, {}).get("unit", "")).to_numpy()
    rc_tab = pd.DataFrame({"variable": lp.col_component, "index": col_index, "value": z})
    cert = certify(lp, x, y, z) if certificate else None
    return Solution("optimal", objective, "highs", version, primal, dual_tab, rc_tab, cert, lp)


#: ``method="auto"`` of :func:`solve_lp` cold-solves an LP with at least this many columns by
#: the interior-point method with crossover (a vertex, so duals and the certificate are those
#: of a basic solution); smaller ones by dual simplex. Measured on generated grid cities
#: (docs/roads.md): at 42,000 columns IPM + crossover takes 0.9 s against 2.5 s for dual
#: simplex; at 5,000 columns both take a few ms.
IPM_MIN_COLUMNS = 20_000


def solve_lp(
    lp: LinearProgram,
    meta: dict | None = None,
    options: dict | None = None,
    method: str = "auto",
    certificate: bool = True,
) -> Solution:
    """Solve the matrix form ``lp`` once with highspy (no Pyomo); tables as :class:`PyomoHighs`.

    ``method``: ``"simplex"``, ``"ipm"`` (interior point, then crossover to a vertex) or
    ``"auto"`` (IPM from :data:`IPM_MIN_COLUMNS` columns on). Should a crossover vertex fail
    the matrix certificate, the LP is solved again by simplex from that basis.
    """
    if method not in ("auto", "simplex", "ipm"):
        raise ValueError(f"method must be auto, simplex or ipm (got {method!r})")
    if method == "auto":
        method = "ipm" if lp.shape[1] >= IPM_MIN_COLUMNS else "simplex"
    h = new_highs(lp)
    for k, v in (options or {}).items():
        h.setOptionValue(k, v)
    h.setOptionValue("solver", "ipm" if method == "ipm" else "simplex")
    if method == "ipm":
        h.setOptionValue("run_crossover", "on")
    version = highs_version()

    def run() -> Solution:
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            return Solution(highs_status(status), None, "highs", version)
        sol = h.getSolution()
        return lp_solution(
            lp,
            np.asarray(sol.col_value, dtype=float),
            np.asarray(sol.row_dual, dtype=float),
            np.asarray(sol.col_dual, dtype=float),
            float(h.getInfo().objective_function_value) + lp.c0,
            version,
            meta,
            certificate,
        )

    out = run()
    if method == "ipm" and out.certificate is not None and not out.certificate.passed:
        h.setOptionValue("solver", "simplex")  # on from the crossover basis
        out = run()
    return out


def solve(model: pyo.ConcreteModel, time_limit: float | None = None) -> Solution:
    """Solve ``model`` once with HiGHS (see :class:`PyomoHighs` for repeated solves)."""
    return PyomoHighs(time_limit=time_limit).solve(model)
