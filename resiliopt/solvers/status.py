"""Pyomo termination conditions as resiliopt's status words (one table for every solver)."""

from __future__ import annotations

import highspy


def status_of(termination_condition) -> str:
    """``optimal``, ``infeasible``, ... or ``error`` for anything else."""
    # Pyomo on use: the matrix path never loads it (0.3 s)
    from pyomo.contrib.solver.common.results import TerminationCondition as T

    table = {
        T.convergenceCriteriaSatisfied: "optimal",
        T.provenInfeasible: "infeasible",
        T.locallyInfeasible: "infeasible",
        T.unbounded: "unbounded",
        T.infeasibleOrUnbounded: "infeasible_or_unbounded",
        T.maxTimeLimit: "time_limit",
        T.iterationLimit: "iteration_limit",
    }
    return table.get(termination_condition, "error")


def highs_status(model_status) -> str:
    """The same words for a ``highspy.HighsModelStatus`` (the matrix path, no Pyomo)."""
    s = highspy.HighsModelStatus
    table = {
        s.kOptimal: "optimal",
        s.kInfeasible: "infeasible",
        s.kUnbounded: "unbounded",
        s.kUnboundedOrInfeasible: "infeasible_or_unbounded",
        s.kTimeLimit: "time_limit",
        s.kIterationLimit: "iteration_limit",
    }
    return table.get(model_status, "error")
