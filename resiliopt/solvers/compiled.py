r"""The fast path: the slice LP compiled once to matrix form and solved by one warm HiGHS.

The Pyomo model (:mod:`resiliopt.formulations.slice_lp`) is the readable specification. It is
built once for a network with *every* building group, then read into matrix form
(:func:`~resiliopt.solvers.matrix.to_matrix`) and handed to a ``highspy.Highs`` instance
(one thread, no output). Between slices only data changes: column bounds (arc capacities,
group demands), column costs (gains) and the bound of the ``total_resources`` row. HiGHS keeps
the previous optimal basis, so each slice is a warm start (dual simplex from the last basis).

The column order is that of the model: all ``flow`` columns (arcs in set order), then all
``delivery`` columns (groups in set order).
"""

from __future__ import annotations

import highspy
import numpy as np

from resiliopt.errors import SolveError
from resiliopt.formulations.slice_lp import SliceData, build_slice_model
from resiliopt.solvers.matrix import LinearProgram, to_matrix


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


class CompiledSlice:
    """A slice LP for a fixed network and group set, updated and re-solved in place."""

    def __init__(self, data: SliceData):
        model = build_slice_model(data)
        self.lp = to_matrix(model)
        comp = np.asarray(self.lp.col_component)
        self.flow_cols = np.flatnonzero(comp == "flow").astype(np.int32)
        self.delivery_cols = np.flatnonzero(comp == "delivery").astype(np.int32)
        rows = list(self.lp.row_component)
        self.tr_row = rows.index("total_resources")
        self._all_cols = np.r_[self.flow_cols, self.delivery_cols].astype(np.int32)
        self._lower = np.zeros(len(self._all_cols))
        self.h = new_highs(self.lp)
        self._inf = highspy.kHighsInf  # the Pyomo model is not kept: the matrix is enough

    def reset(self) -> None:
        """Forget the basis (next solve is cold). Called at the start of every scenario, so a
        scenario's solutions depend on that scenario alone, never on what a worker solved
        before: with alternative optima a warm start could otherwise pick another vertex."""
        self.h.clearSolver()

    def update(self, capacity: np.ndarray, demand: np.ndarray, gain: np.ndarray, total_resources: float):
        """Set arc capacities, group demands and gains (arrays in set order) and TR."""
        h = self.h
        upper = np.concatenate([capacity, demand])
        h.changeColsBounds(len(self._all_cols), self._all_cols, self._lower, upper)
        h.changeColsCost(len(self.delivery_cols), self.delivery_cols, np.asarray(gain, dtype=np.float64))
        h.changeRowBounds(self.tr_row, -self._inf, float(total_resources))

    def solve(self) -> tuple[float, np.ndarray, np.ndarray]:
        """Run HiGHS; returns (objective, arc flows, deliveries)."""
        h = self.h
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolveError(f"HiGHS returned {h.modelStatusToString(status)}", status="error")
        x = np.asarray(h.getSolution().col_value)
        return h.getInfo().objective_function_value, x[self.flow_cols], x[self.delivery_cols]
