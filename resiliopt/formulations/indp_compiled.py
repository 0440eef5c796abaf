r"""The (td-)INDP written straight into HiGHS's matrix, without Pyomo: the re-planner's model.

The same MILP as :func:`~resiliopt.formulations.indp.build_indp` (its docstring has the
math), row for row and term for term, for the options the emergency loop's planner uses: the
dependency rule ``all`` or ``any``, arcs per link (``arc_model="link"``), repair durations, no
tier-1 rows and no backup units (those take the Pyomo model). Rows and columns are those of
:func:`~resiliopt.solvers.matrix.to_matrix` on the Pyomo model, in the same order
(tests/test_indp_compiled.py compares the two matrices entry by entry); only the damage
:math:`\bar d` and the resources :math:`v_{rt}` change between solves, as row bounds:

.. math::

    \text{node\_state}_{it}:\ w_{it} - \textstyle\sum_{t' \le t - \tau_i + 1} \tilde w_{it'}
    \le 1 - \bar d_i, \qquad
    \text{node\_repair\_once}_i:\ \sum_t \tilde w_{it} \le \bar d_i, \qquad
    \text{resources}_{rt}:\ \dots \le v_{rt}

(links alike). Building it takes a few hundredths of a second where the Pyomo model and its
persistent solver take seconds (docs/emergency.md, "Speed").
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np

from resiliopt.formulations.indp import INDPData, INDPOptions
from resiliopt.formulations.indp_repairs import window
from resiliopt.solvers.highs import new_highs
from resiliopt.solvers.matrix import LinearProgram
from resiliopt.solvers.status import highs_status


def supported(options: INDPOptions) -> bool:
    """Whether :class:`CompiledINDP` writes the model of these options."""
    return (
        options.arc_model == "link"
        and options.tier1_min_share is None
        and not any(b.count > 0 and b.capacity > 0 for b in options.backups)
    )


@dataclass
class CompiledResult:
    """One solve: as :class:`~resiliopt.solvers.mip.MipResult`."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    solver: str = "highs"

    @property
    def has_solution(self) -> bool:
        return self.objective is not None


class _Builder:
    def __init__(self):
        self.rows, self.cols, self.vals = [], [], []
        self.lb, self.ub, self.comp, self.index = [], [], [], []

    def row(self, comp, index, terms, lb, ub) -> int:
        i = len(self.lb)
        for j, a in terms:
            self.rows.append(i)
            self.cols.append(j)
            self.vals.append(a)
        self.lb.append(lb)
        self.ub.append(ub)
        self.comp.append(comp)
        self.index.append(index)
        return i


