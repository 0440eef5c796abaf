r"""The fast path: the slice LP compiled once to matrix form and solved by one warm HiGHS.

The Pyomo model (:mod:`resiliopt.formulations.slice_lp`) is the readable specification. It is
built once for a network with *every* building group, then read into matrix form
(:func:`~resiliopt.solvers.matrix.to_matrix`) and handed to a ``highspy.Highs`` instance
(one thread, no output). Between slices only data changes: column bounds (arc capacities,
group demands), column costs (gains) and the bound of the ``total_resources`` row. HiGHS keeps
the previous optimal basis, so each slice is a warm start (dual simplex from the last basis).

The column order is that of the model: all ``flow`` columns (arcs in set order), then all
``delivery`` columns (groups in set order).

:func:`slice_matrix` writes that matrix form straight from the slice tables with numpy (no
per-element Python), which matters for city-size networks; ``tests/test_city.py`` checks it
entry for entry against ``to_matrix(build_slice_model(data))``, the readable specification.

Every solve is checked by the input certificate
(:mod:`resiliopt.solvers.input_certificate`): its network is built once from the slice's
input tables (not from the matrix), and each solution (flows, deliveries, the row duals as
node potentials) is checked against the capacities, demands, gains and TR passed to
:meth:`CompiledSlice.update`. A slice that fails it is solved again once with tighter HiGHS
tolerances (the defaults stay in force otherwise, so the Monte Carlo's numbers do not
change); failing again raises :class:`~resiliopt.errors.SolveError`.
The check is vectorized numpy (``benchmarks/bench_input_certificate.py`` measures its cost);
``CompiledSlice(data, certify=False)`` turns it off.
"""

from __future__ import annotations

import time

import highspy
import numpy as np
import pandas as pd

from resiliopt.errors import SolveError
from resiliopt.formulations.slice_lp import SliceData, _check_ids
from resiliopt.solvers.highs import SLICE_TOLERANCES
from resiliopt.solvers.input_certificate import InputCertificate, InputNetwork
from resiliopt.solvers.matrix import LinearProgram


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


def slice_matrix(data: SliceData) -> LinearProgram:
    """The matrix form of :func:`~resiliopt.formulations.slice_lp.build_slice_model` (same rows,
    columns and coefficients, in the same order), built with numpy from the tables: a balance
    row for every road node an arc or a group touches (``data.nodes`` order), then the TR row."""
    _check_ids(data)
    arcs, groups = data.arcs, data.groups
    nodes = pd.Index(data.nodes)
    n_arc, n_grp = len(arcs), len(groups)
    arc_col = np.arange(n_arc)
    head = nodes.get_indexer(arcs["to"])
    tail = nodes.get_indexer(arcs["from"])
    at = nodes.get_indexer(groups["node"])
    touched = np.concatenate([head, tail, at])
    used = np.bincount(touched[touched >= 0], minlength=len(nodes)) > 0  # others: the empty row 0 = 0
    row_of = np.where(used, np.cumsum(used) - 1, -1)
    n_node = int(used.sum())
    src = np.flatnonzero(arcs["from"].to_numpy() == data.source)
    rows = np.concatenate([head, tail, at])
    rows = np.concatenate([np.where(rows >= 0, row_of[rows], -1), np.full(len(src), n_node)])
    cols = np.concatenate([arc_col, arc_col, n_arc + np.arange(n_grp), src])
    vals = np.concatenate([np.ones(n_arc), -np.ones(n_arc), -np.ones(n_grp), np.ones(len(src))])
    keep = rows >= 0  # an arc end that is the source or the sink has no balance row
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    n_col = n_arc + n_grp
    key, inv = np.unique(rows * n_col + cols, return_inverse=True)  # a self-loop sums to 0
    vals = np.bincount(inv.ravel(), weights=vals)
    nz = vals != 0
    rows, cols, vals = key[nz] // n_col, key[nz] % n_col, vals[nz]
    c = np.concatenate([np.zeros(n_arc), groups["gain"].to_numpy(dtype=float)])
    upper = np.concatenate([arcs["capacity"].to_numpy(dtype=float), groups["capacity"].to_numpy(dtype=float)])
    return LinearProgram(
        c=c,
        c0=0.0,
        sense=1,
        rows=rows.astype(np.int64),
        cols=cols.astype(np.int64),
        vals=vals.astype(float),
        row_lb=np.r_[np.zeros(n_node), -np.inf],
        row_ub=np.r_[np.zeros(n_node), float(data.total_resources)],
        col_lb=np.zeros(n_col),
        col_ub=upper,
        col_component=["flow"] * n_arc + ["delivery"] * n_grp,
        col_index=[*arcs["arc"], *groups["group"]],
        row_component=["node_balance"] * n_node + ["total_resources"],
        row_index=[*nodes[used], None],
    )


def _option(h: highspy.Highs, name: str):
    v = h.getOptionValue(name)
    return v[1] if isinstance(v, tuple) else v  # (status, value) in highspy >= 1.8


