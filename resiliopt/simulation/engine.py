"""One scenario's recovery, slice after slice, on the compiled fast path (docs/recovery.md).

At the start of each slice the state gives F_C, the sector functionalities, the arc
capacities, the groups' demands and gains; the slice LP routes resources; the deliveries
move each group's repair forward; repaired groups become functional and leave the graph.

When a slice's LP data equal the previous slice's (no group finished, no demand below full
speed, no bridge repaired), its optimum is the same, so the previous solution is reused
without calling HiGHS; this is exact, not an approximation. The reused optima are certified
against the data of the slice they are reused for (:mod:`resiliopt.simulation.reuse`): every
reused event, the last slice of every jump and a seeded sample of the rest.
"""

from __future__ import annotations

import os

import numpy as np

from resiliopt import community as fc_mod
from resiliopt.errors import SolveError
from resiliopt.formulations.slice_compiled import CompiledSlice
from resiliopt.formulations.slice_network import compiled_slice
from resiliopt.schemas import DAMAGE_STATES, SECTORS
from resiliopt.simulation.reuse import REUSE_SAMPLE, ReuseAudit
from resiliopt.simulation.scenario import CaseModel, RecoveryState, sample_scenario

SLICE_COLUMNS = [
    "scenario",
    "day",
    "fc",
    *[f"f_{s}" for s in SECTORS],
    "demand",
    "delivered",
    "unused",
    "supply_rate",
    "supply_rate_units",
    "unreachable_demand",
    "unmet_reachable",
    "unrepaired",
    "objective",
]


#: environment variable that selects the path of every worker's LP: ``full`` is the path before
#: issue 20 (every bound and cost sent each solve, every recheck computed); for the benchmark's
#: side-by-side runs (benchmarks/bench_montecarlo.py). The tables are the same either way.
LP_PATH_ENV = "RESILIOPT_LP_PATH"


def compiled_for(cm: CaseModel) -> CompiledSlice:
    """The fast-path LP for a case: every group, built once per worker."""
    sc = sample_scenario(cm, 0, 0)
    lp = compiled_slice(RecoveryState(cm, sc).slice_data(only_active=False))  # network route: large
    lp.incremental = os.environ.get(LP_PATH_ENV, "lean") != "full"
    return lp


