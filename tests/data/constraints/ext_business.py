"""An example extension (tests/test_constraints.py, docs/constraints.md)."""

import pyomo.environ as pyo


def business_cap(m, data):
    """Business groups receive at most 2 % of TR (written with m.TR, so it follows every slice)."""
    biz = [j for j, s in zip(data.groups["group"], data.groups["sector"], strict=True) if s == "business"]
    m.business_cap = pyo.Constraint(expr=sum(m.delivery[j] for j in biz) <= 0.02 * m.TR)
    m.meta["business_cap"] = {"description": "business groups get at most 2 % of TR", "unit": "units/slice"}


def broken(m, data):
    raise RuntimeError("boom")


def gain_cap(m, data):
    """F_C gained per slice at most 4e-4: coefficients are the mutable gains (they change)."""
    m.gain_cap = pyo.Constraint(expr=sum(m.gain[j] * m.delivery[j] for j in m.groups) <= 4e-4)
