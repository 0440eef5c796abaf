"""Tests that kill mutants of the plan checks the suite let through (benchmarks/mutation.py,
docs/solvers.md "Mutation test"): each names the planted bug it catches."""

from __future__ import annotations

import pandas as pd
from test_infra_indp_toy import toy_case

from resiliopt.infra.plan_check import CHECKS
from resiliopt.infra.restoration import Restorer, check_plan

P2 = ("node", "power", "P2")  # the toy's water source W1 depends on P2


def test_check_fails_only_working_when_a_node_works_without_its_dependee():
    """Kills ``check-plan-no-dependencies``: a model without its dependency rows lets W1 supply
    water while P2, its dependee, is down (no resources to repair it); check_plan's working
    check applies the dependencies of the input and fails, and only it."""
    case = toy_case(v=0)
    damage = pd.DataFrame([P2], columns=["kind", "layer", "element"])
    assert check_plan(case, Restorer(case, 2).td(damage), damage=damage).ok
    r = Restorer(case, 2)
    r.model.del_component(r.model.dependency)  # the planted bug: no dependency rows
    plan = r.td(damage)
    w1 = plan.nodes[(plan.nodes["layer"] == "water") & (plan.nodes["node"] == "W1")]
    assert (w1["works"] > 0.5).all()  # the buggy plan runs W1 without P2
    chk = check_plan(case, plan, damage=damage)
    assert chk.failed() == {CHECKS["working"]}, chk.checks[~chk.checks.ok]
