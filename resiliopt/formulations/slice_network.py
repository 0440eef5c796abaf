r"""The slice LP solved as a network flow: greedy by gain, augmenting trees, potentials.

The slice LP (:mod:`~resiliopt.formulations.slice_lp`) is a single-source flow whose only
gains sit on the deliveries. Its deliverable vectors :math:`y` form a polymatroid: for a set
:math:`S` of groups let :math:`f(S)` be the maximum flow from the source RR into the groups of
:math:`S` (capacities :math:`C_e`, demands :math:`d_j`, at most :math:`TR` out of RR); then
:math:`y` is deliverable iff :math:`y \ge 0` and :math:`y(S) \le f(S)` for every :math:`S`.
A linear objective with :math:`g \ge 0` is maximized over a polymatroid by the greedy rule
(Edmonds): order the distinct positive gains :math:`g_{(1)} > g_{(2)} > \dots > g_{(K)}`, let
:math:`S_k` be the groups of gain at least :math:`g_{(k)}`, and reach :math:`y(S_k) = f(S_k)`
for every :math:`k` in turn, since

.. math:: \sum_j g_j y_j = \sum_{k=1}^{K} \bigl(g_{(k)} - g_{(k+1)}\bigr)\, y(S_k),
          \qquad g_{(K+1)} = 0 .

Level :math:`k` is one maximum-flow problem started from the flow of the levels before it:
augmenting paths from RR in the residual graph (forward arcs with room, backward arcs with
flow) to a group of the level with demand left. Paths never end at an earlier group, so
earlier deliveries stay. Paths are found many at a time: a breadth-first tree of the residual
graph from RR (scipy, C), every group of the level pushes its remaining demand along its tree
path, scaled by :math:`\theta_v = \min(1, \min_{e \text{ on the path}} r_e / D_e)` (room
:math:`r_e` over the demand :math:`D_e` below the tree arc, TR left at the root), which keeps
every arc within its room and saturates at least one arc when some :math:`\theta < 1`. The set
reachable from RR only shrinks while flow is pushed along paths inside it, so a group not
reached once is never reached later, and a level is done when a push reaches every group of
the level still reachable in full. Ties in gain are served in tree order: another optimal plan
than HiGHS's vertex may come out (same objective; docs/solvers.md).

**Duals from the flow.** With the bypass arc RR :math:`\to` RS of value 0 (unused TR), every
residual arc of a road has value 0 and every terminal arc (a group with demand left: value
:math:`g_j`; the bypass: 0) ends at RS, so the potential of one more unit at node :math:`v`
is

.. math:: p_v = \max\{ g_j : j \text{ with room}, v(j) \text{ reachable from } v
          \text{ in the residual graph} \} \cup \{0 : \text{RR reachable from } v\},

one Dijkstra search in the reversed residual graph from a super node with arcs of length
:math:`G - g_j` (:math:`G` the largest value): :math:`p_v = G - \text{dist}(v)`. Nodes that
reach no terminal get :math:`\min(0, \min_j g_j)`. The price of TR is
:math:`\lambda = p_{RR} \ge 0`. At an optimum the residual graph has no cycle of positive
value, which makes these potentials satisfy every reduced-cost sign and complementary
slackness; nothing here is trusted: the caller checks the flow and the potentials with the
matrix certificate and the input certificate, and solves by HiGHS when either fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from resiliopt.formulations.slice_compiled import CompiledSlice
from resiliopt.solvers.highs import lp_solution

#: a plain slice with at least this many arcs is solved by the network route by default (the
#: one-slice ``solve_slice(method="auto")`` and the Monte Carlo's :func:`compiled_slice`);
#: below it HiGHS takes milliseconds and the route would only add scipy's import
NETWORK_MIN_ARCS = 10_000
#: rounds (breadth-first trees) after which the network route gives up (HiGHS then solves)
MAX_ROUNDS = 400
#: distinct positive gains (levels) beyond which the route gives up: each level costs at least
#: one push along a tree, so thousands of distinct gains are HiGHS's job
MAX_LEVELS = 256
#: room or demand below this share of its own size counts as none
EPS = 1e-12


@dataclass
class NetworkSolution:
    """A flow and its duals, in input order: arcs, groups, nodes (``nodes[i]`` for index i)."""

    flow: np.ndarray
    delivery: np.ndarray
    potential: np.ndarray  # one per node of ``nodes`` (the source's is lambda, the sink's 0)
    tr_price: float
    objective: float
    rounds: int


def index_slice(data) -> tuple[list, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Node list and integer arrays of a slice's tables: ``(nodes, tail, head, gnode, s, t)``."""
    tails = data.arcs["from"].to_numpy(dtype=object)  # object arrays: hashed at C speed
    heads = data.arcs["to"].to_numpy(dtype=object)
    gnodes = data.groups["node"].to_numpy(dtype=object)
    names = pd.Index(
        pd.unique(np.concatenate([np.array([data.source, data.sink], dtype=object), tails, heads, gnodes]))
    )
    tail = names.get_indexer(tails).astype(np.int64)
    head = names.get_indexer(heads).astype(np.int64)
    gnode = names.get_indexer(gnodes).astype(np.int64)
    return list(names), tail, head, gnode, 0, 1


