"""Solving a Pyomo MILP and reporting its proof: incumbent, dual bound and gap.

:class:`PersistentMIP` keeps one solver interface per model. With HiGHS it is Pyomo's
persistent interface (``pyomo.contrib.solver`` ``highs``) told that only mutable parameters
change between solves (``auto_updates``: no new rows, variables or objective), so a re-solve
after :func:`~resiliopt.formulations.indp.set_damage` sends only the changed numbers. With
SCIP it is ``scip_direct`` (via pyscipopt), which rebuilds its model at each solve.

Solver options live here and nowhere else: models never carry solver keywords.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus

from resiliopt.errors import InputError
from resiliopt.solvers.status import status_of

#: default relative MIP gap: the published INDP costs span eight orders of magnitude
#: (penalties 1e6 per unit, flow costs ~1e2), so a tight gap keeps the small terms exact.
DEFAULT_REL_GAP = 1e-9


@dataclass
class MipResult:
    status: str  # "optimal", "time_limit" (with a feasible incumbent), "infeasible", ...
    objective: float | None  # incumbent
    bound: float | None  # dual bound
    gap: float | None  # relative gap |obj - bound| / max(1, |obj|)
    seconds: float
    solver: str

    @property
    def has_solution(self) -> bool:
        return self.objective is not None


class PersistentMIP:
    """One MILP solver interface for one model (build, modify parameters, solve again)."""

    def __init__(
        self,
        solver: str = "highs",
        rel_gap: float = DEFAULT_REL_GAP,
        time_limit: float | None = None,
        threads: int = 1,
        options: dict | None = None,
    ):
        if solver not in ("highs", "scip"):
            raise InputError(f"unknown MILP solver {solver!r} (use highs or scip)", location="--solver")
        self.solver = solver
        self.rel_gap = rel_gap
        self.time_limit = time_limit
        self.threads = threads
        self.options = dict(options or {})
        self._opt = SolverFactory("highs" if solver == "highs" else "scip_direct")
        if not self._opt.available():
            raise InputError(
                f"solver {solver} is not available (install pyscipopt for scip)", location="--solver"
            )
        self._model = None

    @property
    def version(self) -> str:
        return ".".join(str(v) for v in self._opt.version())

    def _set_instance(self, model) -> None:
        if self.solver == "highs":
            self._opt.set_instance(model)
            au = self._opt.config.auto_updates
            au.check_for_new_or_removed_constraints = False
            au.check_for_new_or_removed_vars = False
            au.check_for_new_or_removed_params = False
            au.check_for_new_objective = False
            au.update_constraints = False
            au.update_vars = False
            au.update_named_expressions = False
            au.update_objective = False
            au.update_parameters = True
        self._model = model

    def reset(self) -> None:
        """Forget the last solution and basis: the next solve starts cold, so its result
        depends on the model alone, not on what was solved before (reproducible Monte Carlo)."""
        h = getattr(self._opt, "_solver_model", None) if self.solver == "highs" else None
        if h is not None:
            h.clearSolver()

    def solve(self, model, start: list | None = None, options: dict | None = None) -> MipResult:
        """Solve ``model``; load the incumbent into its variables if there is one.

        ``start``: a MIP start, [(variable, value)] for some of the model's variables (HiGHS
        completes a partial start itself); ``options``: HiGHS options for this solve only."""
        if model is not self._model:
            self._set_instance(model)
        if start and self.solver == "highs":
            # the persistent interface keeps highspy's model and its columns' order; the changed
            # parameters are sent first (a change of the model afterwards drops the start)
            self._opt.update()
            h, col = self._opt._solver_model, self._opt._pyomo_var_to_solver_var_map
            idx = np.array([col[id(v)] for v, _ in start], dtype=np.int32)
            h.setSolution(len(idx), idx, np.array([x for _, x in start], dtype=float))
        kw = {
            "raise_exception_on_nonoptimal_result": False,
            "load_solutions": False,
            "rel_gap": self.rel_gap,
        }
        if self.time_limit is not None:
            kw["time_limit"] = self.time_limit
        if self.solver == "highs":
            kw["threads"] = self.threads
            kw["solver_options"] = {"output_flag": False, **self.options, **(options or {})}
        else:
            kw["solver_options"] = {"parallel/maxnthreads": self.threads, **self.options}
        t0 = time.perf_counter()
        try:
            res = self._opt.solve(model, **kw)
        except Exception as exc:  # noqa: BLE001 - e.g. SCIP's "error in LP solver!"
            if self.solver == "highs":
                raise
            return MipResult(f"error: {exc}", None, None, None, time.perf_counter() - t0, self.solver)
        seconds = time.perf_counter() - t0
        status = status_of(res.termination_condition)
        has = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
        if not has:
            return MipResult(status, None, None, None, seconds, self.solver)
        res.solution_loader.load_vars()
        obj = res.incumbent_objective
        if obj is None:
            obj = pyo.value(next(model.component_data_objects(pyo.Objective, active=True)))
        obj = float(obj)
        bound = res.objective_bound
        bound = float(bound) if bound is not None else None
        gap = abs(obj - bound) / max(1.0, abs(obj)) if bound is not None else None
        return MipResult(status, obj, bound, gap, seconds, self.solver)
