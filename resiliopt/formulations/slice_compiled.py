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

User constraints (docs/constraints.md). The matrix is read from the *extended* Pyomo model
(``build_slice_model`` adds the case's declarative constraints and runs the extension hook),
so the fast path solves exactly the model a user sees. Between slices the right-hand sides
of the declarative rows are set from the same data (capacities, demands, TR and the day);
rows and columns an extension added are read again from the Pyomo model after its mutable
parameters (``cap``, ``demand``, ``gain``, ``TR``, ``day``, only those the extension uses)
are set, and every changed bound or coefficient is passed to HiGHS. The input certificate
checks the declarative rows from the input data (:mod:`~resiliopt.solvers.input_certificate`);
with an extension it does not apply, and each solve is checked by the matrix certificate
of the extended matrix instead (:attr:`CompiledSlice.certificate_kind` says which).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import highspy
import numpy as np
import pandas as pd

from resiliopt.errors import InputError, SolveError
from resiliopt.formulations.slice_lp import SliceData, _check_ids, build_slice_model
from resiliopt.solvers.certificate import Certificate, certify
from resiliopt.solvers.highs import IPM_MIN_COLUMNS, SLICE_TOLERANCES, new_highs
from resiliopt.solvers.input_certificate import InputCertificate, InputNetwork
from resiliopt.solvers.matrix import LinearProgram, to_matrix

if TYPE_CHECKING:
    import pyomo.environ as pyo  # noqa: F401 (imported where user rows are read)


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
        if data.constraints or data.extension is not None:
            # user rows (docs/constraints.md): the matrix of the extended Pyomo model
            model = build_slice_model(data)
            self.lp = to_matrix(model)
            self._user = _UserRows(model, self.lp, data)
        else:
            self.lp = slice_matrix(data)
            self._user = None
        self.certificate_kind = "input" if self._user is None or not self._user.extension else "matrix"
        comp = np.asarray(self.lp.col_component)
        self.flow_cols = np.flatnonzero(comp == "flow").astype(np.int32)
        self.delivery_cols = np.flatnonzero(comp == "delivery").astype(np.int32)
        rows = list(self.lp.row_component)
        self.tr_row = rows.index("total_resources")
        self._all_cols = np.r_[self.flow_cols, self.delivery_cols].astype(np.int32)
        self._lower = np.zeros(len(self._all_cols))
        self.h = new_highs(self.lp)
        # a cold solve of a city-size LP: interior point + crossover (IPM_MIN_COLUMNS); the
        # warm re-solves after it stay dual simplex from the previous basis
        self.cold_method = "ipm" if self.lp.shape[1] >= IPM_MIN_COLUMNS else "simplex"
        self._cold = True
        self._inf = highspy.kHighsInf  # the Pyomo model is not kept: the matrix is enough
        self.highs_seconds = 0.0  # wall time inside HiGHS calls (update, run, solution), for benchmarks
        self.solves = 0
        self.certify = certify
        self.last_certificate: InputCertificate | None = None
        self._checked: tuple | None = None  # (x, row duals, objective) of the solution checked last
        self._verdict: tuple | None = None  # (upper, gain, TR, input certificate) of that check
        self.rechecks_reused = 0  # rechecks answered by that verdict (data equal bit for bit)
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
        self._day = data.day
        #: send HiGHS only what changed between slices (False: every bound and cost, the
        #: path before issue 20; the solves and the tables are the same)
        self.incremental = True
        self._first = np.zeros(1, dtype=np.int64)
        # the column upper bounds (flows, deliveries), delivery costs and TR that HiGHS holds
        self._sent = (
            np.asarray(self.lp.col_ub, dtype=float)[self._all_cols].copy(),
            np.asarray(self.lp.c, dtype=float)[self.delivery_cols].copy(),
            float(self.lp.row_ub[self.tr_row]),
        )

    def reset(self) -> None:
        """Forget the basis (next solve is cold). Called at the start of every scenario, so a
        scenario's solutions depend on that scenario alone, never on what a worker solved
        before: with alternative optima a warm start could otherwise pick another vertex."""
        self.h.clearSolver()
        self._cold = True
        self._checked = None
        self._verdict = None

    def update(
        self, capacity: np.ndarray, demand: np.ndarray, gain: np.ndarray, total_resources: float, day: int = 0
    ):
        """Set arc capacities, group demands and gains (arrays in set order), TR and the day."""
        h = self.h
        upper = np.concatenate([capacity, demand])
        gain = np.asarray(gain, dtype=np.float64)
        t = time.perf_counter()
        if self.incremental:
            self._send_changes(upper, gain, float(total_resources))
        else:
            h.changeColsBounds(len(self._all_cols), self._all_cols, self._lower, upper)
            h.changeColsCost(len(self.delivery_cols), self.delivery_cols, gain)
            h.changeRowBounds(self.tr_row, -self._inf, float(total_resources))
            self._sent = (upper, gain.copy(), float(total_resources))
        self.highs_seconds += time.perf_counter() - t
        # what the input certificate checks against (input order = set order)
        self._upper, self._gain, self._tr = upper, np.asarray(gain, dtype=float), float(total_resources)
        self._day = day
        if self._user is not None:
            self._user.update(h, capacity, demand, self._gain, self._tr, day)
            lp = self.lp
            lp.col_ub[self._all_cols] = upper
            lp.c[self.delivery_cols] = self._gain
            lp.row_ub[self.tr_row] = self._tr

    def _send_changes(self, upper: np.ndarray, gain: np.ndarray, tr: float) -> None:
        """Pass HiGHS only the bounds and costs that differ from those it holds. Setting a
        bound or a cost to the value it already has changes nothing in HiGHS (its basis, its
        factorization and its pivoting stay the same), so the solves are those of sending
        every value each time; ``tests/test_lp_floor.py`` checks the tables bit for bit."""
        h = self.h
        held_upper, held_gain, held_tr = self._sent
        # each call is made as on the full path, with at least one column (the first, at the
        # value it has when nothing moved): HiGHS marks what a bound or cost change makes
        # stale whatever the count, so its next run starts from the same state
        moved = np.flatnonzero(upper != held_upper)
        if not moved.size and upper.size:
            moved = self._first
        h.changeColsBounds(moved.size, self._all_cols[moved], self._lower[moved], upper[moved])
        moved = np.flatnonzero(gain != held_gain)
        if not moved.size and gain.size:  # (a slice without groups has no cost to send)
            moved = self._first
        h.changeColsCost(moved.size, self.delivery_cols[moved], gain[moved])
        h.changeRowBounds(self.tr_row, -self._inf, tr)
        self._sent = (upper, gain.copy(), tr)  # a copy: a caller may refill its gain array

    def day_key(self, day: int) -> tuple:
        """What of the LP data depends on the day alone (user closures, an extension that reads
        ``model.day``): two slices with equal data and equal keys have the same LP."""
        return () if self._user is None else self._user.day_key(day)

    def open_capacity(self, capacity: np.ndarray, day: float) -> np.ndarray:
        """Arc capacities with the arcs a user closure closes on ``day`` at 0 (what can reach a
        group: the unreachable-demand split of the recovery tables)."""
        if self._user is None or not self._user.closures:
            return capacity
        out = np.array(capacity, dtype=float)
        for _, r, pos, _ in self._user.decl:
            if r.kind == "closure" and not r.is_open(day):
                out[pos] = 0.0
        return out

    def next_change(self, day: float) -> float:
        """The first day after ``day`` on which :meth:`day_key` may change (inf: never): an
        event for an engine that jumps over slices with equal data."""
        if self._user is None:
            return np.inf
        if self._user.uses_day:
            return day + 1
        ends = [d for r in self._user.closures for d in (r.from_day, r.until_day) if d > day]
        return float(min(ends, default=np.inf))

    def solve(self) -> tuple[float, np.ndarray, np.ndarray]:
        """Run HiGHS; returns (objective, arc flows, deliveries)."""
        h = self.h
        t = time.perf_counter()
        if self._cold and self.cold_method == "ipm":
            h.setOptionValue("solver", "ipm")
            h.run()
            h.setOptionValue("solver", "simplex")
        else:
            h.run()
        self._cold = False
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            msg = f"HiGHS returned {h.modelStatusToString(status)}"
            if self._user is not None and status == highspy.HighsModelStatus.kInfeasible:
                names = ", ".join(dict.fromkeys(r.name for _, r, _, _ in self._user.decl))
                msg += (
                    f": the user constraints ({names or 'of the extension'}) cannot all hold in this "
                    "slice (a min_delivery the damaged network cannot carry? docs/constraints.md)"
                )
            raise SolveError(msg, status="infeasible" if "Infeasible" in msg else "error")
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        # getObjectiveValue: the same number as getInfo().objective_function_value, without
        # building the whole info record (about 25 us a call)
        obj = h.getObjectiveValue() if self.incremental else h.getInfo().objective_function_value
        self.highs_seconds += time.perf_counter() - t
        self.solves += 1
        if self.certify:
            # the column duals are read only where the matrix certificate needs them (16 us)
            matrix = self.certificate_kind == "matrix" or not self.incremental
            z = np.asarray(sol.col_dual) if matrix else None
            cert = self.check(x, np.asarray(sol.row_dual), obj, z)
            ok = cert.passed
            if not ok:
                x, obj, cert = self._resolve_tight()
                ok = cert.passed
            self.last_certificate = cert
            if not ok:
                what = cert.summary() if hasattr(cert, "summary") else str(cert.to_dict())
                raise SolveError(
                    f"the {self.certificate_kind} certificate failed: {what}", status="unverified"
                )
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
        return x, obj, self.check(x, np.asarray(sol.row_dual), obj, np.asarray(sol.col_dual))

    def check(
        self, x: np.ndarray, row_dual: np.ndarray, objective: float, col_dual: np.ndarray | None = None
    ) -> InputCertificate | Certificate:
        """The input certificate of HiGHS's solution (columns ``x``, row duals) for the data
        of the last :meth:`update`. Potentials are ``-dual(node_balance)``; a node with no row
        gets none (NaN), which fails the check where an arc or group touches it. With an
        extension: the matrix certificate of the extended matrix (``col_dual`` needed).
        The solution checked last is kept for :meth:`recheck`."""
        self._checked = (x, row_dual, objective)
        if self.certificate_kind == "matrix":
            self._verdict = None
            return certify(self.lp, x, row_dual, col_dual)
        cert = self._input_check(x, row_dual, objective, self._upper, self._gain, self._tr, self._day)
        self._verdict = (self._upper.copy(), self._gain.copy(), self._tr, cert)  # the data as checked
        return cert

    def recheck(
        self, capacity: np.ndarray, demand: np.ndarray, gain: np.ndarray, total_resources: float, day: int = 0
    ) -> InputCertificate | None:
        """The input certificate of the solution checked last (the optimum of the last solve)
        against *other* slice data: is a reused optimum optimal for this slice too? Nothing
        in HiGHS changes. None when there is nothing to check (no solve yet, ``certify``
        off) or the input certificate does not apply (an extension)."""
        if self._checked is None or self.certificate_kind != "input":
            return None
        x, row_dual, objective = self._checked
        upper = np.concatenate([np.asarray(capacity, dtype=float), np.asarray(demand, dtype=float)])
        gain = np.asarray(gain, dtype=float)
        if self.incremental and self._user is None and self._verdict is not None:
            # the certificate is a function of the solution and (upper, gain, TR) alone when
            # there are no user rows (the day enters only through closures): on data equal bit
            # for bit to those it was checked against, its verdict is that verdict
            held_upper, held_gain, held_tr, cert = self._verdict
            same = float(total_resources) == held_tr and np.array_equal(upper, held_upper)
            if same and np.array_equal(gain, held_gain):
                self.rechecks_reused += 1
                return cert
        return self._input_check(
            x, row_dual, objective, upper, np.asarray(gain, dtype=float), float(total_resources), day
        )

    def _input_check(self, x, row_dual, objective, upper, gain, tr, day) -> InputCertificate:
        user = self._user.declared(row_dual) if self._user is not None else None

        def pick(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
            if idx.min(initial=0) >= 0:
                return values[idx]
            return np.append(values, np.nan)[idx]  # index -1 (not in the matrix) -> NaN

        return self.net.check_columns(
            upper,
            gain,
            tr,
            pick(x, self._u_cols),
            -pick(row_dual, self._p_rows),
            float(row_dual[self.tr_row]),
            objective=objective,
            user=user,
            day=day,
        )


class _UserRows:
    """Where the user rows and columns sit in the compiled LP, and how their data follow a slice.

    Declarative rows: their right-hand sides from the slice's arrays (the formulas of
    :mod:`~resiliopt.formulations.user_constraints`). Extension rows and columns: read again
    from the Pyomo model (kept for this) after setting the mutable parameters they use.
    """

    def __init__(self, model, lp: LinearProgram, data: SliceData):
        import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)
        from pyomo.core.expr.visitor import identify_mutable_parameters

        self.lp_ref = lp
        self.rows_spec = {r.name: r for r in data.constraints}
        arc_pos = {a: k for k, a in enumerate(data.arcs["arc"])}
        grp_pos = {g: k for k, g in enumerate(data.groups["group"])}
        self.decl = []  # (matrix row, UserRow, arc position or group positions)
        for k, (comp, idx) in enumerate(zip(lp.row_component, lp.row_index, strict=True)):
            r = self.rows_spec.get(comp)
            if r is None:
                continue
            if r.kind == "closure":
                self.decl.append((k, r, arc_pos[idx], idx))
            else:
                pos = np.array([grp_pos[g] for g in r.groups if g in grp_pos], dtype=np.int64)
                self.decl.append((k, r, pos, None))
        self.closures = tuple(dict.fromkeys(r for _, r, _, _ in self.decl if r.kind == "closure"))
        # the extension: its rows, its columns, and the model parameters they read
        names = set(getattr(model, "extension_components", ()))
        self.extension = bool(data.extension)
        self.model = model if self.extension else None
        cons = list(model.component_data_objects(pyo.Constraint, active=True))
        self.ext_rows = [(k, c) for k, c in enumerate(cons) if c.parent_component().local_name in names]
        variables = list(model.component_data_objects(pyo.Var, active=True, descend_into=True))
        self.ext_cols = [
            (k, v)
            for k, v in enumerate(variables)
            if v.parent_component().local_name not in ("flow", "delivery")
        ]
        col_of = {id(v): k for k, v in enumerate(variables)}
        self._col_of = col_of
        used = {}
        for _, c in self.ext_rows:
            for e in (c.body, c.lower, c.upper):
                if e is not None:
                    for p in identify_mutable_parameters(e):
                        used[id(p)] = p
        for _, v in self.ext_cols:
            for e in (v.lower, v.upper):
                if e is not None:
                    for p in identify_mutable_parameters(e):
                        used[id(p)] = p
        self.params = []  # (param data, which input, position)
        where = {}
        for name in ("cap", "demand", "gain"):
            comp = getattr(model, name)
            pos = arc_pos if name == "cap" else grp_pos
            for key in comp:
                where[id(comp[key])] = (name, pos[key])
        where[id(model.TR)] = ("TR", 0)
        where[id(model.day)] = ("day", 0)
        for pid, p in used.items():
            if pid in where:
                self.params.append((p, *where[pid]))
        self.uses_day = any(w == "day" for _, w, _ in self.params)
        self._coefs = {k: self._read_row(c)[0] for k, c in self.ext_rows}
        if self.extension:
            self._check_objective(model, lp)

    @staticmethod
    def _check_objective(model, lp: LinearProgram) -> None:
        import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)
        from pyomo.core.expr.visitor import identify_mutable_parameters

        obj = next(model.component_data_objects(pyo.Objective, active=True))
        gains = {id(model.gain[j]) for j in model.gain}
        other = [p for p in identify_mutable_parameters(obj.expr) if id(p) not in gains]
        comp = np.asarray(lp.col_component)
        flow, deliv = comp == "flow", comp == "delivery"
        base = np.array([pyo.value(model.gain[j]) for j in model.groups])
        if other or np.any(lp.c[flow] != 0) or not np.allclose(lp.c[deliv], base, rtol=0, atol=0):
            raise InputError(
                "the extension changes the objective's terms in flow or delivery (or makes them depend "
                "on other parameters); the fast path sets them from the gains every slice, so put "
                "further objective terms on variables of the extension's own, with constant coefficients",
                location="--extension",
            )

    def _read_row(self, c):
        import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)
        from pyomo.repn.standard_repn import generate_standard_repn

        rep = generate_standard_repn(c.body, compute_values=True)
        coefs: dict[int, float] = {}
        for v, a in zip(rep.linear_vars, rep.linear_coefs, strict=True):
            k = self._col_of[id(v)]
            coefs[k] = coefs.get(k, 0.0) + float(a)
        const = float(rep.constant)
        lb = -np.inf if c.lower is None else float(pyo.value(c.lower)) - const
        ub = np.inf if c.upper is None else float(pyo.value(c.upper)) - const
        return coefs, lb, ub

    def day_key(self, day: int) -> tuple:
        key = tuple(r.is_open(day) for r in self.closures)
        return (*key, day) if self.uses_day else key

    def update(self, h, capacity, demand, gain, tr, day) -> None:
        import pyomo.environ as pyo  # Pyomo on use: the matrix path never loads it (0.3 s)

        lp = self.lp_ref
        inf = highspy.kHighsInf
        for k, r, pos, _ in self.decl:
            if r.kind == "flow_cap":
                lb, ub = -np.inf, r.value
            elif r.kind == "tr_share":
                lb, ub = -np.inf, (1.0 - r.value) * tr
            elif r.kind == "min_delivery":
                lb, ub = min(r.value, float(demand[pos].sum())), np.inf
            else:
                lb, ub = -np.inf, float(capacity[pos]) * (1.0 if r.is_open(day) else 0.0)
            if lb != lp.row_lb[k] or ub != lp.row_ub[k]:
                h.changeRowBounds(k, -inf if np.isinf(lb) else lb, inf if np.isinf(ub) else ub)
                lp.row_lb[k], lp.row_ub[k] = lb, ub
        if not self.extension:
            return
        values = {"cap": capacity, "demand": demand, "gain": gain}
        for p, what, pos in self.params:
            p.set_value(
                float(tr) if what == "TR" else float(day) if what == "day" else float(values[what][pos])
            )
        changed_coef = False
        for k, c in self.ext_rows:
            coefs, lb, ub = self._read_row(c)
            old = self._coefs[k]
            if coefs != old:
                for col in set(coefs) | set(old):
                    h.changeCoeff(k, col, coefs.get(col, 0.0))
                self._coefs[k] = coefs
                changed_coef = True
            if lb != lp.row_lb[k] or ub != lp.row_ub[k]:
                h.changeRowBounds(k, -inf if np.isinf(lb) else lb, inf if np.isinf(ub) else ub)
                lp.row_lb[k], lp.row_ub[k] = lb, ub
        for k, v in self.ext_cols:
            lb = -np.inf if v.lower is None else float(pyo.value(v.lower))
            ub = np.inf if v.upper is None else float(pyo.value(v.upper))
            if lb != lp.col_lb[k] or ub != lp.col_ub[k]:
                h.changeColBounds(k, -inf if np.isinf(lb) else lb, inf if np.isinf(ub) else ub)
                lp.col_lb[k], lp.col_ub[k] = lb, ub
        if changed_coef:  # keep the triplets the matrix certificate reads in step
            keep = ~np.isin(lp.rows, [k for k, _ in self.ext_rows])
            r, cc, vv = [lp.rows[keep]], [lp.cols[keep]], [lp.vals[keep]]
            for k, coefs in self._coefs.items():
                r.append(np.full(len(coefs), k, dtype=np.int64))
                cc.append(np.fromiter(coefs, dtype=np.int64, count=len(coefs)))
                vv.append(np.fromiter(coefs.values(), dtype=float, count=len(coefs)))
            lp.rows, lp.cols, lp.vals = np.concatenate(r), np.concatenate(cc), np.concatenate(vv)

    def declared(self, row_dual: np.ndarray):
        """The declarative rows for the input certificate: (UserRow, index, dual) per matrix row."""
        return [(r, idx, float(row_dual[k])) for k, r, _, idx in self.decl]