def solve_network(
    n: int,
    tail: np.ndarray,
    head: np.ndarray,
    cap: np.ndarray,
    gnode: np.ndarray,
    demand: np.ndarray,
    gain: np.ndarray,
    total_resources: float,
    s: int,
    t: int,
) -> NetworkSolution | None:
    """The greedy max-flow of the module docstring on nodes ``0..n-1`` (source ``s``, sink ``t``).

    Returns None where the route does not apply (an arc into the source or out of the sink, a
    group on the source or the sink, data not finite or negative) or gives up
    (:data:`MAX_ROUNDS`, :data:`MAX_LEVELS`): solve by HiGHS then.
    """
    from scipy.sparse import csr_matrix  # scipy on use: 0.3-0.7 s of start-up, large slices only
    from scipy.sparse.csgraph import breadth_first_order

    cap = np.asarray(cap, dtype=float)
    demand = np.asarray(demand, dtype=float)
    gain = np.asarray(gain, dtype=float)
    tr = float(total_resources)
    if (
        np.any(head == s)
        or np.any(tail == t)
        or np.any((gnode == s) | (gnode == t))
        or not np.isfinite(cap.sum() + demand.sum() + gain.sum() + tr)
        or cap.min(initial=0.0) < 0
        or demand.min(initial=0.0) < 0
        or tr < 0
    ):
        return None
    na = len(tail)
    x = np.zeros(na)
    y = np.zeros(len(gnode))
    usable = (head != t) & (tail != head)  # an arc into RS only loses what it carries
    tiny_c = EPS * (1.0 + cap)
    left = np.where((gain > 0) & (demand > 0), demand, 0.0)
    tiny_d = EPS * (1.0 + demand)
    tr_left = tr
    levels = np.unique(gain[left > 0])[::-1]
    if len(levels) > MAX_LEVELS:
        return None
    rounds = 0
    tree = None
    for g in levels:
        members = np.flatnonzero((gain == g) & (left > 0))
        while len(members) and tr_left > EPS * (1.0 + tr):
            if tree is None:
                rounds += 1
                if rounds > MAX_ROUNDS:
                    return None
                tree = _tree(n, tail, head, cap, x, usable, tiny_c, s, csr_matrix, breadth_first_order)
            done, tr_left = _push(tree, n, tail, cap, x, y, left, tiny_d, gnode, members, tr_left, s)
            members = members[left[members] > 0]
            if done:
                break  # every group of the level still reachable got all it asked for
            tree = None  # an arc (or TR) ran out: a new tree
    obj = float(np.sum(gain * y))  # not BLAS: see resiliopt/__init__.py
    pot = _potentials(n, tail, head, cap, x, usable, tiny_c, gnode, demand, gain, y, tiny_d, s, t)
    return NetworkSolution(x, y, pot, float(pot[s]), obj, rounds)