def run_scenario(
    cm: CaseModel,
    seed: int,
    index: int,
    days: int,
    lp: CompiledSlice,
    stop_day: int | None = None,
    reuse_check: float | None = REUSE_SAMPLE,
):
    """Simulate scenario ``index`` for ``days`` days, jumping from event to event.

    Returns ``(slices, summary, state)``: ``slices`` a dict of equal-length arrays (one entry
    per slice, columns :data:`SLICE_COLUMNS`), ``summary`` a dict for the scenario table, and
    the final :class:`RecoveryState`. ``stop_day`` ends early (used by ``resiliopt slice --day``).
    ``reuse_check``: the reused optima are certified (:class:`~resiliopt.simulation.reuse.ReuseAudit`:
    every reused event, the last slice of every jump, and this share of the other slices of a
    jump; 1.0: every reused slice; None: none, for benchmarks). The tables do not depend on it.

    Between two events (a group finishes, a group's work left falls below its full-speed
    demand, a bridge is repaired) every slice's LP data are those of the slice before, so its
    row is the same; the rows in between are filled at once and the work left is advanced by
    a cumulative sum (the same floating-point subtractions, in the same order, as one slice at a
    time), so the tables and the final state are bit-identical to :func:`run_scenario_stepwise`.
    HiGHS is called on exactly the same slices as there, with the same data.
    """
    sc = sample_scenario(cm, seed, index)
    st = RecoveryState(cm, sc)
    lp.reset()
    audit = None if reuse_check is None else ReuseAudit(st, lp, seed, index, reuse_check)
    dt = cm.slice_days
    n = -(-days // dt)
    if stop_day is not None:
        n = min(n, stop_day // dt)
    cols = {k: np.zeros(n) for k in SLICE_COLUMNS}
    dam, clamp = cm.case.dam, cm.case.community.clamp
    rate = cm.rate
    finite = np.isfinite(st.work_total)
    tiny = 1e-9 * np.where(finite, st.work_total, 1.0)  # "finished" as in RecoveryState.advance
    due = _bridge_due(cm, st.bridge_state)
    last = None
    y = np.zeros(cm.n_groups)
    obj = 0.0
    tr = st.total_resources()
    settled = not cm.case.case.recovery.bridge_repair_days  # no state change once demand is 0
    # a group unsafe with no work at all (zero count or repair time) finishes on the first slice
    pending = bool(np.any(st.unsafe & finite & (st.work_left <= tiny)))
    sectors = [cols[f"f_{s}"] for s in SECTORS]
    k = 0
    new_unsafe = new_bridges = True  # what changed at this event (the rest is reused as is)
    reach, reach_key = None, None  # which groups the source reaches, and the day key it is for
    lean = getattr(lp, "incremental", True)  # False: reachability every slice (the path before issue 20)
    while k < n:
        if new_unsafe:
            l = st.sector_loss()
            fc = float(fc_mod.functionality(l, dam, clamp))
            gain = None
            unrepaired = int(st.unsafe.sum())
        demand = st.demand()
        total_demand = float(demand.sum())
        if total_demand > 0:
            if new_bridges:
                cap = st.arc_capacity()
                reach = None
            if gain is None:
                gain = st.gains(l)
            obj, y, last = _solve_day(lp, st, demand, cap, gain, tr, last, index, obj, y, audit)
            if lean:  # reachability changes with the capacities and the closures alone
                key = lp.day_key(st.day)
                if reach is None or key != reach_key:
                    reach, reach_key = st.reachable(lp.open_capacity(cap, st.day)), key
            else:
                reach = st.reachable(lp.open_capacity(cap, st.day))
            r, unreach, unmet, r_units = _day_rates(st, demand, gain, y, reach)
        elif settled:
            # nothing left to repair and no bridge repair model: every later slice is this one
            rest = slice(k, n)
            cols["day"][rest] = st.day + dt * np.arange(n - k)
            cols["fc"][rest] = fc
            for i, col in enumerate(sectors):
                col[rest] = 1.0 - l[i]
            for name in ("demand", "delivered", "objective"):
                cols[name][rest] = 0.0
            cols["unused"][rest] = tr
            cols["supply_rate"][rest] = 1.0
            cols["supply_rate_units"][rest] = 1.0
            cols["unrepaired"][rest] = unrepaired
            st.day += dt * (n - k)
            break
        else:
            y = np.zeros(cm.n_groups)
            obj, r, last = 0.0, 1.0, None
            unreach, unmet, r_units = 0.0, 0.0, 1.0
        # slices k .. k+m-1 are this one; slice k+m is the next event (or the end)
        limit = n - k
        if pending:
            limit, pending = 1, False
        up = st.bridge_state > 0
        if up.any():
            nxt = due[up]
            nxt = nxt[np.isfinite(nxt)]
            if nxt.size:
                limit = min(limit, max(1, int(np.ceil((nxt.min() - st.day) / dt))))
        change = lp.next_change(st.day)  # a user closure starts or ends (docs/constraints.md)
        if np.isfinite(change):
            limit = min(limit, max(1, int(np.ceil((change - st.day) / dt))))
        m, work = _jump(st.work_left, y, rate, tiny, limit)
        if audit is not None and last is not None:  # slices k+1 .. k+m-1 reuse the optimum of last[4]
            audit.jump(y, m, last[4])
        rows = slice(k, k + m)
        delivered = float(y.sum())
        cols["day"][rows] = st.day + dt * np.arange(m)
        cols["fc"][rows] = fc
        for i, col in enumerate(sectors):
            col[rows] = 1.0 - l[i]
        cols["demand"][rows] = total_demand
        cols["delivered"][rows] = delivered
        cols["unused"][rows] = tr - delivered
        cols["supply_rate"][rows] = r
        cols["supply_rate_units"][rows] = r_units
        cols["unreachable_demand"][rows] = unreach
        cols["unmet_reachable"][rows] = unmet
        cols["unrepaired"][rows] = unrepaired
        cols["objective"][rows] = obj
        new_unsafe, new_bridges = _settle(st, work, finite, tiny, due, m)
        k += m
    cols["scenario"][:] = index
    return cols, scenario_summary(cm, sc, cols, st), st


def _same_data(last, demand, cap, gain, key) -> bool:
    """The reuse rule at an event: the slice's LP data equal those of the LP last solved."""
    return (
        np.array_equal(demand, last[0])
        and np.array_equal(cap, last[1])
        and np.array_equal(gain, last[2])
        and key == last[3]
    )


def _solve_day(
    lp: CompiledSlice,
    st: RecoveryState,
    demand,
    cap,
    gain,
    tr: float,
    last,
    index: int,
    obj,
    y,
    audit: ReuseAudit | None = None,
):
    """The slice LP of day ``st.day``: solved by HiGHS, or the previous optimum when its data
    (demand, capacities, gains, the user closures of the day) equal the previous slice's; a
    reused optimum is certified against this slice's data when ``audit`` is given.

    Returns ``(objective, deliveries, last)``; ``last`` is the data of the LP last solved and
    its day.
    """
    key = lp.day_key(st.day)  # user closures: the LP also depends on the day
    if last is None or not _same_data(last, demand, cap, gain, key):
        lp.update(cap, demand, gain, tr, st.day)
        try:
            obj, _, y = lp.solve()
        except SolveError as exc:  # say which slice
            raise SolveError(f"scenario {index}, day {st.day}: {exc}", exc.status) from None
        y = np.minimum(np.maximum(y, 0.0), demand)
        last = (demand, cap, gain, key, st.day)
    elif audit is not None:
        audit.event(last[4])
    return obj, y, last


def _day_rates(st: RecoveryState, demand, gain, y, reach) -> tuple[float, float, float, float]:
    """Supply rate (eq. 19), unreachable demand, unmet reachable demand and the unit supply rate
    of deliveries ``y``; ``reach``: the groups a path of open arcs leads to from the source."""
    return (
        st.supply_rate(y, demand, gain),
        float(demand[~reach].sum()),
        max(float((demand - y)[reach].sum()), 0.0),
        st.unit_supply_rate(y, demand),
    )


def _bridge_due(cm: CaseModel, state: np.ndarray) -> np.ndarray:
    """Day from which each bridge counts as repaired (inf: never), by its initial state."""
    repair = cm.case.case.recovery.bridge_repair_days or {}
    due = [repair.get(DAMAGE_STATES[s]) if s > 0 else None for s in state]
    return np.array([np.inf if d is None else float(d) for d in due], dtype=float)


def _jump(work: np.ndarray, y: np.ndarray, rate: np.ndarray, tiny: np.ndarray, limit: int):
    """Slices ``m`` (1..limit) until the next event under constant deliveries ``y``, and the
    work left after them.

    An event after ``m`` slices: a delivered-to group's work left is below its full-speed
    demand (its demand changes) or at most ``tiny`` (it is finished). The work left after
    ``m`` slices is ``((w - y) - y) - ...``, computed by ``np.cumsum`` over rows
    ``[w, -y, -y, ...]``, which performs exactly these subtractions in this order.
    """
    act = np.flatnonzero(y > 0)
    if act.size == 0:
        return limit, work
    wa, ya, ra, ta = work[act], y[act], rate[act], tiny[act]
    if limit == 1 or np.any(wa < ra):  # below full speed: its demand changes every slice
        return 1, work - y
    est = np.minimum(np.floor((wa - ra) / ya) + 1.0, float(limit))
    horizon = min(limit, int(est.min()) + 2)
    base, done_steps = wa, 0
    while True:
        seq = np.empty((horizon + 1, act.size))
        seq[0] = base
        seq[1:] = -ya
        np.cumsum(seq, axis=0, out=seq)
        hit = np.flatnonzero(((seq[1:] < ra) | (seq[1:] <= ta)).any(axis=1))
        if hit.size or done_steps + horizon >= limit:
            m = int(hit[0]) + 1 if hit.size else horizon
            out = work.copy()
            out[act] = seq[m]
            return done_steps + m, out
        base, done_steps = seq[horizon], done_steps + horizon
        horizon = min(limit - done_steps, 2 * horizon)


def _settle(st: RecoveryState, work: np.ndarray, finite, tiny, due, m: int) -> tuple[bool, bool]:
    """Move ``st`` on by ``m`` slices given the work left after them (as ``advance`` m times);
    returns whether the unsafe set and the bridge states changed."""
    done = st.unsafe & finite & (work <= tiny)
    new_unsafe = bool(done.any())
    if new_unsafe:
        st.unsafe = st.unsafe & ~done
        work = np.where(done, 0.0, work)
    st.work_left = work
    st.day += st.cm.slice_days * m
    fixed = (st.bridge_state > 0) & (due <= st.day)
    new_bridges = bool(fixed.any())
    if new_bridges:
        st.bridge_state[fixed] = 0
    return new_unsafe, new_bridges


def run_scenario_stepwise(
    cm: CaseModel,
    seed: int,
    index: int,
    days: int,
    lp: CompiledSlice,
    stop_day: int | None = None,
    reuse_check: float | None = None,
):
    """The reference implementation: one slice after the other (kept as the specification).

    :func:`run_scenario` gives bit-identical results by jumping from event to event;
    ``tests/test_event_engine.py`` compares the two. ``reuse_check`` (off by default here):
    every slice that reuses the previous optimum is certified against its own data.

    Returns ``(slices, summary, state)``: ``slices`` a dict of equal-length arrays (one entry
    per slice, columns :data:`SLICE_COLUMNS`), ``summary`` a dict for the scenario table, and
    the final :class:`RecoveryState`. ``stop_day`` ends early (used by ``resiliopt slice --day``).
    """
    sc = sample_scenario(cm, seed, index)
    st = RecoveryState(cm, sc)
    lp.reset()
    audit = None if reuse_check is None else ReuseAudit(st, lp, seed, index, reuse_check)
    dt = cm.slice_days
    n = -(-days // dt)
    if stop_day is not None:
        n = min(n, stop_day // dt)
    cols = {k: np.zeros(n) for k in SLICE_COLUMNS}
    dam, clamp = cm.case.dam, cm.case.community.clamp
    last = None
    y = np.zeros(cm.n_groups)
    obj = 0.0
    tr = st.total_resources()
    settled = not cm.case.case.recovery.bridge_repair_days  # no state change once demand is 0
    for k in range(n):
        l = st.sector_loss()
        fc = float(fc_mod.functionality(l, dam, clamp))
        demand = st.demand()
        cols["day"][k] = st.day
        cols["fc"][k] = fc
        for i, s in enumerate(SECTORS):
            cols[f"f_{s}"][k] = 1.0 - l[i]
        total_demand = float(demand.sum())
        if total_demand > 0:
            cap = st.arc_capacity()
            gain = st.gains(l)
            obj, y, last = _solve_day(lp, st, demand, cap, gain, tr, last, index, obj, y, audit)
            reach = st.reachable(lp.open_capacity(cap, st.day))
            r, unreach, unmet, r_units = _day_rates(st, demand, gain, y, reach)
            cols["unreachable_demand"][k] = unreach
            cols["unmet_reachable"][k] = unmet
            cols["supply_rate_units"][k] = r_units
        elif settled:
            # nothing left to repair and no bridge repair model: every later slice is this one
            rest = slice(k, n)
            for name in SLICE_COLUMNS:
                if name not in ("scenario", "day", "fc") and not name.startswith("f_"):
                    cols[name][rest] = 0.0
            cols["day"][rest] = st.day + dt * np.arange(n - k)
            for name in ("fc", *[f"f_{s}" for s in SECTORS]):
                cols[name][rest] = cols[name][k]
            cols["unused"][rest] = tr
            cols["supply_rate"][rest] = 1.0
            cols["supply_rate_units"][rest] = 1.0
            cols["unrepaired"][rest] = int(st.unsafe.sum())
            st.day += dt * (n - k)
            break
        else:
            y = np.zeros(cm.n_groups)
            obj, r, last = 0.0, 1.0, None
            cols["supply_rate_units"][k] = 1.0
        delivered = float(y.sum())
        cols["demand"][k] = total_demand
        cols["delivered"][k] = delivered
        cols["unused"][k] = tr - delivered
        cols["supply_rate"][k] = r
        cols["unrepaired"][k] = int(st.unsafe.sum())
        cols["objective"][k] = obj
        st.advance(y)
    cols["scenario"][:] = index
    return cols, scenario_summary(cm, sc, cols, st), st


def scenario_summary(cm: CaseModel, sc, cols: dict, st: RecoveryState) -> dict:
    """The scenario table's row from a scenario's slice columns and final state."""
    thr = cm.case.community.threshold
    fc_end = st.functionality()
    fcs = np.append(cols["fc"], fc_end)
    days_axis = np.append(cols["day"], st.day)
    reach = np.flatnonzero(fcs >= thr)
    repaired_all = not st.unsafe.any()
    summary = {
        "scenario": sc.index,
        "pga": sc.pga,
        "fc0": float(fcs[0]),
        "fc_end": fc_end,
        "days_to_threshold": float(days_axis[reach[0]]) if len(reach) else np.nan,
        "days_to_full": float(_full_day(cols, st)) if repaired_all else np.nan,
        "damaged_groups": int((sc.group_state >= 2).sum()),
        "collapsed_groups": int((sc.group_state == 4).sum()),
        "damaged_bridges": int((sc.bridge_state >= 1).sum()),
        "delivered_total": float(cols["delivered"].sum()),
        "unreachable_share_day0": (
            float(cols["unreachable_demand"][0] / cols["demand"][0])
            if len(cols["demand"]) and cols["demand"][0] > 0
            else 0.0
        ),
    }
    return summary


def _full_day(cols: dict, st: RecoveryState) -> float:
    """First day at whose start no group is unsafe."""
    idx = np.flatnonzero(cols["unrepaired"] == 0)
    return float(cols["day"][idx[0]]) if len(idx) else float(st.day)