class CompiledSlice:
    """A slice LP for a fixed network and group set, updated and re-solved in place."""

    def __init__(self, data: SliceData, certify: bool = True):
        if data.meta.get("constraints") or data.meta.get("extension"):
            # the case's own rows (docs/user_constraints.md): the matrix of the extended Pyomo model
            from resiliopt.formulations.slice_lp import build_slice_model
            from resiliopt.formulations.user_constraints import extra_components
            from resiliopt.solvers.matrix import to_matrix

            model = build_slice_model(data)
            self.lp = to_matrix(model)
            self.extended = extra_components(model)
        else:
            self.lp = slice_matrix(data)
            self.extended = []
        comp = np.asarray(self.lp.col_component)
        self.flow_cols = np.flatnonzero(comp == "flow").astype(np.int32)
        self.delivery_cols = np.flatnonzero(comp == "delivery").astype(np.int32)
        rows = list(self.lp.row_component)
        self.tr_row = rows.index("total_resources")
        self._all_cols = np.r_[self.flow_cols, self.delivery_cols].astype(np.int32)
        self._lower = np.zeros(len(self._all_cols))
        self.h = new_highs(self.lp)
        self._inf = highspy.kHighsInf  # the Pyomo model is not kept: the matrix is enough
        self.highs_seconds = 0.0  # wall time inside HiGHS calls (update, run, solution), for benchmarks
        self.solves = 0
        # with the case's own rows the input tables no longer describe the LP: no input certificate
        self.certify = certify and not self.extended
        self.last_certificate: InputCertificate | None = None
        self.net = InputNetwork.from_slice(data)  # from the input tables, not the matrix
        # where each input arc / group / road node sits in HiGHS's solution (by id)
        col_of = {(c, str(i)): k for k, (c, i) in enumerate(zip(comp, self.lp.col_index, strict=True))}
        self._x_cols = np.array([col_of.get(("flow", a), -1) for a in self.net.arc_ids], dtype=np.int64)
        self._y_cols = np.array([col_of.get(("delivery", g), -1) for g in self.net.group_ids], dtype=np.int64)
        row_of = {
            str(i): k
            for k, (c, i) in enumerate(zip(rows, self.lp.row_index, strict=True))
            if c == "node_balance"
        }
        self._p_rows = np.array([row_of.get(v, -1) for v in self.net.road_nodes], dtype=np.int64)
        self._u_cols = np.r_[self._x_cols, self._y_cols]
        self._upper = np.concatenate(
            [data.arcs["capacity"].to_numpy(dtype=float), data.groups["capacity"].to_numpy(dtype=float)]
        )
        self._gain = data.groups["gain"].to_numpy(dtype=float)
        self._tr = float(data.total_resources)

    def reset(self) -> None:
        """Forget the basis (next solve is cold). Called at the start of every scenario, so a
        scenario's solutions depend on that scenario alone, never on what a worker solved
        before: with alternative optima a warm start could otherwise pick another vertex."""
        self.h.clearSolver()

    def update(self, capacity: np.ndarray, demand: np.ndarray, gain: np.ndarray, total_resources: float):
        """Set arc capacities, group demands and gains (arrays in set order) and TR."""
        h = self.h
        upper = np.concatenate([capacity, demand])
        gain = np.asarray(gain, dtype=np.float64)
        t = time.perf_counter()
        h.changeColsBounds(len(self._all_cols), self._all_cols, self._lower, upper)
        h.changeColsCost(len(self.delivery_cols), self.delivery_cols, gain)
        h.changeRowBounds(self.tr_row, -self._inf, float(total_resources))
        self.highs_seconds += time.perf_counter() - t
        # what the input certificate checks against (input order = set order)
        self._upper, self._gain, self._tr = upper, np.asarray(gain, dtype=float), float(total_resources)

    def solve(self) -> tuple[float, np.ndarray, np.ndarray]:
        """Run HiGHS; returns (objective, arc flows, deliveries)."""
        h = self.h
        t = time.perf_counter()
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolveError(f"HiGHS returned {h.modelStatusToString(status)}", status="error")
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        obj = h.getInfo().objective_function_value
        self.highs_seconds += time.perf_counter() - t
        self.solves += 1
        if self.certify:
            cert = self.check(x, np.asarray(sol.row_dual), obj)
            if not cert.passed:
                x, obj, cert = self._resolve_tight()
            self.last_certificate = cert
            if not cert.passed:
                raise SolveError(f"the input certificate failed: {cert.summary()}", status="unverified")
        return obj, x[self.flow_cols], x[self.delivery_cols]

    def _resolve_tight(self):
        """Solve again from the current basis with HiGHS's tolerances tightened
        (:data:`~resiliopt.solvers.highs.SLICE_TOLERANCES`), then restore the defaults: an
        optimum within HiGHS's default 1e-7 tolerances can miss by more than the certificate
        allows when gains are tiny."""
        h = self.h
        old = {k: _option(h, k) for k in SLICE_TOLERANCES}
        try:
            for k, v in SLICE_TOLERANCES.items():
                h.setOptionValue(k, v)
            h.run()
            status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                raise SolveError(f"HiGHS returned {h.modelStatusToString(status)}", status="error")
        finally:
            for k, v in old.items():
                h.setOptionValue(k, v)
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        obj = h.getInfo().objective_function_value
        return x, obj, self.check(x, np.asarray(sol.row_dual), obj)

    def check(self, x: np.ndarray, row_dual: np.ndarray, objective: float) -> InputCertificate:
        """The input certificate of HiGHS's solution (columns ``x``, row duals) for the data
        of the last :meth:`update`. Potentials are ``-dual(node_balance)``; a node with no row
        gets none (NaN), which fails the check where an arc or group touches it."""

        def pick(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
            if idx.min(initial=0) >= 0:
                return values[idx]
            return np.append(values, np.nan)[idx]  # index -1 (not in the matrix) -> NaN

        return self.net.check_columns(
            self._upper,
            self._gain,
            self._tr,
            pick(x, self._u_cols),
            -pick(row_dual, self._p_rows),
            float(row_dual[self.tr_row]),
            objective=objective,
        )