def _tree(n, tail, head, cap, x, usable, tiny_c, s, csr_matrix, breadth_first_order):
    """A breadth-first tree of the residual graph from ``s``: per reached node its parent, the
    residual arc used (arc index, direction +1 forward / -1 backward) and its room; the levels."""
    fwd = np.flatnonzero(usable & (cap - x > tiny_c))
    bwd = np.flatnonzero(usable & (x > tiny_c))
    ru = np.concatenate([tail[fwd], head[bwd]])
    rv = np.concatenate([head[fwd], tail[bwd]])
    room = np.concatenate([cap[fwd] - x[fwd], x[bwd]])
    arc = np.concatenate([fwd, bwd])
    sign = np.concatenate([np.ones(len(fwd)), -np.ones(len(bwd))])
    g = csr_matrix((np.ones(len(ru)), (ru, rv)), shape=(n, n))
    order, pred = breadth_first_order(g, s, directed=True, return_predecessors=True)
    order, pred = order.astype(np.int64), pred.astype(np.int64)  # int32: pred * n would overflow
    # for each tree edge (pred[v] -> v) the residual arc with the most room: among the arcs
    # from their head's parent, sorted by head then room, the last of each head
    kids = order[1:]
    cand = np.flatnonzero((pred[rv] == ru) & (rv != s))
    cand = cand[np.lexsort((room[cand], rv[cand]))]
    last = np.r_[rv[cand][1:] != rv[cand][:-1], True][: len(cand)]
    cand = cand[last]  # one per reached node but the root, sorted by node
    pick = cand[np.searchsorted(rv[cand], kids)]
    # levels: BFS order is sorted by depth, and the parents' positions are nondecreasing
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(len(order))
    pp = pos[pred[kids]]
    bounds = [0, 1]
    while bounds[-1] < len(order):
        end = bounds[-1]
        bounds.append(1 + int(np.searchsorted(pp, end, side="left")))
    return {
        "order": order,
        "pred": pred,
        "bounds": bounds,
        "arc": arc[pick],
        "sign": sign[pick],
    }