def build_matrix(d: INDPData, periods: int, options: INDPOptions) -> tuple[LinearProgram, dict]:
    """The matrix form of the model with nothing damaged and the case's resources, and the
    positions: ``col[(name, index)]`` and ``row[(name, index)]``."""
    T = list(range(1, periods + 1))
    nt, lt = d.node_tab, d.link_tab
    b = {k: float(v) for k, v in nt["demand"].to_dict().items()}
    col: dict = {}
    c, clb, cub, ccomp, cidx, integer = [], [], [], [], [], []

    def var(name, index, lb, ub, cost=0.0, binary=False):
        col[name, index] = len(c)
        c.append(cost)
        clb.append(lb)
        cub.append(ub)
        ccomp.append(name)
        cidx.append(index)
        integer.append(binary)

    cap = {a: float(lt.at[a[:2], "capacity"]) for a in d.arcs}
    fc = {a: float(lt.at[a[:2], "flow_cost"]) for a in d.arcs}
    mplus = {k: float(v) for k, v in nt["oversupply_penalty"].to_dict().items()}
    mminus = {k: float(v) for k, v in nt["unmet_penalty"].to_dict().items()}
    q = {k: float(nt.at[k, "repair_cost"]) for k in d.nodes}
    f = {k: float(lt.at[k, "repair_cost"]) for k in d.links}
    p = {k: float(nt.at[k, "resource_use"]) for k in d.nodes}
    h = {k: float(lt.at[k, "resource_use"]) for k in d.links}
    tau_n = {k: d.repair_periods.get(("node", *k), 1) for k in d.nodes}
    tau_l = {k: d.repair_periods.get(("link", *k), 1) for k in d.links}
    spaces = sorted(d.spaces)
    # columns in the Pyomo model's declaration order: x, over, under, w, y, wr, yr, z
    for a in d.arcs:
        for t in T:
            var("x", (*a, t), 0.0, np.inf, fc[a])
    for k in d.nodes:
        for t in T:
            var("over", (*k, t), 0.0, max(b[k], 0.0), mplus[k])
    for k in d.nodes:
        for t in T:
            var("under", (*k, t), 0.0, max(-b[k], 0.0), mminus[k])
    for k in d.nodes:
        for t in T:
            var("w", (*k, t), 0.0, 1.0, 0.0, True)
    for k in d.links:
        for t in T:
            var("y", (*k, t), 0.0, 1.0, 0.0, True)
    for k in d.nodes:
        for t in T:
            var("wr", (*k, t), 0.0, 0.0 if t > periods - tau_n[k] + 1 else 1.0, q[k], True)
    for k in d.links:
        for t in T:
            var("yr", (*k, t), 0.0, 0.0 if t > periods - tau_l[k] + 1 else 1.0, f[k], True)
    for s in spaces:
        for t in T:
            var("z", (s, t), 0.0, 1.0, d.spaces[s], True)

    out_arcs = {n: [] for n in d.nodes}
    in_arcs = {n: [] for n in d.nodes}
    for a in d.arcs:
        o, e = d.arc_ends[a]
        out_arcs[o].append(a)
        in_arcs[e].append(a)
    B = _Builder()
    row: dict = {}
    X = {(*a, t): col["x", (*a, t)] for a in d.arcs for t in T}
    for k in d.nodes:
        for t in T:
            terms = [(X[(*a, t)], 1.0) for a in out_arcs[k]] + [(X[(*a, t)], -1.0) for a in in_arcs[k]]
            terms += [(col["over", (*k, t)], 1.0), (col["under", (*k, t)], -1.0)]
            row["balance", (*k, t)] = B.row("balance", (*k, t), terms, b[k], b[k])
    for name, end in (("cap_link", None), ("cap_from", 0), ("cap_to", 1)):
        for a in d.arcs:
            for t in T:
                other = col["y", (*a[:2], t)] if end is None else col["w", (*d.arc_ends[a][end], t)]
                B.row(name, (*a, t), [(X[(*a, t)], 1.0), (other, -cap[a])], -np.inf, 0.0)
    for name, keys, tau, v, r in (
        ("node_state", d.nodes, tau_n, "w", "wr"),
        ("link_state", d.links, tau_l, "y", "yr"),
    ):
        for k in keys:
            for t in T:
                terms = [(col[v, (*k, t)], 1.0)] + [(col[r, (*k, s)], -1.0) for s in T if s <= t - tau[k] + 1]
                row[name, (*k, t)] = B.row(name, (*k, t), terms, -np.inf, 1.0)
    for name, keys, r in (("node_repair_once", d.nodes, "wr"), ("link_repair_once", d.links, "yr")):
        for k in keys:
            row[name, k] = B.row(name, k, [(col[r, (*k, t)], 1.0) for t in T], -np.inf, 0.0)
    for res in sorted(d.resources):
        for t in T:
            terms = [(col["wr", (*k, s)], p[k]) for k in d.nodes if p[k] for s in window(t, tau_n[k])]
            terms += [(col["yr", (*k, s)], h[k]) for k in d.links if h[k] for s in window(t, tau_l[k])]
            row["resources", (res, t)] = B.row("resources", (res, t), terms, -np.inf, d.resources[res])
    if options.dependency_rule == "any":
        for g in sorted(d.deps):
            for t in T:
                terms = [(col["w", (g[0], g[1], t)], 1.0)] + [
                    (col["w", (*i, t)], -gam) for i, gam in d.deps[g]
                ]
                B.row("dependency", (*g, t), terms, -np.inf, 0.0)
    else:
        pairs = sorted({(der[0], der[1], i[0], i[1]) for der, lst in d.deps.items() for i, _ in lst})
        for pr in pairs:
            for t in T:
                terms = [(col["w", (pr[0], pr[1], t)], 1.0), (col["w", (pr[2], pr[3], t)], -1.0)]
                B.row("dependency", (*pr, t), terms, -np.inf, 0.0)
    for name, pairs, tau, r in (
        ("space_node", d.node_spaces, tau_n, "wr"),
        ("space_link", d.link_spaces, tau_l, "yr"),
    ):
        for k, sp in pairs:
            for t in T:
                terms = [(col[r, (*k, s)], 1.0) for s in window(t, tau[k])] + [(col["z", (sp, t)], -1.0)]
                B.row(name, (*k, sp, t), terms, -np.inf, 0.0)
    lp = LinearProgram(
        c=np.asarray(c, float),
        c0=0.0,
        sense=-1,
        rows=np.asarray(B.rows, np.int64),
        cols=np.asarray(B.cols, np.int64),
        vals=np.asarray(B.vals, float),
        row_lb=np.asarray(B.lb, float),
        row_ub=np.asarray(B.ub, float),
        col_lb=np.asarray(clb, float),
        col_ub=np.asarray(cub, float),
        col_component=ccomp,
        col_index=cidx,
        row_component=B.comp,
        row_index=B.index,
    )
    return lp, {"col": col, "row": row, "integer": np.asarray(integer, bool)}


