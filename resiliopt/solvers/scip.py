"""Solving a Pyomo model globally with SCIP (through ``pyscipopt`` and Pyomo's ``scip_direct``).

SCIP solves nonconvex quadratic programs (and MIQCPs) to *global* optimality by spatial branch
and bound: besides the best plan found (the incumbent) it proves a dual bound, a value no
feasible point beats. At optimality the two agree up to the gap limit. :class:`PyomoScip`
returns both and the gap, so a caller can state what is proven.

Every SCIP-specific setting lives here, not in the model builders (docs/retrofit.md, section 4):

* ``limits/gap = 0`` and ``limits/absgap = 0``: SCIP stops only when incumbent and dual bound
  agree to its numerical tolerance (its default too; set explicitly so it is visible);
* ``numerics/feastol = 1e-9`` (SCIP's default 1e-6): rows, including the auxiliary objective
  row ``t >= f(x)`` that Pyomo's interface writes for a nonlinear objective, hold to 1e-9, so
  the objective SCIP reports and the objective recomputed from the variables differ by about
  1e-9 rather than 1e-6;
* ``lp/threads``: the number of threads (1 by default; CI runs on 2 shared cores).

Pyomo's interface maps SCIP's status ``gaplimit`` to "optimal"; with a gap limit of 0 it means
the same as ``optimal``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resiliopt.errors import SolveError
from resiliopt.solvers.status import status_of

if TYPE_CHECKING:  # imported where SCIP is called: importing this module needs no Pyomo
    import pyomo.environ as pyo

#: SCIP parameters used unless overridden (see the module docstring).
DEFAULT_OPTIONS = {"limits/gap": 0.0, "limits/absgap": 0.0, "numerics/feastol": 1e-9}


@dataclass
class ScipResult:
    """Outcome of a SCIP solve, in the model's own objective sense.

    ``objective``: SCIP's incumbent value (``None`` without a solution); ``bound``: the proven
    dual bound (a lower bound for a minimization, an upper bound for a maximization; ``None``
    when SCIP proved nothing); ``gap``: ``|objective - bound|`` (0 at optimality, ``None`` when
    either is missing); ``nodes``: branch-and-bound nodes; ``seconds``: wall time of the call.
    Variable values are loaded into the model when a solution exists.
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    nodes: int
    seconds: float
    solver: str
    solver_version: str

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


def _scip_direct():
    """Pyomo's ``scip_direct`` interface (a new instance)."""
    # Pyomo: about 0.4 s of start-up, paid at the first SCIP solve; pyomo.environ registers
    # scip_direct with the factory, so it is imported first
    import pyomo.environ  # noqa: F401
    from pyomo.contrib.solver.common.factory import SolverFactory

    return SolverFactory("scip_direct")


def available() -> bool:
    """Whether ``pyscipopt`` is installed and recent enough for Pyomo's interface."""
    return bool(_scip_direct().available())


class PyomoScip:
    """SCIP for a Pyomo model: global optimum, dual bound and gap."""

    def __init__(self, time_limit: float | None = None, threads: int = 1, options: dict | None = None):
        self._opt = _scip_direct()
        self.time_limit = time_limit
        self.threads = threads
        self.options = {**DEFAULT_OPTIONS, **(options or {})}

    @property
    def version(self) -> str:
        return ".".join(str(v) for v in self._opt.version())

    def solve(self, model: pyo.ConcreteModel) -> ScipResult:
        if not self._opt.available():
            raise SolveError("SCIP is not available: install the 'pyscipopt' package", status="error")
        kw = {
            "raise_exception_on_nonoptimal_result": False,
            "load_solutions": False,
            "threads": self.threads,
            "solver_options": dict(self.options),
        }
        if self.time_limit is not None:
            kw["time_limit"] = self.time_limit
        t0 = time.perf_counter()
        res = self._opt.solve(model, **kw)
        seconds = time.perf_counter() - t0
        status = status_of(res.termination_condition)
        loader = res.solution_loader
        if loader.get_number_of_solutions() > 0:
            loader.load_vars()
        objective = res.incumbent_objective
        bound = res.objective_bound
        if bound is not None and not math.isfinite(bound):
            bound = None
        gap = abs(objective - bound) if objective is not None and bound is not None else None
        nodes = res.extra_info["NNodes"] if "NNodes" in res.extra_info else 0
        nodes = int(nodes) if isinstance(nodes, int | float) else 0
        return ScipResult(status, objective, bound, gap, nodes, seconds, "scip", self.version)