def _push(tree, n, tail, cap, x, y, left, tiny_d, gnode, members, tr_left, s):
    """Push the level's remaining demand along the tree; returns (every reachable group served
    in full, TR left)."""
    order, pred, bounds = tree["order"], tree["pred"], tree["bounds"]
    kids = order[1:]
    b = np.bincount(gnode[members], weights=left[members], minlength=n)
    reached = np.zeros(n, dtype=bool)
    reached[order] = True
    if not b[reached].any():
        return True, tr_left
    sub = b.copy()  # demand in each subtree
    for lo, hi in zip(bounds[-2:0:-1], bounds[-1:1:-1], strict=True):
        v = order[lo:hi]
        np.add.at(sub, pred[v], sub[v])
    theta = np.zeros(n)
    total = sub[s]
    theta[s] = 1.0 if total <= tr_left else tr_left / total
    tarc, tsign = tree["arc"], tree["sign"]
    room = np.zeros(n)  # from the flow now: a tree kept from an earlier level has less room
    room[kids] = np.maximum(np.where(tsign > 0, cap[tarc] - x[tarc], x[tarc]), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(sub > 0, room / np.where(sub > 0, sub, 1.0), np.inf)
    for lo, hi in zip(bounds[1:-1], bounds[2:], strict=True):
        v = order[lo:hi]
        theta[v] = np.minimum(theta[pred[v]], ratio[v])
    theta = np.minimum(theta, 1.0)
    sent = theta * b  # what each node receives
    f = sent.copy()
    for lo, hi in zip(bounds[-2:0:-1], bounds[-1:1:-1], strict=True):
        v = order[lo:hi]
        np.add.at(f, pred[v], f[v])
    fk = f[kids]
    moved = fk > 0
    arc, sign, rk = tarc[moved], tsign[moved], room[kids][moved]
    fk = fk[moved]
    full = fk >= rk * (1.0 - 1e-12)  # the bottleneck arcs: exactly saturated
    np.add.at(x, arc, sign * fk)
    sat = arc[full]
    x[sat] = np.where(sign[full] > 0, cap[sat], 0.0)
    np.clip(x, 0.0, cap, out=x)
    th = theta[gnode[members]]
    got = th * left[members]
    whole = th >= 1.0
    y[members] += np.where(whole, left[members], got)
    left[members] = np.where(whole, 0.0, left[members] - got)
    left[members[left[members] <= tiny_d[members]]] = 0.0
    out = float(f[s])  # what left the source: TR runs out exactly when it bound the push
    tr_left = 0.0 if out >= tr_left * (1.0 - 1e-12) else tr_left - out
    served = bool(np.all(theta[b > 0][reached[b > 0]] >= 1.0))
    return served, tr_left


def _potentials(n, tail, head, cap, x, usable, tiny_c, gnode, demand, gain, y, tiny_d, s, t):
    """The potentials of the module docstring (node ``t`` gets 0)."""
    from scipy.sparse import csr_matrix  # scipy on use (see solve_network)
    from scipy.sparse.csgraph import dijkstra

    # terminal values per node: a group with room (g_j), the bypass at the source (0), an
    # input arc into the sink with room (0)
    value = np.full(n, -np.inf)
    room_g = y < demand - tiny_d
    np.maximum.at(value, gnode[room_g], gain[room_g])
    value[s] = max(value[s], 0.0)
    into_t = (head == t) & (cap - x > tiny_c)
    np.maximum.at(value, tail[into_t], 0.0)
    value[t] = -np.inf
    top = float(value[np.isfinite(value)].max(initial=0.0))
    # reversed residual arcs (v -> u for a residual arc u -> v), length ~0, and the super node n
    fwd = usable & (cap - x > tiny_c)
    bwd = usable & (x > tiny_c)
    src = np.concatenate([head[fwd], tail[bwd]])
    dst = np.concatenate([tail[fwd], head[bwd]])
    term = np.flatnonzero(np.isfinite(value))
    src = np.concatenate([src, np.full(len(term), n)])
    dst = np.concatenate([dst, term])
    # csgraph reads a stored 0 as no arc: lengths 1e-300 per hop vanish against the gains
    w = np.concatenate([np.full(len(src) - len(term), 1e-300), np.maximum(top - value[term], 1e-300)])
    keep = dst != t
    g = csr_matrix((w[keep], (src[keep], dst[keep])), shape=(n + 1, n + 1))
    dist, pred = dijkstra(g, directed=True, indices=n, return_predecessors=True)
    # the terminal each shortest path starts from (pointer jumping): p_v is its value, exactly
    root = np.where(pred[:n] == n, np.arange(n), pred[:n])
    reach = np.isfinite(dist[:n])
    root = np.where(reach, root, 0)
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    low = min(0.0, float(gain.min(initial=0.0)))
    pot = np.where(reach, value[root], low)
    pot[t] = 0.0
    return pot


def network_solution(data, lp, meta: dict | None = None):
    """Solve a plain slice (no user rows) by :func:`solve_network` and return it as the
    :class:`~resiliopt.solvers.highs.Solution` HiGHS would give for ``lp`` (its
    :func:`~resiliopt.formulations.slice_compiled.slice_matrix`): column values, row duals
    (``-p_v`` on the balance row of v, :math:`\\lambda` on the TR row), reduced costs
    :math:`c - A^\\top y`, and the matrix certificate computed from ``lp``. None where the route
    does not apply or gives up."""
    if data.source == data.sink:
        return None
    nodes, tail, head, gnode, s, t = index_slice(data)
    sol = solve_network(
        len(nodes),
        tail,
        head,
        data.arcs["capacity"].to_numpy(dtype=float),
        gnode,
        data.groups["capacity"].to_numpy(dtype=float),
        data.groups["gain"].to_numpy(dtype=float),
        data.total_resources,
        s,
        t,
    )
    if sol is None:
        return None
    balance = np.asarray(lp.row_component) == "node_balance"
    where = pd.Index(nodes).get_indexer(pd.Index(np.asarray(lp.row_index, dtype=object)[balance]))
    if (where < 0).any():
        return None
    row_dual = np.empty(lp.shape[0])
    row_dual[balance] = -sol.potential[where]
    row_dual[~balance] = sol.tr_price  # the TR row, the only other row of a plain slice
    x = np.concatenate([sol.flow, sol.delivery])
    z = lp.c - lp.rmatvec(row_dual)
    out = lp_solution(lp, x, row_dual, z, sol.objective, NETWORK_VERSION, meta)
    out.solver = "network"
    return out


#: what the result tables name as the solver of the network route
NETWORK_VERSION = "greedy max-flow (resiliopt.formulations.slice_network)"


class NetworkSlice(CompiledSlice):
    """:class:`~resiliopt.formulations.slice_compiled.CompiledSlice` solved by the network
    route: the same updates, the same input certificate on every solve, and HiGHS (the
    compiled LP, kept up to date by :meth:`update`) where the route does not apply or its
    answer fails the certificate. For plain slices only (no user rows)."""

    def __init__(self, data, certify: bool = True):
        super().__init__(data, certify=certify)
        if self._user is not None:
            raise ValueError("the network route solves plain slices only (no user constraints)")
        if data.source == data.sink:
            raise ValueError("the network route needs a source and a sink that differ")
        nodes, self._tail, self._head, self._gnode, self._s, self._t = index_slice(data)
        self._n = len(nodes)
        balance = np.asarray(self.lp.row_component) == "node_balance"
        rows = pd.Index(np.asarray(self.lp.row_index, dtype=object)[balance])
        self._row_node = pd.Index(nodes).get_indexer(rows)
        self._balance = balance
        self._na = len(self.flow_cols)
        self.network_seconds = 0.0  # wall time in the network route, for benchmarks
        self.network_solves = 0
        self._pending: tuple | None = None  # data not yet passed to HiGHS (only its fallback needs them)

    def update(
        self, capacity: np.ndarray, demand: np.ndarray, gain: np.ndarray, total_resources: float, day: int = 0
    ):
        """Keep the data for the route and the certificate; HiGHS gets them only if it must solve."""
        self._upper = np.concatenate([np.asarray(capacity, dtype=float), np.asarray(demand, dtype=float)])
        self._gain = np.asarray(gain, dtype=float)
        self._tr, self._day = float(total_resources), day
        self._pending = (capacity, demand, gain, total_resources, day)

    def _highs(self) -> tuple[float, np.ndarray, np.ndarray]:
        if self._pending is not None:
            super().update(*self._pending)
            self._pending = None
        return super().solve()

    def solve(self) -> tuple[float, np.ndarray, np.ndarray]:
        t = time.perf_counter()
        na = self._na
        sol = solve_network(
            self._n,
            self._tail,
            self._head,
            self._upper[:na],
            self._gnode,
            self._upper[na:],
            self._gain,
            self._tr,
            self._s,
            self._t,
        )
        self.network_seconds += time.perf_counter() - t
        if sol is None:
            return self._highs()
        x = np.concatenate([sol.flow, sol.delivery])
        row_dual = np.empty(len(self._balance))
        row_dual[self._balance] = -sol.potential[self._row_node]
        row_dual[~self._balance] = sol.tr_price
        self._cold = True  # HiGHS's basis is not this solution's
        if self.certify:
            cert = self.check(x, row_dual, sol.objective)
            if not cert.passed:
                return self._highs()
            self.last_certificate = cert
        self.solves += 1
        self.network_solves += 1
        return sol.objective, x[self.flow_cols], x[self.delivery_cols]


def compiled_slice(data, certify: bool = True) -> CompiledSlice:
    """The compiled slice for the Monte Carlo: :class:`NetworkSlice` for a plain slice with at
    least :data:`NETWORK_MIN_ARCS` arcs, else :class:`CompiledSlice` (HiGHS, warm)."""
    plain = not data.constraints and data.extension is None and data.source != data.sink
    if plain and len(data.arcs) >= NETWORK_MIN_ARCS:
        return NetworkSlice(data, certify=certify)
    return CompiledSlice(data, certify=certify)
