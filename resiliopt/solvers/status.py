"""Pyomo termination conditions as resiliopt's status words (one table for every solver)."""

from __future__ import annotations

from pyomo.contrib.solver.common.results import TerminationCondition

STATUS = {
    TerminationCondition.convergenceCriteriaSatisfied: "optimal",
    TerminationCondition.provenInfeasible: "infeasible",
    TerminationCondition.locallyInfeasible: "infeasible",
    TerminationCondition.unbounded: "unbounded",
    TerminationCondition.infeasibleOrUnbounded: "infeasible_or_unbounded",
    TerminationCondition.maxTimeLimit: "time_limit",
    TerminationCondition.iterationLimit: "iteration_limit",
}


def status_of(termination_condition) -> str:
    """``optimal``, ``infeasible``, ... or ``error`` for anything else."""
    return STATUS.get(termination_condition, "error")