def feasible_starts(starts, damaged: set, data, free: dict, T: int) -> dict:
    """The planned repair starts ``starts`` ((kind, layer, element, period) rows, earliest
    first) that are feasible now, as ``{(kind, layer, element): period}``: the element damaged,
    one start each, the repair ending within the horizon ``T`` and the resources ``free``
    (``{period: units}``, updated here) covering its use in every period of its window. The
    MIP start of both the compiled and the Pyomo td-INDP."""
    chosen = {}
    for kind, la, el, t in sorted(starts, key=lambda r: (int(r[3]), r[:3])):
        key, t = (kind, la, el), int(t)
        if key not in damaged or key in chosen or t < 1:
            continue
        tau = data.repair_periods[key]
        tab = data.node_tab if kind == "node" else data.link_tab
        use = float(tab.at[(la, el), "resource_use"])
        span = range(t, t + tau)
        if t + tau - 1 > T or any(free[s] < use - 1e-9 for s in span):
            continue
        for s in span:
            free[s] -= use
        chosen[key] = t
    return chosen


class CompiledINDP:
    """The model in one highspy instance: :meth:`set_damage`, :meth:`set_resources`, then
    :meth:`solve` (optionally from a MIP start) and :meth:`repairs`."""

    def __init__(
        self,
        data: INDPData,
        periods: int,
        options: INDPOptions,
        rel_gap: float = 1e-9,
        time_limit: float | None = None,
    ):
        if not supported(options):
            raise ValueError("the compiled INDP writes no tier-1 rows, backup units or arc pairs")
        self.data, self.periods, self.options = data, periods, options
        self.rel_gap, self.time_limit = rel_gap, time_limit
        self.lp, pos = build_matrix(data, periods, options)
        self.col, self.row = pos["col"], pos["row"]
        self.h = new_highs(self.lp)
        integer = np.flatnonzero(pos["integer"]).astype(np.int32)
        self.h.changeColsIntegrality(
            len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger)
        )
        T = range(1, periods + 1)
        self._wr = {k: np.array([self.col["wr", (*k, t)] for t in T]) for k in data.nodes}
        self._yr = {k: np.array([self.col["yr", (*k, t)] for t in T]) for k in data.links}
        self.damaged: set[tuple] = set()
        self.x: np.ndarray | None = None

    def _set_row_ub(self, idx: list[int], ub: list[float]) -> None:
        if idx:
            i = np.asarray(idx, np.int32)
            self.h.changeRowsBounds(len(i), i, self.lp.row_lb[i], np.asarray(ub, float))

    def set_damage(self, nodes=(), links=()) -> None:
        """Exactly these (layer, element) keys are damaged (the rows' bounds); a link counts
        as its units (:func:`~resiliopt.formulations.indp.set_damage`)."""
        units = self.data.extra.get("link_units", {})
        new = set()
        for k in nodes:
            k = tuple(map(str, k))
            if k not in self._wr:
                raise KeyError(f"unknown node {k[1]!r} of layer {k[0]!r}")
            new.add(("node", *k))
        for k in links:
            k = tuple(map(str, k))
            if k not in units:
                raise KeyError(f"unknown link {k[1]!r} of layer {k[0]!r}")
            new.update(("link", *u) for u in units[k])
        changed = self.damaged ^ new
        idx, ub = [], []
        for kind, la, el in changed:
            dmg = 1.0 if (kind, la, el) in new else 0.0
            state, once = (
                ("node_state", "node_repair_once") if kind == "node" else ("link_state", "link_repair_once")
            )
            for t in range(1, self.periods + 1):
                idx.append(self.row[state, (la, el, t)])
                ub.append(1.0 - dmg)
            idx.append(self.row[once, (la, el)])
            ub.append(dmg)
        self._set_row_ub(idx, ub)
        self.damaged = new

    def set_resources(self, per_period: dict) -> None:
        """``{resource: [v_1, ..., v_T]}`` (resources not named keep theirs)."""
        idx, ub = [], []
        for r, vals in per_period.items():
            for t, v in zip(range(1, self.periods + 1), vals, strict=True):
                idx.append(self.row["resources", (r, t)])
                ub.append(float(v))
        self._set_row_ub(idx, ub)

    def start_from(self, starts) -> tuple[np.ndarray, np.ndarray]:
        """A partial MIP start (columns, values) as
        :meth:`~resiliopt.infra.restoration.Restorer.start_from`: the start variables of every
        damaged element, its feasible planned start 1, the rest 0."""
        T = self.periods
        ub = self.lp.row_ub
        free = {
            t: min(float(ub[self.row["resources", (r, t)]]) for r in self.data.resources)
            for t in range(1, T + 1)
        }
        chosen = feasible_starts(starts, self.damaged, self.data, free, T)
        cols, vals = [], []
        for kind, la, el in sorted(self.damaged):
            js = self._wr[la, el] if kind == "node" else self._yr[la, el]
            t0 = chosen.get((kind, la, el))
            cols += js.tolist()
            vals += [1.0 if t == t0 else 0.0 for t in range(1, T + 1)]
        return np.asarray(cols, np.int32), np.asarray(vals, float)

    def reset(self) -> None:
        """Forget the last solution: the next solve starts cold."""
        self.h.clearSolver()

    def solve(self, start=None, options: dict | None = None) -> CompiledResult:
        h = self.h
        h.setOptionValue("mip_rel_gap", self.rel_gap)
        if self.time_limit is not None:
            h.setOptionValue("time_limit", float(self.time_limit))
        for k, v in (options or {}).items():
            h.setOptionValue(k, v)
        if start is not None and len(start[0]):
            h.setSolution(len(start[0]), start[0], start[1])
        t0 = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - t0
        status = highs_status(h.getModelStatus())
        info = h.getInfo()
        if info.primal_solution_status == 0:  # no feasible point
            self.x = None
            return CompiledResult(status, None, None, None, seconds)
        self.x = np.asarray(h.getSolution().col_value, float)
        obj = float(info.objective_function_value)
        bound = float(info.mip_dual_bound)
        gap = abs(obj - bound) / max(1.0, abs(obj))
        return CompiledResult(status, obj, bound, gap, seconds)

    def repairs(self) -> list[tuple[str, str, str, int]]:
        """The repairs the last solve starts: (kind, layer, element, start period)."""
        out = []
        for kind, cols in (("node", self._wr), ("link", self._yr)):
            for k, js in cols.items():
                for t, j in enumerate(js, start=1):
                    if self.x[j] > 0.5:
                        out.append((kind, k[0], k[1], t))
        return out
