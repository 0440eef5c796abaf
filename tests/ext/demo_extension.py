"""An extension for the tests: at most 40 units per slice into the ring-2 nodes' groups."""

import pyomo.environ as pyo


def ring2_cap(model, data):
    ring2 = [j for j, v in zip(data.groups["group"], data.groups["node"], strict=True) if v.startswith("R2-")]
    model.ring2_groups = pyo.Constraint(expr=sum(model.delivery[j] for j in ring2) <= 40.0)
    model.user_meta["ring2_groups"] = {
        "description": "at most 40 units into ring-2 groups",
        "unit": "units/slice",
    }
