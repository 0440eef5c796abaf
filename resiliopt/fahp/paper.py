r"""Reproduction of the paper's Table 4 from its published inputs, with residuals.

The paper prints weights rounded to two decimals but computed its values with unrounded
weights, so a value recomputed from the printed weight differs from the printed value by

.. math:: |\Delta V| \le |w|\,|\Delta S| + 0.005\,|S| + 0.005,

(weight rounding :math:`\le 0.005` times the aggregate, plus the value's own print rounding),
where :math:`\Delta S` is the error of the aggregate we start from: 0.005 for a printed
aggregate or an average of exact scores, else the sum of the children's bounds. The table also
gives the *implied* weight :math:`V/S` of the printed numbers, which must round to the printed
weight if the printed value and aggregate are consistent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from resiliopt.fahp.assess import Assessment

PRINT = 0.005  # half a unit of the printed second decimal


def table4_reproduction(assessment: Assessment) -> pd.DataFrame:
    """One row per published Table 4 row of the case.

    Columns: ``level, id, name, published_aggregate, reproduced_aggregate,
    aggregate_residual, printed_children_sum, weight, implied_weight, published_value,
    reproduced_value, value_residual, value_bound, within_bound``. The reproduced aggregate
    comes from the case's level-6 scores through the chain of printed weights where the
    sub-tree is published; above it, the printed aggregate is the (only) input.
    """
    case = assessment.model.case
    if case.published is None or not case.published.table4:
        return pd.DataFrame()
    rows = case.published.table4
    tab = assessment.table.set_index("id")
    tree = assessment.model.tree
    bound: dict[str, float] = {}
    repro_value: dict[str, float] = {}
    out = []
    for r in sorted(rows, key=lambda r: -r.level):
        kids = [q for q in rows if q.id in tree.children.get(r.id, [])]
        if len(kids) < len(tree.children.get(r.id, [])):
            kids = []  # only part of the children is published
        if r.id in tab.index and np.isfinite(tab.at[r.id, "score"]):
            agg = float(tab.at[r.id, "score"])
            agg_b = PRINT if not kids else sum(bound[q.id] for q in kids)
        else:
            agg, agg_b = (r.aggregate if r.aggregate is not None else np.nan), PRINT
        if r.weight is not None and np.isfinite(agg):
            val = r.weight * agg
            b = r.weight * agg_b + PRINT * abs(agg) + PRINT
        else:
            val, b = np.nan, np.nan
        bound[r.id], repro_value[r.id] = b, val
        pv = r.value if r.value is not None else np.nan
        pa = r.aggregate if r.aggregate is not None else np.nan
        out.append(
            {
                "level": r.level,
                "id": r.id,
                "name": r.name,
                "published_aggregate": pa,
                "reproduced_aggregate": agg if r.id in tab.index else np.nan,
                "aggregate_residual": (agg - pa) if r.id in tab.index else np.nan,
                "printed_children_sum": sum(q.value for q in kids) if kids else np.nan,
                "weight": r.weight if r.weight is not None else np.nan,
                "implied_weight": pv / pa if r.weight is not None and pa != 0 else np.nan,
                "published_value": pv,
                "reproduced_value": val,
                "value_residual": val - pv,
                "value_bound": b,
                "within_bound": bool(abs(val - pv) <= b + 1e-9) if np.isfinite(val - pv) else None,
                "note": r.note,
            }
        )
    return pd.DataFrame(out).sort_values(["level", "id"], ascending=[False, True]).reset_index(drop=True)


def table5_check(first: Assessment, second: Assessment) -> pd.DataFrame:
    """Table 5 as printed in both cases, with the recomputed difference of the printed values.

    Columns: ``level, name, ids, <label1>, <label2>, printed_difference, difference,
    residual``; the residual is only print rounding (at most 0.01 in absolute value).
    """
    a, b = first.model.case, second.model.case
    if not (a.published and b.published and a.published.table5 and b.published.table5):
        return pd.DataFrame()
    rb = {(r.level, r.name): r for r in b.published.table5}
    out = []
    for r in a.published.table5:
        q = rb.get((r.level, r.name))
        if q is None:
            continue
        out.append(
            {
                "level": r.level,
                "name": r.name,
                "ids": " or ".join(r.ids),
                a.label: r.value,
                b.label: q.value,
                "printed_difference": r.difference,
                "difference": r.value - q.value,
                "residual": r.value - q.value - r.difference,
            }
        )
    return pd.DataFrame(out)
