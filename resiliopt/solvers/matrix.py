r"""The matrix form of a linear Pyomo model, read from the model itself.

.. math::

    \text{opt}\; c^\top x + c_0 \quad \text{s.t.}\quad r^L \le A x \le r^U,\quad
    x^L \le x \le x^U

Rows are the active constraints in declaration order, columns the variables in declaration
order. This is what the certificate checks a solution against (never the solver's own view),
and what the fast path (:mod:`resiliopt.formulations.slice_compiled`) hands to HiGHS once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from resiliopt.errors import ResilioptError

if TYPE_CHECKING:  # Pyomo is imported where a Pyomo model is read (the matrix path needs none)
    import pyomo.environ as pyo


@dataclass
class LinearProgram:
    """Sparse (triplet) matrix form of an LP; ``sense`` is +1 for max, -1 for min."""

    c: np.ndarray
    c0: float
    sense: int
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    row_lb: np.ndarray
    row_ub: np.ndarray
    col_lb: np.ndarray
    col_ub: np.ndarray
    col_component: list[str]
    col_index: list[object]
    row_component: list[str]
    row_index: list[object]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_lb), len(self.col_lb)

    def dense(self) -> np.ndarray:
        a = np.zeros(self.shape)
        np.add.at(a, (self.rows, self.cols), self.vals)
        return a

    def matvec(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape[0])
        np.add.at(out, self.rows, self.vals * x[self.cols])
        return out

    def rmatvec(self, y: np.ndarray) -> np.ndarray:
        out = np.zeros(self.shape[1])
        np.add.at(out, self.cols, self.vals * y[self.rows])
        return out

    def csc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Column-compressed (start, index, value) arrays, as HiGHS takes them."""
        order = np.lexsort((self.rows, self.cols))
        cols, rows, vals = self.cols[order], self.rows[order], self.vals[order]
        start = np.searchsorted(cols, np.arange(self.shape[1] + 1)).astype(np.int32)
        return start, rows.astype(np.int32), vals.astype(np.float64)


def _bound(v) -> float:
    import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)

    return float(pyo.value(v)) if v is not None else np.inf


def to_matrix(model: pyo.ConcreteModel) -> LinearProgram:
    """Read the matrix form of a linear model (values of mutable parameters as they are now)."""
    import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)
    from pyomo.repn.standard_repn import generate_standard_repn

    variables = list(model.component_data_objects(pyo.Var, active=True, descend_into=True))
    col_of = {id(v): k for k, v in enumerate(variables)}
    objectives = list(model.component_data_objects(pyo.Objective, active=True))
    if len(objectives) != 1:
        raise ResilioptError(f"expected one active objective, found {len(objectives)}")
    obj = objectives[0]
    rep = generate_standard_repn(obj.expr, compute_values=True)
    c0 = float(rep.constant)
    if rep.nonlinear_expr is not None or rep.quadratic_vars:
        raise ResilioptError("the objective is not linear")
    c = np.zeros(len(variables))
    for v, coef in zip(rep.linear_vars, rep.linear_coefs, strict=True):
        c[col_of[id(v)]] += coef
    rows, cols, vals, rlb, rub, rcomp, ridx = [], [], [], [], [], [], []
    for k, con in enumerate(model.component_data_objects(pyo.Constraint, active=True)):
        rep = generate_standard_repn(con.body, compute_values=True)
        if rep.nonlinear_expr is not None or rep.quadratic_vars:
            raise ResilioptError(f"constraint {con.name} is not linear")
        for v, coef in zip(rep.linear_vars, rep.linear_coefs, strict=True):
            rows.append(k)
            cols.append(col_of[id(v)])
            vals.append(coef)
        const = float(rep.constant)
        lb = -np.inf if con.lower is None else float(pyo.value(con.lower)) - const
        ub = np.inf if con.upper is None else float(pyo.value(con.upper)) - const
        rlb.append(lb)
        rub.append(ub)
        rcomp.append(con.parent_component().local_name)
        ridx.append(con.index())
    return LinearProgram(
        c=c,
        c0=c0,
        sense=1 if obj.sense == pyo.maximize else -1,
        rows=np.asarray(rows, dtype=np.int64),
        cols=np.asarray(cols, dtype=np.int64),
        vals=np.asarray(vals, dtype=float),
        row_lb=np.asarray(rlb, dtype=float),
        row_ub=np.asarray(rub, dtype=float),
        col_lb=np.asarray([-np.inf if v.lower is None else _bound(v.lower) for v in variables]),
        col_ub=np.asarray([_bound(v.upper) for v in variables]),
        col_component=[v.parent_component().local_name for v in variables],
        col_index=[v.index() for v in variables],
        row_component=rcomp,
        row_index=ridx,
    )
