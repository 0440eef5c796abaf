r"""An optimality certificate checked against the slice's *input tables*, not against a model.

The matrix certificate (:mod:`resiliopt.solvers.certificate`) checks a solution against the
matrix read from the Pyomo model: it proves the solution optimal for *the model that was
built*. If the builder leaves a row out (a node with no balance row), that certificate still
passes. This module shares no code with the builder
(:mod:`resiliopt.formulations.slice_lp`) or the matrix reader
(:mod:`resiliopt.solvers.matrix`) and imports neither: it builds its own view of the network
from the raw columns of the input (arc ends and capacities, each group's node, demand and
gain, TR, the names of the source and the sink, and any further node the input names) and
checks a solution given as plain numbers keyed by the input's own ids.

The problem, read from the input
    Nodes :math:`N = V \cup \{s, t\}`: the source :math:`s`, the sink :math:`t` and every
    road node :math:`V` *named anywhere in the input* (an arc end, a group's node, a listed
    node). Arcs :math:`e = (u_e, w_e)` with capacity :math:`C_e \ge 0`; groups :math:`j` on
    node :math:`v(j) \in V` with demand :math:`d_j \ge 0` and gain :math:`g_j`; resources
    :math:`TR \ge 0`.

    .. math::

        \max \sum_j g_j y_j \quad\text{s.t.}\quad
        r_v := \sum_{e: w_e = v} x_e - \sum_{e: u_e = v} x_e - \sum_{j: v(j) = v} y_j = 0
        \;\; \forall v \in V, \qquad
        \sum_{e: u_e = s} x_e \le TR, \qquad 0 \le x \le C, \quad 0 \le y \le d.

The solution checked
    Arc flows :math:`x_e` and deliveries :math:`y_j` (by id), node potentials :math:`p_v`
    (:math:`v \in V`: the value of one more unit at :math:`v`, in F_C) and the price of
    resources :math:`\lambda` (the dual of the TR row). From the usual shadow prices:
    :math:`p_v = -\text{dual}(\text{node\_balance}_v)` and :math:`\lambda =
    \text{dual}(\text{total\_resources})`. Set :math:`P_s = \lambda`, :math:`P_t = 0`,
    :math:`P_v = p_v`.

Checks (each a number; the solution passes when every one is at most ``tol``)
    * ``conservation``: :math:`\max_{v \in V} |r_v| / (1 + \text{in}_v + \text{out}_v)`
      (in: flow in; out: flow out plus deliveries), at *every* node the input names;
    * ``bounds``: the largest violation of :math:`x_e \le C_e` relative to :math:`1 + C_e`
      (:math:`y_j \le d_j` relative to :math:`1 + d_j`), or of :math:`x, y \ge 0`;
    * ``total_resources``: :math:`\max(0, \sum_{u_e = s} x_e - TR) / (1 + TR)`;
      each violation relative to its own size, so a large number elsewhere loosens nothing;
    * ``dual_sign``: :math:`\max(0, -\lambda)`, relative to :math:`1 + \|g\|_\infty`;
    * reduced costs from the potentials and the input graph, for every arc and group:
      :math:`z_e = P_{w_e} - P_{u_e}`, :math:`z_j = g_j - P_{v(j)}`. With
      :math:`\mu_e = z_e^+`, :math:`\nu_j = z_j^+` as the duals of the upper bounds the dual
      is feasible by construction (all bounds are finite), with dual objective

      .. math:: D = \lambda\,TR + \sum_e C_e z_e^+ + \sum_j d_j z_j^+ ;

    * ``complementary_slackness``: the total of :math:`z_e^+ (C_e - x_e) + z_e^- x_e` over
      arcs, :math:`z_j^+ (d_j - y_j) + z_j^- y_j` over groups and
      :math:`\lambda (TR - \sum_{u_e = s} x_e)`, relative to :math:`1 + |\text{obj}|` (each
      term is >= 0 for a feasible solution, so the total bounds every one of them);
    * ``gap``: :math:`|D - \text{obj}| / (1 + |\text{obj}|)` with
      :math:`\text{obj} = \sum_j g_j y_j` recomputed from the input gains;
    * ``objective_mismatch``: the solver's reported objective against obj (when given);
    * ``problems``: whatever makes the check impossible, each a sentence: an input arc or
      group with no value in the solution, a value for an id the input does not have, a
      node with arcs or groups but no potential, a group on the source or the sink, a
      negative or non-finite number.

Why this proves optimality (weak duality, on the input graph)
    For *any* :math:`(x', y')` feasible for the problem above, summing
    :math:`P_v r_v(x', y') = 0` over :math:`V` and regrouping by arcs and groups gives

    .. math::

        \sum_j g_j y'_j = \sum_e z_e x'_e + \sum_j z_j y'_j + \lambda \sum_{u_e = s} x'_e
        \le \sum_e C_e z_e^+ + \sum_j d_j z_j^+ + \lambda\, TR = D,

    since :math:`0 \le x' \le C`, :math:`0 \le y' \le d`, :math:`\lambda \ge 0`. So D bounds
    every feasible objective; a solution that is feasible (the first three checks) and
    whose objective equals D (the gap) is optimal, whatever the model or the solver did.
    For the solution itself the same identity gives
    :math:`D - \text{obj} = \sum(\text{complementary slackness terms}) + \sum_v P_v r_v`,
    so the gap and complementary slackness agree when conservation holds.

Declarative user constraints (docs/constraints.md)
    The case's declarative constraints are input data too: each row :math:`k` is read here
    from its type, ids and value (not from the model) as :math:`a_k^\top u \le b_k` or
    :math:`\ge b_k` over the columns (flow_cap: :math:`\sum_{e \in A} x_e \le \bar F`;
    tr_share: :math:`\sum_{j \notin G} y_j \le (1-s) TR`; min_delivery:
    :math:`\sum_{j \in G} y_j \ge \min(a, \sum_{j \in G} d_j)`; closure:
    :math:`x_e \le C_e o(t)`), with its dual :math:`\mu_k` (a shadow price: :math:`\ge 0` on
    a ``<=`` row, :math:`\le 0` on a ``>=`` row). The reduced costs become
    :math:`z - \sum_k \mu_k a_k`, the dual objective gains :math:`\sum_k \mu_k b_k`, and the
    check ``user_rows`` is the largest violation of a row relative to :math:`1 + |b_k|`, or of
    a dual's sign relative to :math:`1 + \|g\|_\infty`; their complementary slackness
    :math:`|\mu_k (b_k - a_k^\top u)|` joins the total. Weak duality holds as before, since
    :math:`\mu_k a_k^\top u' \le \mu_k b_k` for every feasible :math:`u'`.

What it does not prove
    That the input tables are the right ones (the damage, demands and gains of a case slice
    are computed upstream from the case files); anything about rows an *extension* (a Python
    hook) adds to a built model, or about any other edit of a built model (such a model is not
    the input's problem: the certificate then says it is inapplicable, or a binding extra
    constraint makes it fail, and the status is ``unverified``); optimality beyond the tolerance.

:class:`InputNetwork` builds the index arrays once (from the raw columns); :meth:`~InputNetwork.check`
is vectorized numpy, cheap enough to run on every slice of a Monte Carlo run
(:mod:`resiliopt.formulations.slice_compiled`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

TOL = 1e-7


@dataclass(frozen=True)
class InputCertificate:
    """The outcome of :func:`certify_input` (numbers are relative, see the module docstring)."""

    nodes: int
    conservation: float
    bounds: float
    total_resources: float
    dual_sign: float
    complementary_slackness: float
    gap: float
    objective: float
    dual_objective: float
    objective_mismatch: float | None = None
    worst: str = ""
    problems: tuple[str, ...] = ()
    tol: float = TOL
    user_rows: float = 0.0  # largest violation of a declarative user row or of its dual's sign
    user_count: int = 0  # declarative user rows checked

    @property
    def passed(self) -> bool:
        checks = [
            self.conservation,
            self.bounds,
            self.total_resources,
            self.dual_sign,
            self.complementary_slackness,
            self.gap,
            self.user_rows,
        ]
        if self.objective_mismatch is not None:
            checks.append(self.objective_mismatch)
        return not self.problems and all(math.isfinite(c) and c <= self.tol for c in checks)

    @property
    def applicable(self) -> bool:
        """False when the model has rows the input does not describe (an extension)."""
        return not any(p.startswith("inapplicable") for p in self.problems)

    def to_dict(self) -> dict:
        """Strict-JSON-safe dict (non-finite numbers become ``None``)."""

        def num(v):
            return None if v is None or not math.isfinite(v) else float(v)

        return {
            "nodes": self.nodes,
            "conservation": num(self.conservation),
            "bounds": num(self.bounds),
            "total_resources": num(self.total_resources),
            "dual_sign": num(self.dual_sign),
            "complementary_slackness": num(self.complementary_slackness),
            "gap": num(self.gap),
            "objective": num(self.objective),
            "dual_objective": num(self.dual_objective),
            "objective_mismatch": num(self.objective_mismatch),
            "worst": self.worst,
            "problems": list(self.problems),
            "applicable": self.applicable,
            "user_rows": num(self.user_rows),
            "user_count": self.user_count,
            "tol": self.tol,
            "passed": self.passed,
        }

    def summary(self) -> str:
        """One line: passed/FAILED and the numbers (and the first problem, if any)."""
        head = "passed" if self.passed else "FAILED"
        if not self.applicable:
            head = "INAPPLICABLE"
        line = (
            f"{head} (conservation {self.conservation:.1e} at {self.nodes} nodes, bounds "
            f"{self.bounds:.1e}, TR {self.total_resources:.1e}, compl. "
            f"{self.complementary_slackness:.1e}, gap {self.gap:.1e}"
            + (f", {self.user_count} user rows {self.user_rows:.1e}" if self.user_count else "")
            + ")"
        )
        if self.problems:
            line += f"; {self.problems[0]}"
        elif not self.passed and self.worst:
            line += f"; worst at {self.worst}"
        return line


def _strs(values: Iterable) -> list[str]:
    if hasattr(values, "tolist"):  # a pandas column or numpy array: Python values first (faster)
        values = values.tolist()
    return [str(v) for v in values]


class InputNetwork:
    """The slice's network, built from the raw input columns (no model code).

    Parameters are the input's own columns: arc ids, tails and heads; group ids and nodes;
    the source and sink names; ``nodes``: any further road nodes the input lists.
    """

    def __init__(
        self,
        arc_ids: Sequence,
        arc_from: Sequence,
        arc_to: Sequence,
        group_ids: Sequence,
        group_node: Sequence,
        source: str,
        sink: str,
        nodes: Iterable = (),
    ):
        self.source, self.sink = str(source), str(sink)
        self.arc_ids, tails, heads = _strs(arc_ids), _strs(arc_from), _strs(arc_to)
        self.group_ids, gnodes = _strs(group_ids), _strs(group_node)
        if not (len(self.arc_ids) == len(tails) == len(heads)) or len(self.group_ids) != len(gnodes):
            raise ValueError("input columns of different lengths")
        problems: list[str] = []
        if self.source == self.sink:
            problems.append(f"the source and the sink are the same node {self.source!r}")
        road: dict[str, int] = {}
        for name in [*tails, *heads, *gnodes, *_strs(nodes)]:
            if name not in (self.source, self.sink):
                road.setdefault(name, len(road))
        self.road_nodes = list(road)
        # node index: road nodes 0..n-1, then the source (n) and the sink (n+1)
        n = len(road)
        index = {**road, self.source: n, self.sink: n + 1}
        self.tail = np.array([index[u] for u in tails], dtype=np.int64)
        self.head = np.array([index[w] for w in heads], dtype=np.int64)
        self.gnode = np.array([index[v] for v in gnodes], dtype=np.int64)
        self.from_source = self.tail == n
        for k, (u, w) in enumerate(zip(tails, heads, strict=True)):
            if w == self.source:
                problems.append(f"arc {self.arc_ids[k]!r} enters the source {self.source!r}")
            if u == self.sink:
                problems.append(f"arc {self.arc_ids[k]!r} leaves the sink {self.sink!r}")
        for k, v in enumerate(gnodes):
            if v in (self.source, self.sink):
                problems.append(f"group {self.group_ids[k]!r} hangs off {v!r}, not a road node")
        for what, ids in (("arc", self.arc_ids), ("group", self.group_ids)):
            seen: set[str] = set()
            for i in ids:
                if i in seen:
                    problems.append(f"{what} id {i!r} appears twice in the input")
                seen.add(i)
        self.structural_problems = tuple(problems)
        self._arc_pos = {a: k for k, a in enumerate(self.arc_ids)}
        self._group_pos = {g: k for k, g in enumerate(self.group_ids)}
        self._node_pos = dict(road)
        # a road node needs a potential only where one enters a reduced cost
        used = np.zeros(n + 2, dtype=bool)
        used[self.tail] = used[self.head] = True
        used[self.gnode] = True
        self.node_used = used[:n]
        # the column view used by the check: arcs, then groups; group j is the paper's arc
        # v(j) -> b_j into its own building node b_j (index n + 2 + j), whose potential is g_j
        na, ng = len(self.arc_ids), len(self.group_ids)
        self.col_tail = np.r_[self.tail, self.gnode]
        self.col_head = np.r_[self.head, n + 2 + np.arange(ng, dtype=np.int64)]
        self.n_all = n + 2 + ng
        self._src_cols = np.flatnonzero(self.from_source)
        self._na = na

    @classmethod
    def from_slice(cls, data) -> InputNetwork:
        """From a slice's tables (``data.arcs``, ``data.groups``, ``source``, ``sink``,
        ``named_nodes``): raw columns only, never the model's node set."""
        a, g = data.arcs, data.groups
        return cls(
            a["arc"],
            a["from"],
            a["to"],
            g["group"],
            g["node"],
            data.source,
            data.sink,
            getattr(data, "named_nodes", ()),
        )

    # ------------------------------------------------------------------ solution by id
    def _by_id(self, what: str, pos: dict[str, int], values, problems: list[str]) -> np.ndarray:
        out = np.full(len(pos), np.nan)
        items = values.items() if isinstance(values, Mapping) else zip(values.index, values, strict=True)
        for k, v in items:
            i = pos.get(str(k))
            if i is None:
                problems.append(f"the solution has a value for {what} {str(k)!r}, which the input lacks")
            else:
                out[i] = float(v)
        return out

    def arrays(
        self, flows: Mapping, deliveries: Mapping, potentials: Mapping
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """The solution as arrays in input order; ``problems`` lists unknown ids."""
        problems: list[str] = []
        x = self._by_id("arc", self._arc_pos, flows, problems)
        y = self._by_id("group", self._group_pos, deliveries, problems)
        p = self._by_id("node", self._node_pos, potentials, problems)
        return x, y, p, problems

    # ------------------------------------------------------------------ the check
    def check(
        self,
        capacity: np.ndarray,
        demand: np.ndarray,
        gain: np.ndarray,
        total_resources: float,
        x: np.ndarray,
        y: np.ndarray,
        potentials: np.ndarray,
        tr_price: float,
        objective: float | None = None,
        tol: float = TOL,
        problems: Sequence[str] = (),
        user: Sequence | None = None,
        day: float = 0.0,
    ) -> InputCertificate:
        """Check a solution given as arrays in input order (arcs, groups, road nodes).

        ``potentials`` may hold NaN for a road node that no arc or group touches; anywhere
        else a missing value (NaN) is a problem.
        """
        na, ng, n = len(self.arc_ids), len(self.group_ids), len(self.road_nodes)
        arrays = {}
        for name, arr, size in (
            ("capacity", capacity, na),
            ("demand", demand, ng),
            ("gain", gain, ng),
            ("flow", x, na),
            ("delivery", y, ng),
            ("potential", potentials, n),
        ):
            arrays[name] = a = np.asarray(arr, dtype=float)
            if a.shape != (size,):
                raise ValueError(f"{name}: expected {size} values, got shape {a.shape}")
        return self.check_columns(
            np.concatenate([arrays["capacity"], arrays["demand"]]),
            arrays["gain"],
            total_resources,
            np.concatenate([arrays["flow"], arrays["delivery"]]),
            arrays["potential"],
            tr_price,
            objective=objective,
            tol=tol,
            problems=problems,
            user=user,
            day=day,
        )

    def check_columns(
        self,
        upper: np.ndarray,
        gain: np.ndarray,
        total_resources: float,
        u: np.ndarray,
        p: np.ndarray,
        tr_price: float,
        objective: float | None = None,
        tol: float = TOL,
        problems: Sequence[str] = (),
        user: Sequence | None = None,
        day: float = 0.0,
    ) -> InputCertificate:
        """The check on the column view (the fast path): ``upper`` = capacities then demands,
        ``u`` = flows then deliveries, ``p`` = potentials of the road nodes (all float arrays
        of the right sizes). ``user``: the declarative rows, ``(row, index, dual)`` each
        (``row`` with ``kind``, ``arcs``, ``groups``, ``value``, ``from_day``, ``until_day``;
        ``index`` the arc id of a closure row, else None), for the slice's first ``day``."""
        problems = [*self.structural_problems, *problems]
        na, n = self._na, len(self.road_nodes)
        tr, lam = float(total_resources), float(tr_price)
        g = gain
        # the data: finite, capacities, demands and TR >= 0 (one reduction each)
        if not math.isfinite(upper.sum() + g.sum() + tr):
            problems.append("a capacity, demand, gain or TR is not finite")
            upper, g = np.nan_to_num(upper), np.nan_to_num(g)
            tr = tr if math.isfinite(tr) else 0.0
        if min(float(upper.min(initial=0.0)), tr) < 0:
            problems.append("a capacity, demand or TR is negative")
        # the solution: a value for every arc and group, a potential wherever one is used
        if not math.isfinite(u.sum()):
            bad = np.flatnonzero(~np.isfinite(u))
            k = int(bad[0])
            what = f"arc {self.arc_ids[k]!r}" if k < na else f"group {self.group_ids[k - na]!r}"
            problems.append(f"no finite value for {what} ({len(bad)} in all)")
            u = np.nan_to_num(u, nan=0.0, posinf=0.0, neginf=0.0)
        if not math.isfinite(p.sum()):
            missing = np.flatnonzero(np.isnan(p) & self.node_used)
            if len(missing):
                problems.append(
                    f"no potential (node_balance dual) for node {self.road_nodes[int(missing[0])]!r} "
                    f"({len(missing)} node(s) in all): is the node in the model?"
                )
            if np.isinf(p).any():
                problems.append("a potential is infinite")
            p = np.nan_to_num(p, nan=0.0, posinf=0.0, neginf=0.0)
        if not math.isfinite(lam):
            problems.append("the price of TR is not finite")
            lam = 0.0

        # primal: conservation at every road node, bounds, the TR row
        inflow = np.bincount(self.col_head, weights=u, minlength=self.n_all)[:n]
        outflow = np.bincount(self.col_tail, weights=u, minlength=self.n_all)[:n]
        resid = inflow - outflow
        # each violation relative to its own size: a large capacity elsewhere loosens nothing
        rel_resid = np.abs(resid) / (1.0 + np.abs(inflow) + np.abs(outflow))
        cons = float(rel_resid.max(initial=0.0))
        room = upper - u  # >= 0 within the upper bounds
        bnd = max(0.0, -float((room / (1.0 + np.abs(upper))).min(initial=0.0)), -float(u.min(initial=0.0)))
        sent = float(u[self._src_cols].sum())
        trv = max(0.0, sent - tr) / (1.0 + abs(tr))
        worst = ""  # where the largest primal violation above the tolerance is
        if max(cons, bnd) > tol:
            if cons >= bnd:
                k = int(rel_resid.argmax())
                worst = f"node {self.road_nodes[k]!r} (in - out - delivered = {resid[k]:.6g})"
            else:
                viol = np.maximum(-u, -room)
                k = int(viol.argmax())
                worst = f"arc {self.arc_ids[k]!r}" if k < na else f"group {self.group_ids[k - na]!r}"
                worst += f" (outside its bounds by {viol[k]:.6g})"

        # dual: potentials on every node, reduced costs of every arc and group from the input graph
        pot = np.concatenate([p, (lam, 0.0), g])
        z = pot[self.col_head] - pot[self.col_tail]
        gscale = 1.0 + float(np.abs(g).max(initial=0.0))
        user_viol, user_dual, user_cs = 0.0, 0.0, 0.0
        for row, index, mu in user or ():
            cols, sense, b = self._user_row(row, index, upper, tr, day, problems)
            if cols is None:
                continue
            act = float(u[cols].sum())
            user_viol = max(user_viol, max(0.0, sense * (act - b)) / (1.0 + abs(b)))
            if not math.isfinite(mu):
                problems.append(f"the dual of the user row {row.name!r} is not finite")
                continue
            user_viol = max(user_viol, max(0.0, -sense * mu) / gscale)
            np.subtract.at(z, cols, mu)
            user_dual += mu * b
            user_cs += abs(mu * (b - act))
        zp = np.maximum(z, 0.0)
        obj = float(g @ u[na:])
        dual_obj = lam * tr + float(upper @ zp) + user_dual
        # sum over columns of z+ (upper - u) + z- u, and the TR row's lambda (TR - sent)
        cs = abs(float(zp @ room) + float((zp - z) @ u)) + abs(lam * (tr - sent)) + user_cs
        rel = 1.0 + abs(obj)
        return InputCertificate(
            nodes=n,
            conservation=cons,
            bounds=bnd,
            total_resources=trv,
            dual_sign=0.0 if lam >= 0 else -lam / (1.0 + float(np.abs(g).max(initial=0.0))),
            complementary_slackness=cs / rel,
            gap=abs(dual_obj - obj) / rel,
            objective=obj,
            dual_objective=dual_obj,
            objective_mismatch=None if objective is None else abs(float(objective) - obj) / rel,
            worst=worst,
            problems=tuple(problems),
            tol=tol,
            user_rows=user_viol,
            user_count=len(user or ()),
        )

    def _user_row(self, row, index, upper: np.ndarray, tr: float, day: float, problems: list[str]):
        """Columns, sense (+1: ``<=``, -1: ``>=``) and right-hand side of a declarative row,
        from its type and the input (docs/constraints.md)."""
        na = self._na
        arcs = [self._arc_pos[a] for a in row.arcs if a in self._arc_pos]
        groups = [na + self._group_pos[j] for j in row.groups if j in self._group_pos]
        if row.kind == "flow_cap":
            return np.array(arcs, dtype=np.int64), 1, float(row.value)
        if row.kind == "tr_share":
            inside = set(groups)
            rest = [na + k for k in range(len(self.group_ids)) if na + k not in inside]
            return np.array(rest, dtype=np.int64), 1, (1.0 - float(row.value)) * tr
        if row.kind == "min_delivery":
            cols = np.array(groups, dtype=np.int64)
            return cols, -1, min(float(row.value), float(upper[cols].sum()))
        if row.kind == "closure":
            k = self._arc_pos.get(str(index))
            if k is None:
                problems.append(f"the user row {row.name!r} names arc {index!r}, which the input lacks")
                return None, 0, 0.0
            is_open = not (row.from_day <= day < row.until_day)
            return np.array([k], dtype=np.int64), 1, float(upper[k]) * (1.0 if is_open else 0.0)
        problems.append(f"the user row {row.name!r} has a type ({row.kind!r}) this check does not know")
        return None, 0, 0.0


def certify_input(
    data,
    flows: Mapping,
    deliveries: Mapping,
    potentials: Mapping,
    tr_price: float,
    objective: float | None = None,
    tol: float = TOL,
    user_duals: Mapping | None = None,
) -> InputCertificate:
    """Check a slice solution against the slice's input tables.

    The slice's declarative user constraints (``data.constraints``) are checked from their
    definition, with their duals from ``user_duals`` keyed by ``(name, index)`` (index: the
    arc id of a closure row, else ``""``). A slice with an extension (``data.extension``) is
    not the input's problem: the certificate says so and does not pass.

    ``data``: anything with the tables of a slice (``arcs``: arc, from, to, capacity;
    ``groups``: group, node, capacity, gain; ``total_resources``, ``source``, ``sink`` and
    optionally ``named_nodes``). ``flows``/``deliveries``/``potentials``: mappings (or
    pandas Series) by arc id, group id and road node; ``tr_price``: the dual of the TR row.
    Potentials are values of one unit at a node: ``-dual(node_balance[v])``.
    """
    net = InputNetwork.from_slice(data)
    x, y, p, problems = net.arrays(flows, deliveries, potentials)
    if getattr(data, "extension", None) is not None:
        problems.append(
            "inapplicable: an extension added rows the input does not describe (the matrix "
            "certificate checks the extended model)"
        )
    user, duals = [], user_duals or {}
    for row in getattr(data, "constraints", ()):
        keys = [a for a in row.arcs if a in net._arc_pos] if row.kind == "closure" else [""]
        for key in keys:
            mu = duals.get((row.name, key))
            if mu is None:
                problems.append(f"no dual for the user row {row.name}[{key}]")
                mu = 0.0
            user.append((row, key or None, float(mu)))
    return net.check(
        data.arcs["capacity"].to_numpy(dtype=float),
        data.groups["capacity"].to_numpy(dtype=float),
        data.groups["gain"].to_numpy(dtype=float),
        data.total_resources,
        x,
        y,
        p,
        tr_price,
        objective=objective,
        tol=tol,
        problems=problems,
        user=user,
        day=float(getattr(data, "day", 0)),
    )
